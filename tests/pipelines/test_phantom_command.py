"""``nvc phantom`` and ``nvc demo`` through ``main([...])``."""

from __future__ import annotations

import json

import numpy as np

from nvc.io import load_volume
from nvc.io.bids import read_participants
from nvc.phantom import make_case
from nvc_pipelines.cli import main
from nvc_pipelines.phantom_cohort import case_seed, truth_dir


def test_phantom_command_writes_bids_and_truth(tmp_path, capsys):
    out = tmp_path / "cohort"
    assert main(["phantom", str(out), "--cases", "1", "--seed", "2"]) == 0
    anat = out / "sub-01" / "anat"
    for name in (
        "sub-01_T2w.nii.gz",
        "sub-01_T2w.json",
        "sub-01_angio.nii.gz",
        "sub-01_angio.json",
    ):
        assert (anat / name).is_file(), name
    desc = json.loads((out / "dataset_description.json").read_text())
    assert desc["BIDSVersion"] and desc["DatasetType"] == "raw"
    truth = json.loads((truth_dir(out) / "sub-01" / "sub-01_truth.json").read_text())
    assert read_participants(out)["sub-01"]["hfs_side"] == truth["hfs_side"]
    assert (truth_dir(out) / "sub-01" / "sub-01_labels.tsv").is_file()
    # what was written is the case the seed makes, geometry included
    case = make_case(case_seed(2, 0))
    t2 = load_volume(anat / "sub-01_T2w.nii.gz")
    np.testing.assert_array_equal(t2.array, case.t2.array)
    np.testing.assert_allclose(t2.affine, case.t2.affine, atol=1e-4)
    labels = load_volume(truth_dir(out) / "sub-01" / "sub-01_labels.nii.gz")
    np.testing.assert_array_equal(labels.array, case.labels.array)
    assert "sub-01" in capsys.readouterr().out


def test_cohort_seeds_do_not_overlap():
    seeds = {case_seed(s, i) for s in range(5) for i in range(200)}
    assert len(seeds) == 1000


def test_phantom_command_refuses_an_unwritable_output(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main(["phantom", str(blocker / "cohort"), "--cases", "1", "--quiet"])
    assert code == 5
    err = capsys.readouterr().err
    assert err.startswith("nvc: error:") and "Traceback" not in err
