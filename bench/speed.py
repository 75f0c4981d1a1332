"""Speed and memory of one clinical-size case, stage by stage, beside the library routes.

Run: ``python -m bench.speed [--repeats 3] [--seed 7] [--cache DIR]``. Prints
tables (markdown); not a test.

1. Builds (or reuses from ``--cache``) a phantom case at clinical size and
   writes it to NIfTI: T2 0.5 mm isotropic over 160x160x50 mm (321x321x101
   voxels), TOF 0.35x0.35x0.7 mm over 180x180x98 mm (at least 515x515x141;
   555x552x154 for seed 7, whose TOF box is turned by the misregistration).
   The grids follow the head (no oblique tilt or head rotation), the TOF
   keeps the phantom's misregistration. Building the phantom is not timed.
2. Runs the case (load the two NIfTI files -> ``run_case`` -> ``save_case``,
   i.e. up to findings.json; the report is not built) in a fresh process per
   repeat, and records the wall time and peak resident memory of every stage
   (a thread samples ``VmRSS`` every 5 ms; the stage boundaries are the
   ``progress`` calls of ``run_case``). ``run_case`` runs some work side by
   side in threads, so a window holds what ran in it: "registration" the
   brainstem search too, "brainstem" only the wait for it; "nerves" the
   whole-grid arteries too; "contacts" the veins, the label and distance maps.
3. In the same run, on the same data, times the straightforward library route
   beside each of ours, each pair in a fresh process:

   - arteries: ``nvc.vessels.segment_arteries`` vs ``skimage.filters.frangi``
     (``black_ridges=False``, sigmas = the phantom's artery radii / sqrt 2)
     followed by the same threshold procedure (``segment_arteries`` applied to
     the Frangi response); both on the TOF resampled onto the whole T2 grid
     through the true transform; Dice against the true arteries. The Dice of
     the Frangi response at its best single threshold (chosen with the truth)
     is shown too.
   - distance map to CN VII on the whole T2 grid: ``nvc.contacts.nerve_distance_map``
     vs ``scipy.ndimage.distance_transform_edt(sampling=spacing)``; the
     largest difference between the two maps is shown.
   - registration: ``nvc.registration.register_rigid`` vs a plain SimpleITK
     rigid Mattes mutual-information registration as in the SimpleITK
     notebooks (``Euler3DTransform`` + ``CenteredTransformInitializer``
     (geometry), 50 bins, 1 % random sampling, linear interpolation, gradient
     descent with learning rate 1 and 100 iterations, scales from physical
     shift, one level); mean target registration error along CN VII.

``--size small`` runs the same on a small, coarse phantom (for the test).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

#: Grid of each size: voxel sizes (mm) and fields of view (mm, anatomical x, y, z).
SIZES: dict[str, dict[str, tuple[float, float, float] | None]] = {
    "clinical": {
        "t2_spacing_mm": (0.5, 0.5, 0.5),
        "mra_spacing_mm": (0.35, 0.35, 0.7),
        "t2_fov_mm": (160.0, 160.0, 50.0),
        "mra_fov_mm": (180.0, 180.0, 98.0),
    },
    "small": {
        "t2_spacing_mm": (1.2, 1.2, 1.2),
        "mra_spacing_mm": (1.0, 1.0, 1.6),
        "t2_fov_mm": None,
        "mra_fov_mm": None,
    },
}
#: Frangi scales (mm): the phantom's artery radii (0.55-2.0 mm) divided by sqrt(2).
FRANGI_SIGMAS_MM = (0.4, 0.6, 0.9, 1.4)
CASE_STAGES = (
    "load",
    "registration",
    "brainstem",
    "vessels",
    "nerves",
    "contacts",
    "outputs",
    "write",
)


# ----------------------------------------------------------------------------- measuring


class RssSampler:
    """Samples this process's resident memory (``VmRSS``) every ``interval`` seconds.

    ``mark(name)`` closes the current window and opens a new one; ``windows``
    holds (name, seconds, peak MB) per closed window.
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.windows: list[tuple[str, float, float]] = []
        self._name: str | None = None
        self._start = 0.0
        self._peak = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss = rss_mb()
            with self._lock:
                self._peak = max(self._peak, rss)

    def mark(self, name: str | None) -> None:
        now = time.perf_counter()
        rss = rss_mb()
        with self._lock:
            if self._name is not None:
                self.windows.append((self._name, now - self._start, max(self._peak, rss)))
            self._name, self._start, self._peak = name, now, rss

    def close(self) -> None:
        self.mark(None)
        self._stop.set()
        self._thread.join()


def rss_mb() -> float:
    """Current resident memory of this process (MB)."""
    with Path("/proc/self/status").open(encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def max_rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ----------------------------------------------------------------------------- data


def case_params(seed: int, size: str) -> Any:
    """Phantom parameters of ``draw_params(seed)`` at the grid of ``size``, axial grids."""
    from nvc.phantom import draw_params

    p = draw_params(seed)
    im = p.imaging
    axial = ("RAS", "LPS")
    im = replace(
        im,
        **SIZES[size],  # type: ignore[arg-type]
        t2_orientation=im.t2_orientation if im.t2_orientation in axial else "LPS",
        mra_orientation=im.mra_orientation if im.mra_orientation in axial else "LPS",
        t2_oblique_deg=(0.0, 0.0, 0.0),
        mra_oblique_deg=(0.0, 0.0, 0.0),
        head_rotation_deg=(0.0, 0.0, 0.0),
    )
    return replace(p, imaging=im)


def make_data(folder: Path, seed: int, size: str) -> None:
    """Write the phantom case (t2, mra, truth labels, truth.json) into ``folder``."""
    from nvc.io import save_label_map, save_nifti
    from nvc.io.jsonfile import write_json
    from nvc.phantom import make_case

    case = make_case(case_params(seed, size))
    folder.mkdir(parents=True, exist_ok=True)
    save_nifti(case.t2, folder / "t2.nii.gz")
    save_nifti(case.mra, folder / "mra.nii.gz")
    save_label_map(case.labels, folder / "truth_labels.nii.gz")
    truth = {
        "t2_to_mra": case.truth.t2_to_mra.tolist(),
        "cn7_points": np.concatenate(list(case.truth.cn7_centerlines.values())).tolist(),
        "hfs_side": case.truth.hfs_side,
        "seed": seed,
        "size": size,
    }
    write_json(folder / "truth.json", truth)


def ensure_data(cache: Path, seed: int, size: str) -> Path:
    """The case folder, built in a child process when not cached yet."""
    folder = cache / f"{size}-seed{seed}"
    if not (folder / "truth.json").exists():
        _child({"task": "make", "folder": str(folder), "seed": seed, "size": size})
    return folder


# ----------------------------------------------------------------------------- child tasks


def task_case(folder: Path, out: Path) -> dict[str, Any]:
    """Load -> run_case -> save_case, timing and sampling memory per stage."""
    t_imports = time.perf_counter()
    from nvc.io import load_volume
    from nvc_pipelines.case import run_case
    from nvc_pipelines.config import PipelineConfig
    from nvc_pipelines.outputs import save_case

    t_imports = time.perf_counter() - t_imports
    truth = json.loads((folder / "truth.json").read_text())
    sampler = RssSampler()
    sampler.mark("load")
    t0 = time.perf_counter()
    t2 = load_volume(folder / "t2.nii.gz")
    mra = load_volume(folder / "mra.nii.gz")
    config = PipelineConfig()
    current = ["load"]

    def progress(stage: str, done: float) -> None:
        if stage != current[0] and stage != "done":
            sampler.mark(stage)
            current[0] = stage

    result = run_case(t2, mra, symptomatic_side=truth["hfs_side"], config=config, progress=progress)
    sampler.mark("write")
    inputs = {"t2": folder / "t2.nii.gz", "mra": folder / "mra.nii.gz"}
    save_case(result, out, config, inputs=inputs)
    total = time.perf_counter() - t0
    sampler.close()
    return {
        "stages": sampler.windows,
        "total": total,
        "imports": t_imports,
        "peak_mb": max_rss_mb(),
        "t2_shape": list(t2.shape),
        "mra_shape": list(mra.shape),
        "sides": {s: f.to_dict()["nvc"] for s, f in result.findings.sides.items()},
    }


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 2.0 * float(np.count_nonzero(a & b)) / total if total else 1.0


def _inputs_on_t2_grid(folder: Path) -> tuple[Any, Any, np.ndarray, dict[str, Any]]:
    """Canonical T2, TOF on it through the true transform, true labels on it, truth."""
    from nvc.io import load_volume
    from nvc.volume import reorient_canonical, resample_to

    truth = json.loads((folder / "truth.json").read_text())
    t2c = reorient_canonical(load_volume(folder / "t2.nii.gz"))
    mra = load_volume(folder / "mra.nii.gz")
    tof = resample_to(mra, t2c, world_transform=np.array(truth["t2_to_mra"]))
    labels = reorient_canonical(load_volume(folder / "truth_labels.nii.gz")).array
    return t2c, tof, labels, truth


def task_vessels(folder: Path) -> dict[str, Any]:
    """segment_arteries vs skimage frangi + the same thresholds, on the whole T2 grid.

    The TOF levels are taken as in ``run_case``: in the cerebellopontine-angle
    box, tissue from the brainstem found on the T2, CSF from the normalised T2.
    """
    from skimage.filters import frangi

    from nvc.brainstem import segment_brainstem
    from nvc.intensity import normalize_t2
    from nvc.labels import Label
    from nvc.region import analysis_region, crop_brainstem
    from nvc.vessels import segment_arteries, tof_levels

    t2c, tof, labels, _ = _inputs_on_t2_grid(folder)
    sp = tof.spacing
    norm, t2_levels = normalize_t2(t2c.array, sp)
    brainstem = segment_brainstem(norm, t2_levels, sp)
    roi = analysis_region(t2c.shape, sp, brainstem)
    bs, csf = crop_brainstem(brainstem, roi).mask, norm[roi] > t2_levels.csf_threshold
    truth = labels == Label.ARTERY
    sampler = RssSampler()
    sampler.mark("ours")
    ours = segment_arteries(tof.array, sp, tof_levels(tof.array[roi], bs, csf))
    sampler.mark("library")
    sigmas = [s / float(np.mean(sp)) for s in FRANGI_SIGMAS_MM]
    response = frangi(tof.array, sigmas=sigmas, black_ridges=False)
    lib = segment_arteries(response, sp, tof_levels(response[roi], bs, csf))
    sampler.close()
    top = float(np.percentile(response[roi], 99.9))
    best = max(
        _dice(response > f * top, truth) for f in (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7)
    )
    (_, t_ours, m_ours), (_, t_lib, m_lib) = sampler.windows
    return {
        "ours": [t_ours, m_ours, _dice(ours, truth)],
        "library": [t_lib, m_lib, _dice(lib, truth)],
        "frangi_best_dice": best,
        "sigmas_vox": sigmas,
    }


def task_distance(folder: Path) -> dict[str, Any]:
    """nerve_distance_map vs scipy's exact EDT, whole T2 grid, distance to the true CN VII."""
    from scipy import ndimage

    from nvc.contacts import nerve_distance_map
    from nvc.io import load_volume
    from nvc.labels import Label

    labels = load_volume(folder / "truth_labels.nii.gz")
    nerve = labels.array == Label.CN7
    sp = labels.spacing
    sampler = RssSampler()
    sampler.mark("ours")
    ours = nerve_distance_map(nerve, sp)
    sampler.mark("library")
    edt = ndimage.distance_transform_edt(~nerve, sampling=sp)
    lib = np.clip(edt - 0.5 * float(np.mean(sp)), 0.0, None).astype(np.float32)
    sampler.close()
    (_, t_ours, m_ours), (_, t_lib, m_lib) = sampler.windows
    return {
        "ours": [t_ours, m_ours, None],
        "library": [t_lib, m_lib, None],
        "max_diff_mm": float(np.abs(ours - lib).max()),
    }


def plain_sitk_registration(t2: Any, mra: Any) -> np.ndarray:
    """The SimpleITK notebooks' rigid Mattes MI registration; T2 world -> MRA world (RAS 4x4)."""
    import SimpleITK as sitk

    from nvc.registration import ras_matrix_of
    from nvc.volume import to_sitk

    fixed, moving = to_sitk(t2, np.float32), to_sitk(mra, np.float32)
    init = sitk.CenteredTransformInitializer(
        fixed, moving, sitk.Euler3DTransform(), sitk.CenteredTransformInitializerFilter.GEOMETRY
    )
    reg = sitk.ImageRegistrationMethod()
    reg.SetMetricAsMattesMutualInformation(numberOfHistogramBins=50)
    reg.SetMetricSamplingStrategy(reg.RANDOM)
    reg.SetMetricSamplingPercentage(0.01)
    reg.SetInterpolator(sitk.sitkLinear)
    reg.SetOptimizerAsGradientDescent(
        learningRate=1.0,
        numberOfIterations=100,
        convergenceMinimumValue=1e-6,
        convergenceWindowSize=10,
    )
    reg.SetOptimizerScalesFromPhysicalShift()
    reg.SetInitialTransform(init, inPlace=False)
    return ras_matrix_of(reg.Execute(fixed, moving))


def task_registration(folder: Path) -> dict[str, Any]:
    """register_rigid vs the plain SimpleITK route; mean TRE along the true CN VII."""
    from nvc.io import load_volume
    from nvc.registration import register_rigid, target_registration_error

    truth = json.loads((folder / "truth.json").read_text())
    t2 = load_volume(folder / "t2.nii.gz")
    mra = load_volume(folder / "mra.nii.gz")
    true, pts = np.array(truth["t2_to_mra"]), np.array(truth["cn7_points"])
    sampler = RssSampler()
    sampler.mark("ours")
    ours = register_rigid(t2, mra).t2_to_mra
    sampler.mark("library")
    lib = plain_sitk_registration(t2, mra)
    sampler.close()
    (_, t_ours, m_ours), (_, t_lib, m_lib) = sampler.windows
    return {
        "ours": [t_ours, m_ours, float(target_registration_error(ours, true, pts).mean())],
        "library": [t_lib, m_lib, float(target_registration_error(lib, true, pts).mean())],
    }


def _run_task(spec: dict[str, Any]) -> Any:
    task = spec["task"]
    if task == "make":
        make_data(Path(spec["folder"]), spec["seed"], spec["size"])
        return {"peak_mb": max_rss_mb()}
    folder = Path(spec["folder"])
    if task == "case":
        return task_case(folder, Path(spec["out"]))
    return {"vessels": task_vessels, "distance": task_distance, "registration": task_registration}[
        task
    ](folder)


def _child(spec: dict[str, Any]) -> Any:
    """Run one task in a fresh Python process; its JSON answer."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.speed", "--child", json.dumps(spec)],
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{spec['task']} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- table


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _span(values: list[float]) -> str:
    return f"{_median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def stage_table(runs: list[dict[str, Any]]) -> list[str]:
    """Markdown rows: stage | wall s, median (min-max) | peak RSS MB, median."""
    rows = ["| stage | wall s, median (min-max) | peak RSS MB, median |", "|---|---|---|"]
    for stage in CASE_STAGES:
        secs = [sum(s for n, s, _ in r["stages"] if n == stage) for r in runs]
        peaks = [max([m for n, _, m in r["stages"] if n == stage], default=0.0) for r in runs]
        rows.append(f"| {stage} | {_span(secs)} | {_median(peaks):.0f} |")
    imports = [r["imports"] for r in runs]
    rows.append(f"| (imports, not in the total) | {_span(imports)} | |")
    totals = [r["total"] for r in runs]
    peaks = [r["peak_mb"] for r in runs]
    rows.append(f"| **whole case** (load to findings.json) | **{_span(totals)}** | "
                f"**{_median(peaks):.0f}** |")  # fmt: skip
    return rows


def route_table(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Markdown rows: ours vs the library route (medians over repeats)."""
    rows = [
        "| route | ours s | ours peak MB | library route | library s | library peak MB "
        "| speed-up | ours Dice/TRE/diff | library Dice/TRE/diff |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    names = {
        "vessels": ("arteries (Dice)", "skimage frangi + same thresholds"),
        "distance": ("CN VII distance map (max diff mm)", "scipy distance_transform_edt"),
        "registration": ("registration (TRE mm)", "plain SimpleITK rigid MI"),
    }
    for key, runs in results.items():
        label, library = names[key]
        o = [r["ours"] for r in runs]
        lb = [r["library"] for r in runs]
        t_o, t_l = _median([x[0] for x in o]), _median([x[0] for x in lb])
        if key == "distance":
            q_o = "0 (reference)"
            q_l = f"{max(r['max_diff_mm'] for r in runs):.3g}"
        else:
            q_o = f"{_median([x[2] for x in o]):.3f}"
            q_l = f"{_median([x[2] for x in lb]):.3f}"
            if key == "vessels":
                q_l += f" (best threshold {_median([r['frangi_best_dice'] for r in runs]):.3f})"
        rows.append(
            f"| {label} | {t_o:.2f} | {_median([x[1] for x in o]):.0f} | {library} | {t_l:.2f} "
            f"| {_median([x[1] for x in lb]):.0f} | {t_l / max(t_o, 1e-9):.1f}x | {q_o} | {q_l} |"
        )
    return rows


def machine() -> str:
    """CPU model, logical cores and RAM of this machine."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem = next(
            int(line.split()[1]) / 1024**2
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem = float("nan")
    return f"{model}, {os.cpu_count()} logical cores, {mem:.0f} GB RAM"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7, help="phantom seed")
    parser.add_argument("--size", choices=sorted(SIZES), default="clinical")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "nvc-speed", help="data folder"
    )
    parser.add_argument("--no-library", action="store_true", help="only time our pipeline")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_run_task(json.loads(args.child))))
        return 0

    folder = ensure_data(args.cache, args.seed, args.size)
    runs = []
    with tempfile.TemporaryDirectory(prefix="nvc-speed-") as tmp:
        for n in range(args.repeats):
            spec = {"task": "case", "folder": str(folder), "out": str(Path(tmp) / f"out{n}")}
            runs.append(_child(spec))
    print(f"machine: {machine()}")
    print(
        f"phantom seed {args.seed} ({args.size}): T2 {tuple(runs[0]['t2_shape'])} voxels, "
        f"TOF {tuple(runs[0]['mra_shape'])} voxels; {args.repeats} repeats, one process each"
    )
    print()
    print("\n".join(stage_table(runs)))
    if not args.no_library:
        results: dict[str, list[dict[str, Any]]] = {}
        for key in ("vessels", "distance", "registration"):
            results[key] = [
                _child({"task": key, "folder": str(folder)}) for _ in range(args.repeats)
            ]
        print()
        print("\n".join(route_table(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
