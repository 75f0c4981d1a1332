"""``nvc batch`` on a small phantom cohort with 2 Dask workers.

Three cases: sub-01 and sub-02 are phantoms (0.7 mm, to keep the module short),
sub-03 has a truncated T2. Checked: good cases finish and the corrupted one
fails alone; a batch killed (SIGKILL, whole process group) after its first case
resumes without recomputing it; a worker killed mid-case does not stop the
other case, and a rerun finishes the killed one without recomputing the rest;
a case past its time or memory limit fails with that reason; a full disk (a
small tmpfs filled up) fails only the case being written, with "disk full",
leaves the finished case byte-identical, and a rerun after space is freed
finishes it; the group summary matches the per-case findings.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from nvc.findings import SideFindings
from nvc.io.bids import write_dataset_description, write_participants
from nvc.phantom import draw_params, make_case
from nvc_pipelines.cli import main
from nvc_pipelines.group import offender, verdict
from nvc_pipelines.phantom_cohort import write_case

pytestmark = pytest.mark.slow
NVC = [sys.executable, "-m", "nvc_pipelines.cli"]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cohort") / "bids"
    rows = []
    for i, label in enumerate(("01", "02")):
        p = draw_params(4242 + i)
        im = dataclasses.replace(
            p.imaging, t2_spacing_mm=(0.7, 0.7, 0.7), mra_spacing_mm=(0.45, 0.45, 0.9)
        )
        case = make_case(dataclasses.replace(p, imaging=im))
        write_case(root, label, case)
        rows.append({"participant_id": f"sub-{label}", "hfs_side": case.truth.hfs_side})
    bad = root / "sub-03" / "anat"
    bad.mkdir(parents=True)
    t2 = (root / "sub-01/anat/sub-01_T2w.nii.gz").read_bytes()
    (bad / "sub-03_T2w.nii.gz").write_bytes(t2[: len(t2) // 2])
    shutil.copy(root / "sub-01/anat/sub-01_angio.nii.gz", bad / "sub-03_angio.nii.gz")
    rows.append({"participant_id": "sub-03", "hfs_side": "n/a"})
    write_participants(root, rows)
    write_dataset_description(root, "batch test cohort")
    return root


@pytest.fixture(scope="module")
def first_run(cohort, tmp_path_factory):
    out = tmp_path_factory.mktemp("first") / "derivatives"
    code = main(["batch", str(cohort), str(out), "participant", "--workers", "2"])
    return out, code


def _failures(out: Path) -> dict[str, dict[str, str]]:
    with (out / "failures.tsv").open() as fh:
        return {r["participant_id"]: r for r in csv.DictReader(fh, delimiter="\t")}


def _mtimes(out: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in out.glob("sub-*/findings.json")}


def test_good_cases_finish_and_the_corrupted_one_fails_alone(first_run):
    out, code = first_run
    assert code == 4, "exit code 4: some case failed"
    for sub in ("sub-01", "sub-02"):
        d = out / sub
        for name in ("findings.json", "labels.nii.gz", "t2.nii.gz", "config.toml", "batch.json"):
            assert (d / name).is_file(), (sub, name)
        log = (out / "logs" / f"{sub}.log").read_text(encoding="utf-8")
        assert "stage registration" in log and f"{sub}: done" in log
    assert not (out / "sub-03").exists()
    failures = _failures(out)
    assert list(failures) == ["sub-03"]
    reason = failures["sub-03"]["reason"]
    assert reason.startswith("unreadable input: sub-03/anat/sub-03_T2w.nii.gz: truncated"), reason
    assert failures["sub-03"]["log"] == "logs/sub-03.log"
    desc = json.loads((out / "dataset_description.json").read_text(encoding="utf-8"))
    assert desc["DatasetType"] == "derivative"
    assert desc["GeneratedBy"][0]["Name"] == "nvc"
    assert desc["SourceDatasets"][0]["URL"].startswith("file://")
    assert not [p for p in out.rglob(".*") if ".tmp" in p.name], "temporaries left behind"


def test_rerun_skips_done_cases(first_run, cohort, capsys):
    out, _ = first_run
    before = _mtimes(out)
    capsys.readouterr()
    assert (
        main(["batch", str(cohort), str(out), "participant", "--no-report", "--workers", "1"]) == 4
    )
    text = capsys.readouterr().out
    assert "sub-01: skipped (done)" in text and "sub-02: skipped (done)" in text
    assert _mtimes(out) == before
    assert list(_failures(out)) == ["sub-03"]


def test_group_summary_matches_the_per_case_findings(first_run, cohort):
    out, _ = first_run
    assert main(["batch", str(cohort), str(out), "group"]) == 0
    with (out / "group_summary.tsv").open() as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len(rows) == 6
    for row in rows:
        if row["participant_id"] == "sub-03":
            assert row["status"] == "failed" and row["verdict"] == "failed"
            assert row["reason"].startswith("unreadable input")
            continue
        case = out / row["participant_id"]
        findings = json.loads((case / "findings.json").read_text(encoding="utf-8"))
        side = findings["sides"][row["side"]]
        typed = SideFindings.from_dict(side)
        assert row["verdict"] == verdict(typed)
        assert row["verdict"] == ("NVC" if side["nvc"] else "no NVC") or not side["nerve_found"]
        assert row["mvd_candidate"] == ("yes" if side["mvd_candidate"] else "no")
        assert float(row["confidence"]) == side["confidence"]
        sym = findings["symptomatic_side"]
        assert row["symptomatic"] == ("yes" if sym == row["side"] else "no")
        off = offender(typed)
        if off is None:
            assert row["offender"] == row["min_distance_mm"] == row["segment"] == "n/a"
        else:
            assert row["offender"] == off.vessel_name
            assert row["segment"] == off.segment
            assert float(row["min_distance_mm"]) == off.min_distance_mm
            assert float(row["distance_from_rexp_mm"]) == off.distance_from_rexp_mm
        nearest = min((c["min_distance_mm"] for c in side["contacts"]), default=None)
        assert row["nearest_vessel_mm"] == ("n/a" if nearest is None else str(nearest))
        meta = json.loads((case / "batch.json").read_text(encoding="utf-8"))
        assert float(row["seconds"]) == meta["seconds"] > 0
        # the participant run built each case's report, as nvc run does
        assert row["results"] == f"{row['participant_id']}/report/report.html"
        assert (out / row["results"]).is_file()
    page = (out / "group_report.html").read_text(encoding="utf-8")
    assert 'href="sub-02/report/report.html"' in page and 'href="sub-01/report/report.html"' in page
    assert 'href="logs/sub-03.log"' in page and "data:image/png;base64," in page
    assert "Research use only" in page


def _wait(predicate, timeout: float, proc: subprocess.Popen | None = None) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"batch ended early with code {proc.returncode}")
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.2)


def _case_processes(root_pid: int) -> list[psutil.Process]:
    try:
        procs = psutil.Process(root_pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for p in procs:
        try:
            if "nvc_pipelines.case_process" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:
            continue
    return out


def test_killed_batch_resumes_without_recomputing(cohort, tmp_path):
    out = tmp_path / "out"
    cmd = [*NVC, "batch", str(cohort), str(out), "participant", "--no-report", "--workers", "1"]
    with (tmp_path / "batch.txt").open("w") as log:
        proc = subprocess.Popen(cmd, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: (out / "sub-01" / "findings.json").exists(), 240, proc)
        # the worker has moved on to sub-02: kill the batch while it runs
        log2 = out / "logs" / "sub-02.log"
        _wait(
            lambda: log2.exists() and "stage registration" in log2.read_text(encoding="utf-8"),
            60,
            proc,
        )
        children = _case_processes(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    _wait(lambda: not any(c.is_running() and c.status() != "zombie" for c in children), 10)
    assert not (out / "sub-02" / "findings.json").exists()
    done = _mtimes(out)
    assert list(done) == ["sub-01"]
    rerun = subprocess.run(
        [*NVC, "batch", str(cohort), str(out), "participant", "--no-report", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 4, rerun.stdout + rerun.stderr
    assert "sub-01: skipped (done)" in rerun.stdout
    assert _mtimes(out)["sub-01"] == done["sub-01"], "sub-01 was recomputed"
    assert (out / "sub-02" / "findings.json").is_file()
    assert list(_failures(out)) == ["sub-03"]
    assert "ended without an outcome" in (out / "logs" / "sub-02.log").read_text(encoding="utf-8")
    assert not [p for p in out.rglob(".*") if ".tmp" in p.name]


def test_killed_worker_does_not_stop_the_others(cohort, tmp_path):
    out = tmp_path / "out"
    cmd = [
        *NVC,
        "batch",
        str(cohort),
        str(out),
        "participant",
        "--no-report",
        "--participant-label",
        "01",
        "02",
        "--workers",
        "2",
        "--retries",
        "0",
    ]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE, text=True)
    try:
        _wait(lambda: len(_case_processes(proc.pid)) == 2, 120, proc)
        log2 = out / "logs" / "sub-02.log"
        _wait(
            lambda: log2.exists() and "stage registration" in log2.read_text(encoding="utf-8"),
            60,
            proc,
        )
        victim = psutil.Process(_pid_running(log2))  # the worker running sub-02
        assert victim.pid in {c.parent().pid for c in _case_processes(proc.pid)}
        victim.kill()
        stdout, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 4, stdout
    assert (out / "sub-01" / "findings.json").is_file()
    failures = _failures(out)
    assert list(failures) == ["sub-02"]
    assert failures["sub-02"]["reason"].startswith("worker died")
    before = _mtimes(out)
    rerun = main(["batch", str(cohort), str(out), "participant", "--no-report", "--workers", "2",
                  "--participant-label", "01", "02"])  # fmt: skip
    assert rerun == 0
    assert _mtimes(out)["sub-01"] == before["sub-01"], "sub-01 was recomputed"
    assert (out / "sub-02" / "findings.json").is_file()
    assert not (out / "failures.tsv").exists()


def _pid_running(log: Path) -> int:
    """PID of the worker that started the last attempt in a case log (0 if none)."""
    for line in reversed(log.read_text(encoding="utf-8").splitlines()):
        if ": start on " in line and "(pid " in line:
            return int(line.rsplit("(pid ", 1)[1].rstrip(")"))
    return 0


def test_time_and_memory_limits_fail_the_case_with_the_reason(cohort, tmp_path):
    """Through the whole engine: the worker's memory limit and --time-limit end the case only."""
    one = [
        "batch",
        str(cohort),
        "",
        "participant",
        "--no-report",
        "--participant-label",
        "01",
        "--workers",
        "1",
    ]
    one[2] = str(tmp_path / "mem")
    assert main([*one, "--memory-per-worker", "250MB"]) == 4
    reason = _failures(tmp_path / "mem")["sub-01"]["reason"]
    assert reason.startswith("out of memory: the case used more than 238 MiB"), reason
    one[2] = str(tmp_path / "time")
    # far below any case's run time (starting the worker's process alone takes longer)
    assert main([*one, "--time-limit", "0.5"]) == 4
    assert _failures(tmp_path / "time")["sub-01"]["reason"] == "time limit exceeded (0.5 s)"
    for name in ("mem", "time"):
        assert not (tmp_path / name / "sub-01").exists()
        log = (tmp_path / name / "logs" / "sub-01.log").read_text(encoding="utf-8")
        assert "sub-01: failed: " in log


def test_runs_on_an_existing_scheduler(cohort, tmp_path):
    """``--scheduler``: a ``dask scheduler`` and a ``dask worker`` started apart (loopback only)."""
    dask = str(Path(sys.executable).with_name("dask"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    common = ["--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0"]
    logs = (tmp_path / "scheduler.txt").open("w")
    procs = [subprocess.Popen([dask, "scheduler", "--port", str(port), *common], stdout=logs,
                              stderr=subprocess.STDOUT)]  # fmt: skip
    try:
        procs.append(
            subprocess.Popen(
                [dask, "worker", address, "--nthreads", "1", "--memory-limit", "2GB", *common],
                stdout=logs,
                stderr=subprocess.STDOUT,
            )
        )
        out = tmp_path / "out"
        # sub-03 (the corrupted case) fails in seconds: enough to go through the scheduler
        code = main(["batch", str(cohort), str(out), "participant", "--no-report",
                     "--participant-label", "03", "--scheduler", address])  # fmt: skip
        assert code == 4
        failure = _failures(out)["sub-03"]
        assert failure["reason"].startswith("unreadable input")
        assert "start on tcp://127.0.0.1:" in (out / "logs" / "sub-03.log").read_text(
            encoding="utf-8"
        )
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=30)
        logs.close()


#: Free space left on the simulated disk: room for logs and failures.tsv, not for a case.
DISK_MARGIN = 256 * 1024


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MiB tmpfs of its own, so that filling it affects this test only (root only)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("simulating a full disk needs root and mount(8) for a small tmpfs")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "nvc-test-disk", str(mnt)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to simulate a full disk: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    """A ballast file that leaves ``leave`` bytes free on ``disk``."""
    st = os.statvfs(disk)
    ballast = disk / "ballast"
    size = st.f_bavail * st.f_frsize - leave
    with ballast.open("wb") as fh:
        for _ in range(size // 2**20):
            fh.write(bytes(2**20))
        fh.write(bytes(size % 2**20))
    return ballast


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_full_disk_fails_the_case_and_keeps_finished_results(first_run, cohort, small_disk):
    """A real ENOSPC (a full tmpfs) while a case writes: that case fails, nothing else changes."""
    src, _ = first_run
    out = small_disk / "derivatives"
    out.mkdir()
    # sub-01 finished in an earlier run (the module's first run, copied with its report)
    shutil.copy(src / "dataset_description.json", out)
    shutil.copytree(src / "sub-01", out / "sub-01")
    before = _digests(out / "sub-01")
    mtime = _mtimes(out)["sub-01"]
    ballast = _fill(small_disk, DISK_MARGIN)
    batch = ["batch", str(cohort), str(out), "participant", "--no-report",
             "--participant-label", "01", "02", "--workers", "1", "--retries", "0"]  # fmt: skip
    assert main(batch) == 4
    failures = _failures(out)
    assert list(failures) == ["sub-02"]
    reason = failures["sub-02"]["reason"]
    assert reason == f"disk full: no space left on device writing {out / 'sub-02'} " \
        "(free space and rerun)", reason  # fmt: skip
    assert not (out / "sub-02").exists(), "a partial case folder was left"
    assert not [p for p in out.rglob(".*") if ".tmp" in p.name], "temporaries left behind"
    assert "sub-02: failed: disk full" in (out / "logs" / "sub-02.log").read_text(encoding="utf-8")
    assert _digests(out / "sub-01") == before and _mtimes(out)["sub-01"] == mtime
    # space freed: the rerun finishes sub-02 and leaves sub-01 alone
    ballast.unlink()
    assert main(batch) == 0
    assert (out / "sub-02" / "findings.json").is_file()
    assert not (out / "failures.tsv").exists()
    assert _digests(out / "sub-01") == before and _mtimes(out)["sub-01"] == mtime
