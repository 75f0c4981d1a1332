"""``nvc run`` end to end on a phantom, its outputs contract, and its refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nvc.io import load_volume, save_nifti
from nvc.phantom import PhantomParams, SideParams, make_case
from nvc.volume import Volume
from nvc_pipelines.cli import main
from nvc_pipelines.config import PipelineConfig, load_config

PARAMS = PhantomParams(
    seed=77,
    hfs_side="right",
    right=SideParams(scenario="nvc", offender="AICA", segment="AS", attached_length_mm=9.0),
    left=SideParams(scenario="none"),
)


@pytest.fixture(scope="module")
def case_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("case")
    case = make_case(PARAMS)
    t2 = save_nifti(case.t2, root / "t2.nii.gz")
    mra = save_nifti(case.mra, root / "tof.nii.gz")
    return case, t2, mra


@pytest.fixture(scope="module")
def results(case_files, tmp_path_factory):
    _, t2, mra = case_files
    out = tmp_path_factory.mktemp("out") / "res"
    args = ["run", "--t2", str(t2), "--mra", str(mra), "--out", str(out), "--side", "right"]
    assert main([*args, "--no-report"]) == 0
    return out


def test_outputs_follow_the_contract(results, case_files):
    case, _, _ = case_files
    for name in (
        "findings.json",
        "labels.nii.gz",
        "labels.tsv",
        "t2.nii.gz",
        "mra_registered.nii.gz",
        "distance_mm.nii.gz",
        "config.toml",
        "cn7_centerline_right.tsv",
    ):
        assert (results / name).is_file(), name
    assert not (results / "report").exists()  # --no-report
    findings = json.loads((results / "findings.json").read_text())
    assert findings["schema_version"] == "1.0"
    assert "identifiers" not in findings  # stored only with --include-identifiers
    assert set(findings["sides"]) == {"left", "right"}
    for side in findings["sides"].values():
        for key in ("nerve_found", "nvc", "mvd_candidate", "confidence", "reasons", "contacts"):
            assert key in side
        for c in side["contacts"]:
            assert c["vessel_class"] in ("artery", "vein", "unknown")
            assert c["vessel_name"] in ("AICA", "PICA", "VA", "BA", "SCA", "vein", "unknown")
            assert c["segment"] in ("RExP", "AS", "RDP", "TZ", "cisternal")
            assert c["grade"] in ("contact", "indentation", "displacement", None)
            assert len(c["location_ras_mm"]) == 3
    prov = findings["provenance"]
    assert prov["config_sha256"] == load_config(results / "config.toml").sha256()
    assert set(prov["inputs_sha256"]) == {"t2", "mra"}
    assert "quality" in findings["registration"]
    labels = load_volume(results / "labels.nii.gz")
    assert labels.shape == case.t2.shape
    np.testing.assert_allclose(labels.affine, case.t2.affine, atol=1e-4)
    assert set(np.unique(labels.array)) <= {0, 1, 2, 3, 4, 5, 6}
    dist = load_volume(results / "distance_mm.nii.gz")
    assert dist.array.min() == 0.0 and dist.array.max() > 10.0


def test_registration_is_within_half_a_millimetre(results, case_files):
    case, _, _ = case_files
    from nvc.registration import target_registration_error

    findings = json.loads((results / "findings.json").read_text())
    est = np.array(findings["registration"]["t2_to_mra_ras"])
    pts = np.concatenate(list(case.truth.cn7_centerlines.values()))
    assert target_registration_error(est, case.truth.t2_to_mra, pts).max() <= 0.5


def test_the_offending_aica_is_found(results, case_files):
    case, _, _ = case_files
    findings = json.loads((results / "findings.json").read_text())
    right = findings["sides"]["right"]
    assert right["nerve_found"] and right["nvc"] and right["mvd_candidate"]
    truth_loc = np.array(case.truth.sides["right"].contacts[0].location_ras_mm)
    nearest = min(
        right["contacts"], key=lambda c: np.linalg.norm(np.array(c["location_ras_mm"]) - truth_loc)
    )
    assert np.linalg.norm(np.array(nearest["location_ras_mm"]) - truth_loc) < 3.0
    assert nearest["vessel_class"] == "artery" and nearest["min_distance_mm"] <= 0.5
    left = findings["sides"]["left"]
    assert not left["mvd_candidate"]


def test_config_round_trip_and_unknown_keys(tmp_path):
    cfg = PipelineConfig()
    path = tmp_path / "c.toml"
    path.write_text(cfg.to_toml())
    assert load_config(path) == cfg
    assert load_config("default") == cfg, "preset is stale: run python -m nvc_pipelines.config"
    path.write_text("[nerves]\nno_such_setting = 1\n")
    code = main(
        [
            "run",
            "--t2",
            "x.nii",
            "--mra",
            "y.nii",
            "--out",
            str(tmp_path / "o"),
            "--config",
            str(path),
        ]
    )
    assert code == 2


def _write(tmp_path: Path, name: str, vol: Volume) -> Path:
    return save_nifti(vol, tmp_path / name)


def test_refusals_are_one_line_with_exit_codes(tmp_path, case_files, capsys):
    case, t2, mra = case_files
    out = str(tmp_path / "o")
    assert (
        main(["run", "--t2", str(tmp_path / "missing.nii.gz"), "--mra", str(mra), "--out", out])
        == 3
    )
    const = _write(
        tmp_path, "const.nii.gz", case.t2.with_array(np.full(case.t2.shape, 5, np.int16))
    )
    assert main(["run", "--t2", str(const), "--mra", str(mra), "--out", out]) == 4
    far = np.array(case.mra.affine)
    far[:3, 3] += 500.0
    moved = _write(tmp_path, "far.nii.gz", Volume(case.mra.array, far))
    assert main(["run", "--t2", str(t2), "--mra", str(moved), "--out", out]) == 4
    assert main(["run", "--t2", str(mra), "--mra", str(t2), "--out", out]) == 4
    noise = np.random.default_rng(0).normal(500, 100, case.t2.shape).astype(np.int16)
    noisy = _write(tmp_path, "noise.nii.gz", case.t2.with_array(noise))
    assert main(["run", "--t2", str(noisy), "--mra", str(mra), "--out", out]) == 4
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln]
    assert len(lines) == 5 and all(ln.startswith("nvc: error:") for ln in lines), err
    assert "Traceback" not in err
    assert not (tmp_path / "o" / "findings.json").exists()


def test_findings_json_follows_the_published_schema(results):
    import jsonschema

    from nvc_pipelines.reference import SCHEMA_FILE

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.validate(json.loads((results / "findings.json").read_text()), schema)
