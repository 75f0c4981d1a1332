"""Re-image a scored cohort with clinical-variety imaging: the same anatomy, worse scans.

Run: ``python -m bench.degrade SOURCE_COHORT OUT [--seed 0]``, then
``python -m bench.external OUT/cases``. SOURCE_COHORT is a BIDS raw dataset with
its truth in ``SOURCE_COHORT_truth/`` and its ``score.py`` in the folder above
(the layout of ``../shared/data/external/``); OUT gets the same layout.

Our own phantom's "wide" variety is the only clinical-variety cohort we can
draw, and it shares the anatomy the method was developed on. This re-images an
independent generator's anatomy the way issue 16 describes its unseen
clinical-variety cohort (1.5 T noise, voxels to 0.8 mm or 1.0 mm slices, TOF
slices to 1.2 mm, head pose up to 15 degrees, 3-8 mm / 3-8 degree
misregistration). Per case, drawn from ``--seed``:

- head pose: a rotation of 5-15 degrees about a random axis through the T2's
  centre. The anatomy turns in the world (the new grids are aligned with the
  scanner axes), so the head is rolled/pitched/turned in the scanner;
- T2: 0.8 mm isotropic, or 0.5 mm in plane with 1.0 mm slices; each new voxel
  averages what it covers (Gaussian partial-volume kernel, FWHM = the new
  voxel minus the old one in quadrature) before linear interpolation; Rician
  noise added to bring CSF's SNR to 8-15;
- TOF: 0.4-0.5 mm in plane, 1.0-1.2 mm slices, the same averaging, its own
  noise raised; an extra misregistration of 3-8 mm and 3-8 degrees;
- integer storage (int16).

Truth follows exactly, without resampling: the label map keeps its voxels and
gets the posed affine, world landmarks are posed, and the T2-to-TOF world
transforms are recomposed. Distances and segments do not change. This is a
benchmark tool; it writes only under OUT.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from scipy.spatial.transform import Rotation

from nvc.phantom.render import rician

FWHM_PER_SIGMA = 2.3548


@dataclass(frozen=True)
class Imaging:
    """One case's drawn imaging: pose, grids, noise and misregistration."""

    pose_deg: float
    pose_axis: tuple[float, float, float]
    t2_spacing: tuple[float, float, float]
    t2_snr: float
    tof_spacing: tuple[float, float, float]
    tof_noise_gain: float
    misreg_mm: float
    misreg_deg: float


def draw(rng: np.random.Generator) -> tuple[Imaging, NDArray[np.float64], NDArray[np.float64]]:
    """Draw one case's imaging, its pose rotation (3x3) and extra misregistration (4x4)."""
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    pose_deg = float(rng.uniform(5.0, 15.0))
    t2_sp = (0.8, 0.8, 0.8) if rng.random() < 0.5 else (0.5, 0.5, 1.0)
    tof_plane = float(rng.choice([0.4, 0.45, 0.5]))
    tof_sp = (tof_plane, tof_plane, float(rng.choice([1.0, 1.1, 1.2])))
    misreg_mm = float(rng.uniform(3.0, 8.0))
    misreg_deg = float(rng.uniform(3.0, 8.0))
    shift = rng.normal(size=3)
    shift *= misreg_mm / np.linalg.norm(shift)
    turn_axis = rng.normal(size=3)
    turn_axis /= np.linalg.norm(turn_axis)
    imaging = Imaging(
        pose_deg=round(pose_deg, 1),
        pose_axis=tuple(round(float(v), 3) for v in axis),  # type: ignore[arg-type]
        t2_spacing=t2_sp,
        t2_snr=round(float(rng.uniform(8.0, 15.0)), 1),
        tof_spacing=tof_sp,
        tof_noise_gain=round(float(rng.uniform(1.5, 2.5)), 2),
        misreg_mm=round(misreg_mm, 1),
        misreg_deg=round(misreg_deg, 1),
    )
    pose = Rotation.from_rotvec(np.radians(pose_deg) * axis).as_matrix()
    misreg = np.eye(4)
    misreg[:3, :3] = Rotation.from_rotvec(np.radians(misreg_deg) * turn_axis).as_matrix()
    misreg[:3, 3] = shift
    return imaging, pose, misreg


def about(rotation: NDArray[np.float64], centre: NDArray[np.float64]) -> NDArray[np.float64]:
    """4x4 rigid transform turning by ``rotation`` about ``centre`` (mm)."""
    m = np.eye(4)
    m[:3, :3] = rotation
    m[:3, 3] = centre - rotation @ centre
    return m


def resample(
    img: nib.Nifti1Image,
    new_to_old: NDArray[np.float64],
    spacing: tuple[float, float, float],
    centre: NDArray[np.float64],
    extent: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Resample ``img`` onto a RAS grid of the new world, averaging what each voxel covers.

    ``new_to_old`` (4x4) maps new world mm to ``img``'s world mm. Returns the
    array (float) and its affine (new world).
    """
    data = np.asarray(img.dataobj, dtype=np.float32)
    old_sp = np.asarray(img.header.get_zooms()[:3], float)
    old_axes = img.affine[:3, :3] / old_sp  # unit directions of the old voxel axes (old world)
    new_axes_in_old = new_to_old[:3, :3]  # columns: new world axes seen in the old world
    # each old axis: the new grid's spacing along it, old spacing taken off in quadrature
    along = np.abs(old_axes.T @ new_axes_in_old)  # (old axis, new axis) cosines
    eff = np.sqrt((along**2) @ np.square(spacing))
    sigma_mm = np.sqrt(np.clip(eff**2 - old_sp**2, 0.0, None)) / FWHM_PER_SIGMA
    if np.any(sigma_mm > 0):
        data = ndimage.gaussian_filter(data, sigma_mm / old_sp, mode="nearest")
    shape = np.maximum(np.round(extent / np.asarray(spacing)).astype(int), 8)
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = centre - 0.5 * (shape - 1) * np.asarray(spacing)
    ijk = np.indices(shape, dtype=np.float32).reshape(3, -1)
    world_new = affine[:3, :3] @ ijk + affine[:3, 3:4]
    world_old = new_to_old[:3, :3] @ world_new + new_to_old[:3, 3:4]
    old_ijk = np.linalg.solve(img.affine[:3, :3], world_old - img.affine[:3, 3:4])
    out = ndimage.map_coordinates(data, old_ijk, order=1, mode="constant", cval=0.0)
    return out.reshape(shape), affine


def background_sigma(data: NDArray[np.float64]) -> float:
    """Noise standard deviation from the darkest tenth of the image (Rayleigh background)."""
    low = data[data <= np.percentile(data, 10)]
    return float(np.sqrt(np.mean(low.astype(float) ** 2) / 2.0)) if low.size else 0.0


def degrade_case(
    src: Path, truth: Path, out: Path, truth_out: Path, sub: str, rng: np.random.Generator
) -> Imaging:
    """Re-image one participant into ``out`` and carry its truth into ``truth_out``."""
    anat = src / sub / "anat"
    t2 = nib.load(anat / f"{sub}_T2w.nii.gz")
    tof = nib.load(anat / f"{sub}_angio.nii.gz")
    info = json.loads((truth / f"{sub}.json").read_text())
    imaging, pose, misreg = draw(rng)
    t2_shape = np.asarray(t2.shape[:3])
    centre = (t2.affine @ np.r_[0.5 * (t2_shape - 1), 1.0])[:3]
    posed = about(pose, centre)  # old T2 world -> new T2 world
    t_old = np.asarray(info["T_t2world_to_tofworld"], float)
    t_new = misreg @ posed @ t_old @ np.linalg.inv(posed)
    # T2: the posed anatomy on a scanner-aligned grid
    extent_t2 = np.abs(t2.affine[:3, :3]) @ t2_shape
    t2_new, t2_aff = resample(t2, np.linalg.inv(posed), imaging.t2_spacing, centre, extent_t2)
    csf = float(np.percentile(t2_new, 99.5))
    have = background_sigma(np.asarray(t2.dataobj, float))
    want = csf / imaging.t2_snr
    t2_new = rician(t2_new, float(np.sqrt(max(want**2 - have**2, 0.0))), rng)
    # TOF: new TOF world -> old TOF world is t_old . posed^-1 . t_new^-1
    tof_shape = np.asarray(tof.shape[:3])
    tof_centre_old = (tof.affine @ np.r_[0.5 * (tof_shape - 1), 1.0])[:3]
    tof_centre = (t_new @ posed @ np.linalg.inv(t_old) @ np.r_[tof_centre_old, 1.0])[:3]
    extent_tof = np.abs(tof.affine[:3, :3]) @ tof_shape
    new_to_old_tof = t_old @ np.linalg.inv(posed) @ np.linalg.inv(t_new)
    tof_new, tof_aff = resample(tof, new_to_old_tof, imaging.tof_spacing, tof_centre, extent_tof)
    tof_sigma = background_sigma(np.asarray(tof.dataobj, float))
    tof_new = rician(tof_new, tof_sigma * float(np.sqrt(imaging.tof_noise_gain**2 - 1.0)), rng)
    dest = out / sub / "anat"
    dest.mkdir(parents=True, exist_ok=True)
    for arr, aff, name in ((t2_new, t2_aff, "T2w"), (tof_new, tof_aff, "angio")):
        stored = np.clip(np.round(arr), 0, np.iinfo(np.int16).max).astype(np.int16)
        nib.save(nib.Nifti1Image(stored, aff), dest / f"{sub}_{name}.nii.gz")
        sidecar = json.loads((anat / f"{sub}_{name}.json").read_text())
        sidecar["MagneticFieldStrength"] = 1.5
        (dest / f"{sub}_{name}.json").write_text(json.dumps(sidecar, indent=1))
    # truth: labels keep their voxels under the posed affine; world points are posed
    labels = nib.load(truth / f"{sub}_labels.nii.gz")
    nib.save(
        nib.Nifti1Image(np.asarray(labels.dataobj), posed @ labels.affine),
        truth_out / f"{sub}_labels.nii.gz",
    )
    for side in info["sides"].values():
        for key, point in (side.get("landmarks_world") or {}).items():
            side["landmarks_world"][key] = _moved(posed, point)
        if side.get("contact_point_world"):
            side["contact_point_world"] = _moved(posed, side["contact_point_world"])
    info["T_t2world_to_tofworld"] = np.round(t_new, 6).tolist()
    info["T_tofworld_to_t2world"] = np.round(np.linalg.inv(t_new), 6).tolist()
    info["imaging"] = imaging.__dict__
    (truth_out / f"{sub}.json").write_text(json.dumps(info, indent=1))
    return imaging


def _moved(m: NDArray[np.float64], point: list[float]) -> list[float]:
    return [round(float(v), 3) for v in (m @ np.r_[np.asarray(point, float), 1.0])[:3]]


def main(argv: list[str] | None = None) -> int:
    """Re-image every participant of SOURCE into OUT (cases, truth, scorer)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="BIDS cohort with SOURCE_truth/ beside it")
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    src = args.source.resolve()
    truth = src.parent / f"{src.name}_truth"
    scorer = src.parent / "score.py"
    if not truth.is_dir() or not scorer.is_file():
        print(f"no truth or scorer beside {src}", file=sys.stderr)
        return 2
    out = args.out / "cases"
    truth_out = args.out / "cases_truth"
    out.mkdir(parents=True, exist_ok=True)
    truth_out.mkdir(parents=True, exist_ok=True)
    shutil.copy(scorer, args.out / "score.py")
    for name in ("dataset_description.json", "participants.tsv", "participants.json"):
        if (src / name).is_file():
            shutil.copy(src / name, out / name)
    if (truth / "cohort.tsv").is_file():
        shutil.copy(truth / "cohort.tsv", truth_out / "cohort.tsv")
    with (src / "participants.tsv").open() as f:
        subs = [row["participant_id"] for row in csv.DictReader(f, delimiter="\t")]
    rng = np.random.default_rng(args.seed)
    print("| case | pose deg | T2 mm | T2 SNR | TOF mm | misregistration |")
    print("|---|---|---|---|---|---|")
    for sub in subs:
        im = degrade_case(src, truth, out, truth_out, sub, rng)
        print(
            f"| {sub} | {im.pose_deg} | {'x'.join(map(str, im.t2_spacing))} | {im.t2_snr} | "
            f"{'x'.join(map(str, im.tof_spacing))} | {im.misreg_mm} mm, {im.misreg_deg} deg |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
