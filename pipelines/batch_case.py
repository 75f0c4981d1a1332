"""One case of a batch, run in its own process under a time and memory limit.

The Dask task (``case_task``) starts ``python -m nvc_pipelines.case_process`` as a
child process and watches it: a case that raises, crashes, runs out of memory
or out of time ends only its own process, never the Dask worker, and comes
back as a one-line reason. The child (``nvc_pipelines.case_process``) runs the
same two calls as ``nvc run`` and writes the case folder atomically.

This module stays light (standard library and psutil): it is what the Dask
workers import, so a worker holds no image library and no image.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

#: Written beside findings.json in each case folder: how the batch ran the case.
BATCH_JSON = "batch.json"
_POLL_S = 0.2
_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS",
)


@dataclass(frozen=True)
class CaseJob:
    """Everything one case needs (plain values: it travels to Dask workers and child processes).

    Attributes
    ----------
    case_id : str
        ``sub-01`` or ``sub-01_ses-02``.
    t2, angio : str
        Input images (absolute paths, readable by the workers).
    hfs_side : str or None
        Symptomatic side.
    out_dir : str
        Final results folder (written atomically).
    log : str
        Log file of the case (appended to, one block per attempt).
    config_toml : str
        The pipeline configuration (TOML text).
    sources : dict
        Input paths relative to the BIDS dataset (recorded in ``batch.json``).
    threads : int or None
        Threads the case may use (numerical libraries, ITK); None leaves their defaults.
    report : bool
        Also build the case's report (``report/`` in its folder), as ``nvc run`` does.
    """

    case_id: str
    t2: str
    angio: str
    hfs_side: str | None
    out_dir: str
    log: str
    config_toml: str
    sources: dict[str, str]
    threads: int | None = None
    report: bool = True


@dataclass(frozen=True)
class CaseOutcome:
    """How one attempt at a case ended.

    Attributes
    ----------
    status : {"done", "failed"}
    reason : str
        One line; empty when done.
    seconds : float
        Wall time of the attempt.
    peak_rss_mb : float or None
        Peak resident memory of the case process (MB).
    worker : str
        Name of the Dask worker (or host) that ran it.
    worker_peak_rss_mb : float or None
        Peak resident memory of the process that supervised it (the Dask worker; MB).
    """

    case_id: str
    status: str
    reason: str
    seconds: float
    peak_rss_mb: float | None
    worker: str
    worker_peak_rss_mb: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary."""
        return dataclasses.asdict(self)


def supervise(
    job: CaseJob,
    *,
    time_limit_s: float | None = None,
    memory_limit_bytes: int | None = None,
    worker: str = "",
) -> CaseOutcome:
    """Run one case in a child process; kill it past the time or memory limit.

    Parameters
    ----------
    time_limit_s : float, optional
        Wall-time limit of the case (seconds).
    memory_limit_bytes : int, optional
        Resident-memory limit of the case process and its children (bytes).
    worker : str
        Name recorded in the outcome and the log.
    """
    worker = worker or socket.gethostname()
    log_path = Path(job.log)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if job.threads:
        env.update({k: str(job.threads) for k in _THREAD_VARIABLES})
    request = json.dumps(
        {"parent_pid": os.getpid(), "worker": worker, "job": dataclasses.asdict(job)}
    )
    t0 = time.monotonic()
    killed_for = ""
    peak = 0
    unfinished = _unfinished_attempt(log_path)
    with log_path.open("a", encoding="utf-8") as logf:
        if unfinished:
            logf.write(
                f"{_now()} {job.case_id}: the attempt above ended without an outcome "
                "(its worker or the batch was killed)\n"
            )
        logf.write(f"{_now()} {job.case_id}: start on {worker} (pid {os.getpid()})\n")
        logf.flush()
        child = subprocess.Popen(
            [sys.executable, "-m", "nvc_pipelines.case_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=logf,
            env=env,
            text=True,
        )
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(request)
        child.stdin.close()
        while child.poll() is None:
            rss = _tree_rss(child.pid)
            peak = max(peak, rss)
            elapsed = time.monotonic() - t0
            if memory_limit_bytes and rss > memory_limit_bytes:
                killed_for = (
                    f"out of memory: the case used more than "
                    f"{memory_limit_bytes / 2**20:.0f} MiB (the limit per case)"
                )
            elif time_limit_s and elapsed > time_limit_s:
                killed_for = f"time limit exceeded ({time_limit_s:g} s)"
            if killed_for:
                _kill_tree(child)
                break
            time.sleep(_POLL_S)
        child.wait()
        output = child.stdout.read()
        child.stdout.close()
        seconds = time.monotonic() - t0
        reply = _last_json(output)
        if killed_for:
            status, reason = "failed", killed_for
        elif reply is not None and reply.get("status") in ("done", "failed"):
            status, reason = str(reply["status"]), str(reply.get("reason", ""))
        elif child.returncode < 0:
            status, reason = "failed", _signal_reason(-child.returncode)
        else:
            status, reason = "failed", f"case process exited with code {child.returncode}"
        if status == "done" and not (Path(job.out_dir) / "findings.json").is_file():
            status, reason = "failed", "case process ended without writing findings.json"
        peak_mb = reply.get("peak_rss_mb") if reply else None
        if peak_mb is None and peak:
            peak_mb = peak / 2**20
        logf.write(
            f"{_now()} {job.case_id}: {status}{': ' + reason if reason else ''} ({seconds:.1f} s)\n"
        )
    return CaseOutcome(
        case_id=job.case_id,
        status=status,
        reason=reason,
        seconds=round(seconds, 2),
        peak_rss_mb=None if peak_mb is None else round(float(peak_mb), 1),
        worker=worker,
        worker_peak_rss_mb=round(peak_rss_mb(), 1),
    )


def case_task(job: CaseJob, time_limit_s: float | None) -> dict[str, Any]:
    """The Dask task: one case under the limits of the worker that runs it.

    The memory limit per case is the worker's memory limit divided by its
    number of threads (each thread runs one case at a time); so are the CPUs
    this worker may use (e.g. a SLURM job's), unless the job sets its threads.
    """
    from distributed import get_worker

    try:
        w = get_worker()
    except ValueError:  # called outside a worker (e.g. directly in a test)
        return supervise(job, time_limit_s=time_limit_s).to_dict()
    nthreads = max(w.state.nthreads, 1)
    limit = w.memory_manager.memory_limit
    per_case = int(limit / nthreads) if limit else None
    if job.threads is None:
        job = dataclasses.replace(job, threads=max(1, usable_cpus() // nthreads))
    return supervise(
        job, time_limit_s=time_limit_s, memory_limit_bytes=per_case, worker=str(w.name)
    ).to_dict()


def ignore_interrupts() -> None:
    """Ignore SIGINT in this process (run on local workers: Ctrl-C is for the batch to handle).

    The batch closes its cluster on Ctrl-C; workers (and their cases) end with it
    instead of each printing a KeyboardInterrupt traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, e.g. a SLURM job's cpuset)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def _unfinished_attempt(log_path: Path) -> bool:
    """Whether the log's last attempt has no outcome line (it was killed)."""
    if not log_path.is_file():
        return False
    lines = [ln for ln in log_path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return bool(lines) and not re.match(r"\S+ sub-\S+: (done|failed)\b", lines[-1])


def peak_rss_mb() -> float:
    """Peak resident memory of this process (MB).

    Linux: ``VmHWM`` of /proc/self/status, the high-water mark of this process's
    own memory (``ru_maxrss`` would carry a parent's peak across fork and exec).
    Elsewhere ``ru_maxrss`` (bytes on macOS, kB otherwise).
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    scale = 1.0 if sys.platform == "darwin" else 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _tree_rss(pid: int) -> int:
    """Resident memory of a process and its descendants (bytes; 0 once it is gone)."""
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def _kill_tree(child: subprocess.Popen[str]) -> None:
    try:
        procs = psutil.Process(child.pid).children(recursive=True)
    except psutil.Error:
        procs = []
    child.kill()
    for p in procs:
        try:
            p.kill()
        except psutil.Error:
            continue


def _signal_reason(signum: int) -> str:
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    if signum == signal.SIGKILL:
        return f"case process killed ({name}; out of memory or killed by the system?)"
    return f"case process crashed ({name})"


def _last_json(output: str) -> dict[str, Any] | None:
    for line in reversed(output.strip().splitlines()):
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
