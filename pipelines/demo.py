"""``nvc demo``: the main job on the built-in phantom, verdicts printed beside the truth."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from nvc import DISCLAIMER
from nvc.io import load_volume
from nvc.io.bids import read_participants
from nvc.io.jsonfile import read_json
from nvc.vocabulary import SIDES, closed
from nvc_pipelines.case import run_case
from nvc_pipelines.config import PipelineConfig
from nvc_pipelines.errors import EXIT_OK, run_guarded
from nvc_pipelines.outputs import save_case
from nvc_pipelines.phantom_cohort import generate, truth_dir
from nvc_pipelines.report import write_report
from nvc_pipelines.run import verdict_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nvc demo``."""
    parser.add_argument("--out", type=Path, default=Path("demo_out"), help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="phantom cohort seed")


def run(args: argparse.Namespace) -> int:
    """Body of ``nvc demo``: make a phantom case, analyse it, compare with its truth."""

    def body() -> int:
        print(f"nvc demo: {DISCLAIMER}")
        data = args.out / "phantom"
        print(f"1. phantom case written as BIDS to {data} (truth in {truth_dir(data)}):")
        generate(data, 1, args.seed)
        anat = data / "sub-01" / "anat"
        t2_path, mra_path = anat / "sub-01_T2w.nii.gz", anat / "sub-01_angio.nii.gz"
        side = read_participants(data)["sub-01"]["hfs_side"]
        print(f"2. nvc run --t2 {t2_path} --mra {mra_path} --side {side}")
        config = PipelineConfig()
        t0 = time.perf_counter()
        result = run_case(
            load_volume(t2_path),
            load_volume(mra_path),
            symptomatic_side=closed(side, SIDES, "side"),
            config=config,
        )
        out = args.out / "results" / "sub-01"
        save_case(result, out, config, inputs={"t2": t2_path, "mra": mra_path})
        print(f"   analysed in {time.perf_counter() - t0:.1f} s; results in {out}")
        html = write_report(out)
        print(f"   report: {html} and {html.with_suffix('.pdf').name} (nvc report {out})")
        truth = read_json(truth_dir(data) / "sub-01" / "sub-01_truth.json")
        print("3. verdicts beside the truth:")
        for s, f in result.findings.sides.items():
            t = truth["sides"][s]
            mine = f"NVC={_yes(f.nvc)} MVD={_yes(f.mvd_candidate)}"
            print(f"   {s:>5} nvc:   {mine} | {verdict_line(f)}")
            where = "no offender"
            if t["offender"] != "none":
                where = f"{t['offender']} at {t['segment']}, gap {t['gap_mm']} mm"
            real = f"NVC={_yes(t['nvc'])} MVD={_yes(t['mvd_candidate'])}"
            print(f"   {s:>5} truth: {real} | {t['scenario']}: {where}")
        return EXIT_OK

    return run_guarded(body)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no "
