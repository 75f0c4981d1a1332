"""Accuracy of the whole pipeline against phantom truth.

Run: ``python -m bench.accuracy --cases 30 --seed 5000 [--workers 2] [--variety wide]``.
Prints a table (markdown) of side-level NVC sensitivity/specificity,
MVD-candidate accuracy, vessel class/name and segment accuracy, distance
error, Dice per structure, registration error and time per case. Development
used seeds 1000-1099; report on others.

``--variety wide`` draws the cases from the phantom's wide variety
(``nvc.phantom.draw_params(seed, variety="wide")``: anatomy families, decoy
cranial nerves VI, IX and X, CISS/FIESTA/SPACE contrast, 1.5 T noise, coarse
grids, larger pose and misregistration): a check, short of an independent
generator, that the method is not tuned to the ranges it was developed on.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from nvc.labels import Label
from nvc.phantom import make_case
from nvc.phantom.params import VARIETIES, Variety
from nvc.registration import target_registration_error
from nvc.volume import apply_affine
from nvc_pipelines.case import run_case


def _dice(a: np.ndarray, b: np.ndarray) -> float | None:
    total = int(a.sum() + b.sum())
    return None if total == 0 else 2.0 * float((a & b).sum()) / total


def _to_porus(case: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Voxels nearer to CN VII's centerline before the porus than to its canal part.

    Voxels farther than 4 mm from the centerline count as before the porus
    (a CN VII drawn there is wrong either way).
    """
    vox = np.indices(shape).reshape(3, -1).T
    world = apply_affine(case.labels.affine, vox)
    keep = np.ones(len(vox), bool)
    for side, line in case.truth.cn7_centerlines.items():
        arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(line, axis=0), axis=1))])
        dist, idx = cKDTree(line).query(world, distance_upper_bound=4.0)
        near = np.isfinite(dist)
        keep[near] &= arc[idx[near]] <= case.truth.sides[side].porus_mm
    return keep.reshape(shape)


def evaluate(seed: int, *, variety: Variety = "standard") -> dict[str, Any]:
    """Run one phantom case of a variety and compare every output with its truth."""
    case = make_case(seed, variety)
    t0 = time.perf_counter()
    try:
        result = run_case(case.t2, case.mra, symptomatic_side=case.truth.hfs_side)
    except Exception as exc:
        return {"seed": seed, "error": f"{type(exc).__name__}: {exc}"}
    seconds = time.perf_counter() - t0
    pred = result.labels.array
    truth = case.labels.array
    dice = {
        "brainstem": _dice(pred == Label.BRAINSTEM, truth == Label.BRAINSTEM),
        "cn7": _dice(pred == Label.CN7, truth == Label.CN7),
        "cn7+8": _dice(
            np.isin(pred, [Label.CN7, Label.CN8]), np.isin(truth, [Label.CN7, Label.CN8])
        ),
        "artery": _dice(pred == Label.ARTERY, truth == Label.ARTERY),
        "vein": _dice(pred == Label.VEIN, truth == Label.VEIN),
    }
    # CN VII from the root exit point to the porus only (the part nvc traces; the
    # phantom also draws the nerve in the internal auditory canal)
    cisternal = _to_porus(case, pred.shape)
    dice["cn7_to_porus"] = _dice((pred == Label.CN7) & cisternal, (truth == Label.CN7) & cisternal)
    reg = np.array(result.findings.registration["t2_to_mra_ras"])
    pts = np.concatenate(list(case.truth.cn7_centerlines.values()))
    tre = float(target_registration_error(reg, case.truth.t2_to_mra, pts).mean())
    sides = []
    for side, t in case.truth.sides.items():
        f = result.findings.sides[side]
        row: dict[str, Any] = {
            "side": side,
            "truth_nvc": t.nvc,
            "truth_mvd": t.mvd_candidate,
            "pred_nvc": f.nvc,
            "pred_mvd": f.mvd_candidate,
            "confidence": f.confidence,
            "needs_review": f.needs_review,
            "nerve_found": f.nerve_found,
            "scenario": t.scenario,
            "truth_rdp": t.rdp_mm,
            "pred_rdp": f.rdp_mm,
            "matches": [],
        }
        for tc in t.contacts:
            loc = np.array(tc.location_ras_mm)
            best = None
            for pc in f.contacts:
                d = float(np.linalg.norm(np.array(pc.location_ras_mm) - loc))
                if d <= 3.0 and (best is None or d < best[0]):
                    best = (d, pc)
            match = {
                "truth_class": tc.vessel_class,
                "truth_name": tc.vessel_name,
                "truth_segment": tc.segment,
                "truth_gap": tc.gap_mm,
                "truth_s": tc.distance_from_rexp_mm,
                "found": best is not None,
            }
            if best is not None:
                pc = best[1]
                match.update(
                    pred_class=pc.vessel_class,
                    pred_name=pc.vessel_name,
                    pred_segment=pc.segment,
                    pred_gap=pc.min_distance_mm,
                    pred_s=pc.distance_from_rexp_mm,
                    location_error=best[0],
                )
            row["matches"].append(match)
        sides.append(row)
    return {"seed": seed, "seconds": seconds, "dice": dice, "tre_mm": tre, "sides": sides}


def summarize(results: list[dict[str, Any]]) -> str:
    """Markdown table of the cohort's accuracy."""
    ok = [r for r in results if "error" not in r]
    sides = [s for r in ok for s in r["sides"]]
    tp = sum(s["truth_nvc"] and s["pred_nvc"] for s in sides)
    fn = sum(s["truth_nvc"] and not s["pred_nvc"] for s in sides)
    tn = sum(not s["truth_nvc"] and not s["pred_nvc"] for s in sides)
    fp = sum(not s["truth_nvc"] and s["pred_nvc"] for s in sides)
    mvd = [s["truth_mvd"] == s["pred_mvd"] for s in sides]
    matches = [m for s in sides for m in s["matches"] if m["truth_gap"] <= 0.05]
    found = [m for m in matches if m["found"]]
    all_found = [m for s in sides for m in s["matches"] if m["found"]]
    tre = [r["tre_mm"] for r in ok]
    rdp_err = [abs(s["pred_rdp"] - s["truth_rdp"]) for s in sides if s["pred_rdp"] is not None]

    def frac(values: list[bool]) -> str:
        return f"{np.mean(values):.2f} ({sum(values)}/{len(values)})" if values else "n/a"

    def med(key: str) -> str:
        v = [r["dice"][key] for r in ok if r["dice"][key] is not None]
        return f"{np.median(v):.3f} (min {np.min(v):.3f})" if v else "n/a"

    lines = [
        "| measure | value |",
        "|---|---|",
        f"| cases run / failed | {len(ok)} / {len(results) - len(ok)} |",
        f"| sides: NVC true / false | {tp + fn} / {tn + fp} |",
        f"| NVC sensitivity | {frac([s['pred_nvc'] for s in sides if s['truth_nvc']])} |",
        f"| NVC specificity | {frac([not s['pred_nvc'] for s in sides if not s['truth_nvc']])} |",
        f"| MVD-candidate accuracy | {frac(mvd)} |",
        f"| nerve found (sides) | {frac([s['nerve_found'] for s in sides])} |",
        f"| true contacts located (within 3 mm) | {frac([m['found'] for m in matches])} |",
        f"| vessel class accuracy | {frac([m['pred_class'] == m['truth_class'] for m in found])} |",
        f"| vessel name accuracy | {frac([m['pred_name'] == m['truth_name'] for m in found])} |",
        f"| segment accuracy | {frac([m['pred_segment'] == m['truth_segment'] for m in found])} |",
        "| median abs distance error (mm) | "
        + (
            f"{np.median([abs(m['pred_gap'] - m['truth_gap']) for m in all_found]):.2f}"
            if all_found
            else "n/a"
        )
        + f" (n={len(all_found)}) |",
        "| median abs RDP error (mm) | "
        + (f"{np.median(rdp_err):.2f}" if rdp_err else "n/a")
        + " |",
        f"| Dice brainstem, median | {med('brainstem')} |",
        f"| Dice CN VII, median | {med('cn7')} |",
        f"| Dice CN VII from the RExP to the porus, median | {med('cn7_to_porus')} |",
        f"| Dice CN VII+VIII, median | {med('cn7+8')} |",
        f"| Dice arteries, median | {med('artery')} |",
        f"| Dice veins, median | {med('vein')} |",
        f"| registration error (mean TRE on CN VII), median mm | {np.median(tre):.2f}"
        f" (max {np.max(tre):.2f}) |",
        f"| pipeline seconds per case, median | {np.median([r['seconds'] for r in ok]):.1f} |",
        f"| sides flagged needs review | {frac([bool(s.get('needs_review')) for s in sides])} |",
        f"| confidence AUROC, right vs wrong verdicts | {_auroc(sides)} |",
    ]
    return "\n".join(lines) + "\n\n" + reliability(sides)


def _right(side: dict[str, Any]) -> bool:
    """Whether a side's verdict (NVC and MVD candidate) matches the truth."""
    return bool(side["pred_nvc"] == side["truth_nvc"] and side["pred_mvd"] == side["truth_mvd"])


def _auroc(sides: list[dict[str, Any]]) -> str:
    """Probability that a right verdict carries a higher confidence than a wrong one (ties half)."""
    right = [s["confidence"] for s in sides if "confidence" in s and _right(s)]
    wrong = [s["confidence"] for s in sides if "confidence" in s and not _right(s)]
    if not right or not wrong:
        return f"n/a ({len(right)} right, {len(wrong)} wrong)"
    wins = sum((r > w) + 0.5 * (r == w) for r in right for w in wrong)
    return f"{wins / (len(right) * len(wrong)):.2f} ({len(right)} right, {len(wrong)} wrong)"


def reliability(sides: list[dict[str, Any]]) -> str:
    """Markdown table: per confidence band, how many verdicts there were and how many were right."""
    bands = [(0.0, 0.4), (0.4, 0.7), (0.7, 0.9), (0.9, 1.01)]
    lines = ["| confidence | sides | right verdicts |", "|---|---|---|"]
    for lo, hi in bands:
        band = [s for s in sides if "confidence" in s and lo <= s["confidence"] < hi]
        right = sum(_right(s) for s in band)
        share = f"{right / len(band):.2f} ({right}/{len(band)})" if band else "n/a"
        lines.append(f"| {lo:.1f}-{min(hi, 1.0):.1f} | {len(band)} | {share} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--seed", type=int, default=5000, help="first phantom seed")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", help="also write per-case results here")
    parser.add_argument("--verbose", action="store_true", help="print each case's sides")
    parser.add_argument(
        "--variety",
        choices=VARIETIES,
        default="standard",
        help="phantom variety: standard (development ranges) or wide (default standard)",
    )
    args = parser.parse_args(argv)
    seeds = list(range(args.seed, args.seed + args.cases))
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(partial(evaluate, variety=args.variety), seeds))
    if args.verbose:
        for r in results:
            if "error" in r:
                print(r["seed"], "ERROR", r["error"])
                continue
            for s in r["sides"]:
                flag = "" if s["truth_nvc"] == s["pred_nvc"] else "  <-- NVC miss"
                print(
                    r["seed"],
                    s["side"],
                    s["scenario"],
                    "truth",
                    s["truth_nvc"],
                    "pred",
                    s["pred_nvc"],
                    "rdp",
                    s["truth_rdp"],
                    s["pred_rdp"],
                    [
                        (
                            m.get("truth_name"),
                            m.get("pred_name"),
                            m.get("truth_segment"),
                            m.get("pred_segment"),
                            m.get("truth_gap"),
                            m.get("pred_gap"),
                        )
                        for m in s["matches"]
                    ],
                    flag,
                )
    print(f"phantom seeds {seeds[0]}-{seeds[-1]}, {args.variety} variety")
    print(summarize(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
