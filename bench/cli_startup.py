"""Start-up time of the ``nvc`` command: ``--help`` of each command in a fresh process.

Run: ``python -m bench.cli_startup [--repeats 5]``. Prints a table (not a test):
median and worst wall time from process start to exit (the Python interpreter's
own start included) and which optional libraries the command imported.
``nvc --help`` imports only the command table; each command imports its own module.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

#: Optional (extras) and heavy core libraries looked for in ``sys.modules``.
WATCHED = (
    "matplotlib",
    "reportlab",
    "jinja2",
    "dask",
    "distributed",
    "napari",
    "numpy",
    "SimpleITK",
)

CHILD = """
import json, sys
from nvc_pipelines.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
sys.stdout = sys.__stdout__
print(json.dumps([m for m in {watched!r} if m in sys.modules]))
"""


def measure(argv: list[str], repeats: int) -> tuple[list[float], list[str]]:
    """Wall seconds of ``repeats`` fresh runs of ``nvc ARGV`` and the watched modules imported."""
    code = CHILD.format(argv=argv, watched=WATCHED)
    times: list[float] = []
    imported: list[str] = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        )
        times.append(time.perf_counter() - start)
        imported = json.loads(out.stdout.strip().splitlines()[-1])
    return times, imported


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    base, _ = measure_python(args.repeats)
    print(f"bare Python start-up (python -c pass): median {base:.3f} s\n")
    print("| command | wall s, median | wall s, max | libraries imported |")
    print("|---|---|---|---|")
    for command in ([], ["run"], ["phantom"], ["report"], ["batch"], ["view"], ["demo"]):
        times, imported = measure([*command, "--help"], args.repeats)
        name = " ".join(["nvc", *command, "--help"])
        print(
            f"| `{name}` | {statistics.median(times):.3f} | {max(times):.3f} | "
            f"{', '.join(imported) or 'none'} |"
        )
    return 0


def measure_python(repeats: int) -> tuple[float, float]:
    """Median and max wall seconds of a bare ``python -c pass``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times)


if __name__ == "__main__":
    raise SystemExit(main())
