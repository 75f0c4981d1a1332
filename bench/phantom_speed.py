"""Phantom generation speed and memory: one row per seed, in a fresh process each.

Run: ``python bench/phantom_speed.py [--seeds 0 1 2] [--variety wide]``. Prints a table
(not a test).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from nvc.phantom.params import VARIETIES

CHILD = """
import json, resource, time
from nvc.phantom import make_case
t = time.perf_counter()
case = make_case({seed}, {variety!r})
dt = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": dt, "peak_mb": rss, "t2": case.t2.shape, "mra": case.mra.shape}}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variety", choices=VARIETIES, default="standard")
    args = parser.parse_args(argv)
    print(f"{args.variety} variety")
    print(f"{'seed':>6} {'seconds':>8} {'peak MB':>8}  T2 grid          TOF grid")
    for seed in args.seeds:
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(seed=seed, variety=args.variety)],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        grids = f"{tuple(r['t2'])!s:<16} {tuple(r['mra'])}"
        print(f"{seed:>6} {r['seconds']:>8.1f} {r['peak_mb']:>8.0f}  {grids}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
