"""The re-imaged cohort keeps image, truth and TOF in register (``bench.degrade``)."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np

from bench.degrade import main

SPACING = 0.5


def _blob(shape, centre_ijk, radius_vox):
    ijk = np.indices(shape)
    return sum((ijk[a] - centre_ijk[a]) ** 2 for a in range(3)) <= radius_vox**2


def _cohort(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """One participant: a bright ball in the T2 and the TOF, labelled, with a landmark at it."""
    cases, truth = root / "cases", root / "cases_truth"
    anat = cases / "sub-01" / "anat"
    anat.mkdir(parents=True)
    truth.mkdir()
    (root / "score.py").write_text("# scorer\n")
    (cases / "participants.tsv").write_text("participant_id\thfs_side\nsub-01\tleft\n")
    shape = (80, 80, 60)
    t2_aff = np.diag([SPACING, SPACING, SPACING, 1.0])
    t2_aff[:3, 3] = [-20.0, -20.0, -15.0]
    ball = (50, 30, 40)
    t2 = np.full(shape, 100.0)
    t2[_blob(shape, ball, 6)] = 1000.0
    nib.save(nib.Nifti1Image(t2.astype(np.int16), t2_aff), anat / "sub-01_T2w.nii.gz")
    labels = _blob(shape, ball, 6).astype(np.uint8)
    nib.save(nib.Nifti1Image(labels, t2_aff), truth / "sub-01_labels.nii.gz")
    world = (t2_aff @ np.r_[ball, 1.0])[:3]
    # the TOF on its own grid, shifted 2 mm: the ball sits at world + shift there
    shift = np.array([2.0, 0.0, 0.0])
    tof_aff = np.diag([0.4, 0.4, 0.6, 1.0])
    tof_aff[:3, 3] = [-22.0, -22.0, -16.0]
    tof_shape = (110, 110, 55)
    tof_ball = np.linalg.solve(tof_aff, np.r_[world + shift, 1.0])[:3]
    ijk = np.indices(tof_shape).astype(float)
    inside = sum(((ijk[a] - tof_ball[a]) * tof_aff[a, a]) ** 2 for a in range(3)) <= 3.0**2
    tof = np.where(inside, 800.0, 50.0)
    nib.save(nib.Nifti1Image(tof.astype(np.int16), tof_aff), anat / "sub-01_angio.nii.gz")
    for name in ("T2w", "angio"):
        (anat / f"sub-01_{name}.json").write_text(json.dumps({"MagneticFieldStrength": 3}))
    t_old = np.eye(4)
    t_old[:3, 3] = shift
    side = {"landmarks_world": {"rexp": world.tolist()}, "contact_point_world": world.tolist()}
    info = {
        "sides": {"left": side, "right": {"landmarks_world": {}}},
        "T_t2world_to_tofworld": t_old.tolist(),
        "T_tofworld_to_t2world": np.linalg.inv(t_old).tolist(),
    }
    (truth / "sub-01.json").write_text(json.dumps(info))
    return world, t_old


def _at(img: nib.Nifti1Image, point: np.ndarray) -> float:
    ijk = np.round(np.linalg.solve(img.affine, np.r_[point, 1.0])[:3]).astype(int)
    return float(np.asarray(img.dataobj)[tuple(ijk)])


def test_truth_image_and_tof_stay_in_register(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _cohort(src)
    out = tmp_path / "out"
    assert main([str(src / "cases"), str(out), "--seed", "3"]) == 0
    t2 = nib.load(out / "cases" / "sub-01" / "anat" / "sub-01_T2w.nii.gz")
    tof = nib.load(out / "cases" / "sub-01" / "anat" / "sub-01_angio.nii.gz")
    labels = nib.load(out / "cases_truth" / "sub-01_labels.nii.gz")
    info = json.loads((out / "cases_truth" / "sub-01.json").read_text())
    imaging = info["imaging"]
    assert np.allclose(t2.header.get_zooms(), imaging["t2_spacing"])
    assert np.allclose(tof.header.get_zooms(), imaging["tof_spacing"])
    assert t2.get_data_dtype() == np.int16
    assert 5.0 <= imaging["pose_deg"] <= 15.0
    # the posed landmark is inside the ball in the new T2 and in the posed truth labels
    rexp = np.asarray(info["sides"]["left"]["landmarks_world"]["rexp"], float)
    assert _at(t2, rexp) > 500.0
    assert _at(labels, rexp) == 1
    # the labelled voxels' new world positions fall on the ball of the new T2
    lab_ijk = np.argwhere(np.asarray(labels.dataobj) == 1)[::50]
    world = lab_ijk @ labels.affine[:3, :3].T + labels.affine[:3, 3]
    t2_ijk = np.round(np.linalg.solve(t2.affine[:3, :3], (world - t2.affine[:3, 3]).T).T)
    values = np.asarray(t2.dataobj)[tuple(t2_ijk.astype(int).T)]
    assert np.median(values) > 500.0
    # the new T2-to-TOF transform carries the landmark onto the TOF's ball
    t_new = np.asarray(info["T_t2world_to_tofworld"], float)
    assert _at(tof, (t_new @ np.r_[rexp, 1.0])[:3]) > 400.0
    # and the recomposed transform is not the old one (the misregistration was added)
    assert np.linalg.norm(t_new[:3, 3] - np.array([2.0, 0.0, 0.0])) > 1.0
    assert np.allclose(np.asarray(info["T_tofworld_to_t2world"]) @ t_new, np.eye(4), atol=1e-4)
