"""The process that analyses one case of a batch: ``python -m nvc_pipelines.case_process``.

Started by ``nvc_pipelines.batch_case.supervise`` with the job as JSON on stdin;
answers with one JSON line on stdout; logs to stderr (the case log). It runs
the same two calls as ``nvc run`` (``nvc_pipelines.case.run_case`` then
``nvc_pipelines.outputs.save_case``) into a temporary sibling folder that is
renamed into place when complete, so a killed case never leaves a folder that
looks finished. It dies with its parent (Linux ``PR_SET_PDEATHSIG``): killing
a worker or the whole batch leaves no orphan analysis running.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import logging
import os
import signal
import socket
import sys
import time
import tomllib
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from nvc import __version__
from nvc.io import VolumeLoadError, load_volume
from nvc.io.atomic import atomic_dir
from nvc.io.jsonfile import write_json
from nvc.vocabulary import SIDES, closed
from nvc_pipelines.batch_case import BATCH_JSON, CaseJob, peak_rss_mb
from nvc_pipelines.case import run_case
from nvc_pipelines.config import config_from_dict
from nvc_pipelines.errors import AnalysisError, UsageError
from nvc_pipelines.outputs import save_case
from nvc_pipelines.report import write_report


def run_job(job: CaseJob, *, log: logging.Logger, worker: str = "") -> float:
    """Analyse one case and write its results folder atomically (runs in the child).

    Returns
    -------
    float
        Seconds taken (loading, analysis and writing).

    Raises
    ------
    VolumeLoadError, AnalysisError, UsageError, OSError
        The expected failures (anything else is a bug, reported with its traceback).
    """
    t0 = time.perf_counter()
    try:
        config = config_from_dict(tomllib.loads(job.config_toml))
    except (tomllib.TOMLDecodeError, TypeError, ValueError) as exc:
        raise UsageError(f"configuration: {exc}") from None
    log.info("loading T2 %s", job.sources.get("t2", job.t2))
    t2 = load_volume(job.t2)
    log.info("loading angio %s", job.sources.get("angio", job.angio))
    mra = load_volume(job.angio)
    log.info("symptomatic side: %s", job.hfs_side or "not given")
    result = run_case(
        t2,
        mra,
        symptomatic_side=None if job.hfs_side is None else closed(job.hfs_side, SIDES, "side"),
        config=config,
        progress=lambda stage, done: log.info("stage %s (%.0f%%)", stage, 100 * done),
    )
    try:
        with atomic_dir(job.out_dir) as tmp:
            save_case(result, tmp, config, inputs={"t2": Path(job.t2), "mra": Path(job.angio)})
            if job.report:
                log.info("report %s", write_report(tmp))
            seconds = time.perf_counter() - t0
            write_json(
                tmp / BATCH_JSON,
                {
                    "case": job.case_id,
                    "sources": job.sources,
                    "symptomatic_side": job.hfs_side,
                    "seconds": round(seconds, 2),
                    "peak_rss_mb": round(peak_rss_mb(), 1),
                    "worker": worker,
                    "host": socket.gethostname(),
                    "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                    "nvc_version": __version__,
                },
            )
    except OSError as exc:  # name the case folder, not the temporary one (which is gone)
        log.error("writing %s failed: %s", job.out_dir, exc)
        raise OSError(exc.errno, exc.strerror or str(exc), str(job.out_dir)) from None
    for side, f in result.findings.sides.items():
        log.info("%s: nvc=%s mvd_candidate=%s", side, f.nvc, f.mvd_candidate)
    return seconds


def failure_reason(exc: BaseException) -> str:
    """One line saying why a case failed."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, VolumeLoadError):
        return f"unreadable input: {text}"
    if isinstance(exc, AnalysisError):
        return f"analysis impossible: {text}"
    if isinstance(exc, UsageError):
        return f"bad configuration: {text}"
    if isinstance(exc, MemoryError):
        return "out of memory (MemoryError)"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" writing {exc.filename}" if exc.filename else ""
        return f"disk full: no space left on device{where} (free space and rerun)"
    if isinstance(exc, OSError):
        return f"cannot write output: {text}"
    return f"{type(exc).__name__}: {text}"


def child_main(stdin: TextIO = sys.stdin) -> int:
    """Body of ``python -m nvc_pipelines.case_process``: job (JSON) on stdin, outcome on stdout.

    Log lines go to stderr (the supervisor points it at the case log).
    """
    request = json.loads(stdin.read())
    _die_with_parent(int(request["parent_pid"]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's; it ends with its worker
    job = CaseJob(**request["job"])
    out = sys.stdout
    sys.stdout = sys.stderr  # only the outcome line goes to the supervisor
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s", force=True
    )
    log = logging.getLogger(f"nvc.batch.{job.case_id}")
    status, reason, seconds = "done", "", 0.0
    try:
        seconds = run_job(job, log=log, worker=str(request.get("worker", "")))
    except Exception as exc:
        status, reason = "failed", failure_reason(exc)
        for key, path in (("t2", job.t2), ("angio", job.angio)):
            if key in job.sources:  # name inputs as in the dataset, not by absolute path
                reason = reason.replace(path, job.sources[key])
        log.error("failed: %s\n%s", reason, traceback.format_exc())
    out.write(
        json.dumps(
            {"status": status, "reason": reason, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}
        )
        + "\n"
    )
    out.flush()
    return 0 if status == "done" else 1


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no orphaned analyses)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before prctl
        os._exit(1)


if __name__ == "__main__":
    raise SystemExit(child_main())
