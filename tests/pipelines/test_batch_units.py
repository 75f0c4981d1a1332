"""``nvc batch`` parts that need no analysis: discovery, refusals, atomic folders, sizing, SLURM."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nvc.contacts import Contact
from nvc.findings import SideFindings
from nvc.io.atomic import atomic_dir, remove_temporaries
from nvc_pipelines.cli import main
from nvc_pipelines.discovery import discover
from nvc_pipelines.engine import SlurmOptions, local_sizing, slurm_cluster, slurm_kwargs
from nvc_pipelines.errors import UsageError
from nvc_pipelines.group import offender


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A BIDS tree with empty image files (discovery reads names only)."""
    root = tmp_path / "bids"
    _touch(root / "sub-01/anat/sub-01_acq-ciss_T2w.nii.gz")
    _touch(root / "sub-01/anat/sub-01_angio.nii.gz")
    for ses in ("pre", "post"):
        _touch(root / f"sub-02/ses-{ses}/anat/sub-02_ses-{ses}_T2w.nii")
        _touch(root / f"sub-02/ses-{ses}/anat/sub-02_ses-{ses}_acq-tof_angio.nii.gz")
    _touch(root / "sub-03/anat/sub-03_T2w.nii.gz")  # no angio
    _touch(root / "sub-04/anat/sub-04_acq-ciss_T2w.nii.gz")
    _touch(root / "sub-04/anat/sub-04_acq-space_T2w.nii.gz")
    _touch(root / "sub-04/anat/sub-04_angio.nii.gz")
    _touch(root / "sub-0_5/anat/sub-0_5_T2w.nii.gz")  # not a BIDS label
    _touch(root / "sub-06/anat/sub-06_T2w.nii.gz")
    _touch(root / "sub-06/anat/sub-06_angio.nii.gz")
    (root / "participants.tsv").write_text(
        "participant_id\thfs_side\tage\nsub-01\tleft\t50\nsub-02\tR\t61\nsub-04\tn/a\t40\n"
        "sub-06\tboth\t33\n"
    )
    (root / "dataset_description.json").write_text('{"Name": "t", "BIDSVersion": "1.9.0"}')
    return root


def test_discovery_finds_cases_sessions_and_says_why_others_are_skipped(dataset: Path):
    found = discover(dataset)
    ids = [c.case_id for c in found.cases]
    assert ids == ["sub-01", "sub-02_ses-post", "sub-02_ses-pre"]
    one = found.cases[0]
    assert one.t2.name == "sub-01_acq-ciss_T2w.nii.gz" and one.angio.name == "sub-01_angio.nii.gz"
    assert one.hfs_side == "left" and found.cases[1].hfs_side == "right"
    assert found.cases[1].relative_dir == Path("sub-02/ses-post")
    why = {s.case_id: s.reason for s in found.skipped}
    assert why["sub-03"] == "no angio image"
    assert "several T2w images" in why["sub-04"] and "--t2-acq" in why["sub-04"]
    assert why["sub-0_5"] == "folder name is not a BIDS label"
    assert "hfs_side 'both'" in why["sub-06"]
    chosen = discover(dataset, participant_labels=["sub-04", "09"], t2_acq="space")
    assert [c.case_id for c in chosen.cases] == ["sub-04"]
    assert chosen.cases[0].t2.name == "sub-04_acq-space_T2w.nii.gz"
    assert chosen.cases[0].hfs_side is None
    assert [(s.case_id, s.reason) for s in chosen.skipped] == [("sub-09", "not in the dataset")]


@pytest.mark.parametrize("label", ["../01", "01/..", "0 1", "sub-", "a_b"])
def test_labels_that_could_walk_out_of_a_folder_are_refused(dataset, tmp_path, label, capsys):
    with pytest.raises(UsageError):
        discover(dataset, participant_labels=[label])
    out = tmp_path / "out"
    code = main(["batch", str(dataset), str(out), "participant", "--participant-label", label])
    assert code == 2
    assert "not a BIDS label" in capsys.readouterr().err
    assert not out.exists()


def test_output_inside_or_over_the_input_is_refused(dataset: Path, tmp_path: Path, capsys):
    for out in (dataset, dataset / "sub-01", dataset / "results", dataset / "derivatives"):
        assert main(["batch", str(dataset), str(out), "participant", "--dry-run"]) == 2, out
    assert main(["batch", str(dataset), str(tmp_path), "participant", "--dry-run"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 5 and all(line.startswith("nvc: error:") for line in err)
    ok = dataset / "derivatives" / "nvc"
    assert main(["batch", str(dataset), str(ok), "participant", "--dry-run"]) == 0
    assert "would run sub-01" in capsys.readouterr().out
    assert not ok.exists(), "a dry run writes nothing"
    other = tmp_path / "other"
    _touch(other / "something.txt")
    assert main(["batch", str(dataset), str(other), "participant"]) == 2
    assert "not empty and not an nvc derivatives dataset" in capsys.readouterr().err
    assert main(["batch", str(tmp_path / "nope"), str(ok), "participant"]) == 3


def test_atomic_dir_replaces_whole_folders_or_nothing(tmp_path: Path):
    target = tmp_path / "sub-01"
    with atomic_dir(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".sub-01.")
        (tmp / "findings.json").write_text("1")
        assert not target.exists()
    assert (target / "findings.json").read_text() == "1"
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "findings.json").write_text("half")
        raise RuntimeError("killed")
    assert (target / "findings.json").read_text() == "1", "old folder kept on failure"
    with atomic_dir(target) as tmp:
        (tmp / "other.txt").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["other.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub-01"], "no temporaries left"
    (tmp_path / ".sub-02.abc.tmp").mkdir()
    (target / ".findings.json.x.tmp.json").write_text("")
    removed = remove_temporaries(tmp_path)
    assert {p.name for p in removed} == {".sub-02.abc.tmp", ".findings.json.x.tmp.json"}
    assert (target / "other.txt").exists()


def test_local_cluster_is_sized_to_cores_memory_and_cases():
    gib = 2**30
    assert local_sizing(10, cores=8, available=64 * gib).workers == 8
    assert local_sizing(10, cores=8, available=10 * gib).workers == 2  # 4 GiB per case
    assert local_sizing(3, cores=8, available=64 * gib).workers == 3
    assert local_sizing(3, cores=8, available=1 * gib).workers == 1
    two = local_sizing(10, workers=2, cores=2, available=20 * gib)
    assert two.workers == 2 and two.memory_limit == 9 * gib and two.threads_per_case == 1
    assert local_sizing(10, workers=2, memory_per_worker="6GB", cores=2).memory_limit == 6e9
    with pytest.raises(UsageError):
        local_sizing(10, workers=0)
    with pytest.raises(UsageError):
        local_sizing(10, memory_per_worker="lots")


def test_slurm_job_script_carries_the_options():
    opts = SlurmOptions(
        queue="short",
        account="neuro",
        walltime="00:30:00",
        cores=2,
        memory="6GB",
        job_extra=("--qos=low",),
    )
    kwargs = slurm_kwargs(opts)
    assert kwargs["processes"] == 1 and kwargs["cores"] == 2
    cluster = slurm_cluster(opts, scheduler_host="127.0.0.1")
    with cluster:
        script = cluster.job_script()
    for line in (
        "#SBATCH -p short",
        "#SBATCH -A neuro",
        "#SBATCH -t 00:30:00",
        "#SBATCH --qos=low",
        "#SBATCH -n 1",
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --mem=",
        "--nthreads 2",
        "--memory-limit 5.59GiB",
        "tcp://127.0.0.1:",
    ):
        assert line in script, (line, script)
    with pytest.raises(UsageError):
        slurm_kwargs(SlurmOptions(memory="much"))


def test_dry_run_prints_the_slurm_job_script(dataset: Path, tmp_path: Path, capsys):
    code = main(
        [
            "batch",
            str(dataset),
            str(tmp_path / "out"),
            "participant",
            "--slurm",
            "--slurm-queue",
            "long",
            "--slurm-walltime",
            "02:00:00",
            "--memory-per-worker",
            "12GB",
            "--slurm-job-extra=--qos=high",
            "--dry-run",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "#SBATCH -p long" in out and "#SBATCH -t 02:00:00" in out
    assert "#SBATCH --qos=high" in out and "--memory-limit 11.18GiB" in out
    assert not (tmp_path / "out").exists()
    out_o = str(tmp_path / "o")
    for bad in (
        ["--slurm", "--scheduler", "tcp://127.0.0.1:1"],
        ["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"],
        ["--workers", "0"],
        ["--time-limit", "0"],
        ["--memory-per-worker", "lots"],
        ["--retries", "-1"],
    ):
        assert main(["batch", str(dataset), out_o, "participant", *bad]) == 2, bad
    assert not (tmp_path / "o").exists(), "refused before writing anything"


def test_offender_is_the_arterial_contact_in_the_vulnerable_zone():
    def contact(cls, d, zone=True, grade="contact"):
        return Contact(
            vessel_class=cls,
            vessel_name="vein" if cls == "vein" else "AICA",
            min_distance_mm=d,
            segment="AS",
            distance_from_rexp_mm=3.0,
            in_vulnerable_zone=zone,
            grade=grade,
            indentation_mm=0.0,
            contact_length_mm=1.0,
            position="anterior",
            location_ras_mm=(0.0, 0.0, 0.0),
        )

    def side(*contacts):
        return SideFindings("left", True, True, True, 0.9, (), contacts=contacts)

    s = side(contact("vein", 0.0), contact("artery", 0.3), contact("artery", 0.0, False))
    assert offender(s) == s.contacts[1]
    assert offender(side(contact("artery", 1.2, grade=None))) is None
    off = offender(side(contact("vein", 0.1)))
    assert off is not None and off.vessel_class == "vein"
    assert offender(side()) is None


def test_the_worker_side_imports_no_image_library():
    """Dask workers import only nvc_pipelines.batch_case: they stay small (cases run apart)."""
    code = (
        "import sys, nvc_pipelines.batch_case\n"
        "print(' '.join(sorted({k.split('.')[0] for k in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded = set(out.stdout.split())
    assert not loaded & {"numpy", "scipy", "SimpleITK", "nibabel", "skimage", "nvc", "dask"}


def test_failure_reason_says_disk_full_for_enospc_and_edquot():
    import errno

    from nvc_pipelines.case_process import failure_reason

    for code in (errno.ENOSPC, errno.EDQUOT):
        exc = OSError(code, "No space left on device", "/data/out/sub-01")
        assert failure_reason(exc) == (
            "disk full: no space left on device writing /data/out/sub-01 (free space and rerun)"
        )
    denied = PermissionError(errno.EACCES, "Permission denied", "/data/out/sub-01")
    assert failure_reason(denied).startswith("cannot write output: [Errno 13] Permission denied")
