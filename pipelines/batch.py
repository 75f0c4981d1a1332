"""``nvc batch BIDS_DIR OUT_DIR participant|group``: a whole BIDS dataset on Dask (BIDS-Apps).

Participant level: every case (subject, or subject and session) found in
BIDS_DIR is analysed as one Dask task, on a local cluster by default, on an
existing scheduler (``--scheduler``) or on SLURM (``--slurm``). Results go into
a BIDS derivatives dataset in OUT_DIR, one folder per case, written
atomically. A case whose ``findings.json`` was made from the same inputs,
symptomatic side and configuration is skipped ("skipped (done)"); a case that
fails (exception, crash, memory or time limit, dead worker) is recorded in
``failures.tsv`` and never stops the others. Killing the batch and running the
same command again finishes the rest.

Group level: ``group_summary.tsv`` and ``group_report.html`` from the saved cases.

One batch at a time per OUT_DIR: a second is refused (exit 2) naming the first's host,
pid and start time; the lock a killed batch leaves is taken over.

Exit codes: 0 every case done, 2 usage, 3 unreadable dataset, 4 some case(s) failed.
"""

from __future__ import annotations

import argparse
import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dask.utils import parse_bytes

from nvc import DISCLAIMER, __version__
from nvc.io.atomic import remove_temporaries
from nvc.io.hashing import sha256_of
from nvc.io.jsonfile import read_json, write_json
from nvc.io.lock import ExclusiveLock, LockHeld
from nvc_pipelines.batch_case import CaseJob, CaseOutcome, case_task
from nvc_pipelines.config import PipelineConfig, load_config
from nvc_pipelines.discovery import CaseSpec, Discovery, discover
from nvc_pipelines.engine import EngineOptions, SlurmOptions, open_client, slurm_cluster
from nvc_pipelines.errors import EXIT_ANALYSIS, EXIT_OK, InputError, UsageError, run_guarded
from nvc_pipelines.group import FAILURE_COLUMNS, FAILURES, read_failures, write_group, write_tsv

DESCRIPTION = "dataset_description.json"
LOGS = "logs"
#: Lock file held by the batch writing OUT_DIR (hidden: not part of the BIDS dataset).
LOCK = ".nvc-batch.lock"
_BAR = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nvc batch`` (BIDS-Apps order: bids_dir output_dir analysis_level)."""
    parser.add_argument("bids_dir", type=Path, help="BIDS raw dataset (read only)")
    parser.add_argument(
        "output_dir",
        type=Path,
        help="derivatives dataset to write (outside BIDS_DIR, or under BIDS_DIR/derivatives/)",
    )
    parser.add_argument("analysis_level", choices=["participant", "group"])
    parser.add_argument(
        "--participant-label",
        "--participant_label",
        nargs="+",
        metavar="LABEL",
        help="only these subjects (e.g. 01 02; the sub- prefix is optional)",
    )
    parser.add_argument(
        "--config", help="TOML config file or preset name (default: built-in defaults)"
    )
    parser.add_argument("--t2-acq", metavar="LABEL", help="acq- label of the T2w when several")
    parser.add_argument("--angio-acq", metavar="LABEL", help="acq- label of the angio when several")
    parser.add_argument(
        "--no-report", action="store_true", help="skip each case's report (report/ in its folder)"
    )
    parser.add_argument(
        "--time-limit", type=float, metavar="SECONDS", help="wall-time limit per case"
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        metavar="N",
        help="times a case is rerun after its worker died (default 2)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would run (and print the SLURM job script); write nothing",
    )
    eng = parser.add_argument_group(
        "engine", "default: a Dask cluster of worker processes on this machine"
    )
    eng.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="local worker processes (default: sized to cores and memory); "
        "with --slurm: maximum number of SLURM jobs",
    )
    eng.add_argument(
        "--memory-per-worker",
        metavar="SIZE",
        help="memory limit per worker, e.g. 6GB (local default: available memory / workers; "
        "with --slurm: memory per job, default 8GB)",
    )
    eng.add_argument("--scheduler", metavar="ADDRESS", help="existing Dask scheduler (tcp://...)")
    eng.add_argument("--slurm", action="store_true", help="run the workers as SLURM jobs")
    eng.add_argument("--slurm-queue", metavar="PARTITION", help="SLURM partition (-p)")
    eng.add_argument("--slurm-account", metavar="ACCOUNT", help="SLURM account (-A)")
    eng.add_argument(
        "--slurm-walltime", default="01:00:00", metavar="HH:MM:SS", help="per job (-t)"
    )
    eng.add_argument(
        "--slurm-cores",
        type=int,
        default=1,
        metavar="N",
        help="cores per job = cases at once per job",
    )
    eng.add_argument(
        "--slurm-job-extra",
        action="append",
        default=[],
        metavar="DIRECTIVE",
        help="extra #SBATCH directive, e.g. --qos=normal (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    """Body of ``nvc batch``."""

    def body() -> int:
        bids, out = args.bids_dir, args.output_dir
        if not bids.is_dir():
            raise InputError(f"{bids}: BIDS dataset folder not found")
        if not (bids / DESCRIPTION).is_file() and not any(bids.glob("sub-*")):
            raise InputError(f"{bids}: not a BIDS dataset (no {DESCRIPTION}, no sub-* folders)")
        check_output_location(bids, out)
        found = discover(
            bids,
            participant_labels=args.participant_label,
            t2_acq=args.t2_acq,
            angio_acq=args.angio_acq,
        )
        for s in found.skipped:
            print(f"skipped {s.case_id}: {s.reason}")
        if args.analysis_level == "group":
            return _group(out, found)
        if not found.cases:
            raise InputError(f"{bids}: no case to analyse (no subject with a T2w and an angio)")
        return participant(args, bids, out, found, load_config(args.config))

    try:
        return run_guarded(body)
    except KeyboardInterrupt:
        print("nvc: interrupted; run the same command again to finish the remaining cases")
        return 130


def engine_options(args: argparse.Namespace) -> EngineOptions:
    """The engine chosen on the command line."""
    if args.scheduler and args.slurm:
        raise UsageError("choose one of --scheduler and --slurm")
    if args.scheduler and args.workers is not None:
        raise UsageError("--workers is for clusters nvc starts, not with --scheduler")
    if args.retries < 0:
        raise UsageError("--retries must be 0 or more")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.time_limit is not None and args.time_limit <= 0:
        raise UsageError("--time-limit must be positive")
    if args.memory_per_worker is not None:
        try:
            parse_bytes(args.memory_per_worker)
        except ValueError:
            raise UsageError(
                f"--memory-per-worker {args.memory_per_worker!r} is not a size"
            ) from None
    slurm = None
    if args.slurm:
        slurm = SlurmOptions(
            queue=args.slurm_queue,
            account=args.slurm_account,
            walltime=args.slurm_walltime,
            cores=args.slurm_cores,
            memory=args.memory_per_worker or "8GB",
            job_extra=tuple(args.slurm_job_extra),
        )
    return EngineOptions(
        workers=args.workers,
        memory_per_worker=None if args.slurm else args.memory_per_worker,
        scheduler=args.scheduler,
        slurm=slurm,
        retries=args.retries,
    )


def check_output_location(bids: Path, out: Path) -> None:
    """Refuse an output dataset that is, contains, or lies inside the input dataset.

    The one place inside BIDS_DIR that is allowed is ``BIDS_DIR/derivatives/<name>``
    (the BIDS convention), which holds no input.
    """
    b, o = bids.resolve(), out.resolve()
    if o == b:
        raise UsageError(f"output folder {out} is the BIDS dataset itself")
    if b.is_relative_to(o):
        raise UsageError(f"output folder {out} contains the BIDS dataset {bids}")
    if o.is_relative_to(b):
        derivatives = b / "derivatives"
        if not o.is_relative_to(derivatives) or o == derivatives:
            raise UsageError(
                f"output folder {out} is inside the BIDS dataset; "
                f"use {bids / 'derivatives' / 'nvc'} or a folder outside it"
            )


def participant(
    args: argparse.Namespace, bids: Path, out: Path, found: Discovery, config: PipelineConfig
) -> int:
    """Participant level: analyse every case not done yet; returns the exit code."""
    options = engine_options(args)
    for case in found.cases:
        for path in (case.t2, case.angio):
            if path.resolve().is_relative_to(out.resolve()):
                raise UsageError(f"input {path} lies inside the output folder {out}")
    if args.dry_run:
        todo, _ = _sort_cases(found, out, config.sha256())
        for case in todo:
            print(
                f"would run {case.case_id}: T2 {case.t2.relative_to(bids)}, "
                f"angio {case.angio.relative_to(bids)}, symptomatic side "
                f"{case.hfs_side or 'not given'}"
            )
        if options.slurm is not None:
            cluster = slurm_cluster(options.slurm, scheduler_host="127.0.0.1")
            with cluster:
                print("SLURM job script (a real run puts its scheduler's address in it):")
                print(cluster.job_script())
        return EXIT_OK
    check_output_dataset(out)
    with batch_lock(out):
        todo, done = _sort_cases(found, out, config.sha256())
        prepare_output(out, bids)
        remove_temporaries(out, depth=3)
        failures = _Failures(out, found)
        failures.clear([c.case_id for c in done])
        if not todo:
            print(f"nothing to do: {len(done)} case(s) already done in {out}")
            return EXIT_OK
        outcomes = run_cases(
            todo,
            bids,
            out,
            config,
            options,
            time_limit=args.time_limit,
            report=not args.no_report,
            on_outcome=failures.record,
        )
    failed = [o for o in outcomes if o.status != "done"]
    print(
        f"{len(outcomes) - len(failed)} case(s) done, {len(failed)} failed, "
        f"{len(done)} skipped (done before); results in {out}"
        + (f"; failures in {out / FAILURES}" if failed else "")
    )
    print(f"next: nvc batch {bids} {out} group")
    return EXIT_ANALYSIS if failed else EXIT_OK


def _sort_cases(
    found: Discovery, out: Path, config_sha: str
) -> tuple[list[CaseSpec], list[CaseSpec]]:
    """The cases to run and those done before (saying which are skipped or rerun, and why)."""
    todo: list[CaseSpec] = []
    done: list[CaseSpec] = []
    for case in found.cases:
        finished, why = is_done(out / case.relative_dir, case, config_sha)
        if finished:
            print(f"{case.case_id}: skipped (done)")
            done.append(case)
        else:
            if why:
                print(f"{case.case_id}: will rerun ({why})")
            todo.append(case)
    return todo, done


@contextlib.contextmanager
def batch_lock(out: Path) -> Iterator[None]:
    """Hold ``OUT_DIR/.nvc-batch.lock`` (created with OUT_DIR): one batch per output folder.

    Raises
    ------
    UsageError
        Naming the holder (host, pid, start time) when another batch holds it.
    """
    lock = ExclusiveLock(out / LOCK)
    try:
        stale = lock.acquire()
    except LockHeld as exc:
        who = exc.holder.describe() if exc.holder is not None else "just starting"
        raise UsageError(
            f"output folder {out} is in use by another nvc batch ({who}); "
            "run again when it has finished"
        ) from None
    try:
        if stale is not None:
            print(f"taking over the lock left by a batch that was killed ({stale.describe()})")
        yield
    finally:
        lock.release()


def is_done(case_dir: Path, case: CaseSpec, config_sha: str) -> tuple[bool, str]:
    """Whether a case's findings were made from the same inputs, side and config.

    Returns
    -------
    (bool, str)
        Done or not, and what changed when a finished case must be rerun ("" otherwise).
    """
    path = case_dir / "findings.json"
    if not path.is_file():
        return False, ""
    try:
        data = read_json(path)
        prov = data["provenance"]
    except (ValueError, KeyError, TypeError):
        return False, "findings.json unreadable"
    if prov.get("config_sha256") != config_sha:
        return False, "configuration changed"
    if data.get("symptomatic_side") != case.hfs_side:
        return False, "symptomatic side changed"
    if prov.get("inputs_sha256") != {"t2": sha256_of(case.t2), "mra": sha256_of(case.angio)}:
        return False, "input images changed"
    return True, ""


def check_output_dataset(out: Path) -> None:
    """Refuse an output folder that holds something other than nvc's derivatives (or nothing)."""
    desc = out / DESCRIPTION
    if desc.is_file():
        try:
            data = read_json(desc)
        except ValueError:
            data = {}
        names = [g.get("Name") for g in data.get("GeneratedBy", []) if isinstance(g, dict)]
        if data.get("DatasetType") != "derivative" or "nvc" not in names:
            raise UsageError(f"output folder {out} holds another dataset (see its {DESCRIPTION})")
    elif out.is_dir() and any(p.name != LOCK for p in out.iterdir()):
        raise UsageError(f"output folder {out} is not empty and not an nvc derivatives dataset")


def prepare_output(out: Path, bids: Path) -> None:
    """Create the derivatives dataset (or check that ``out`` is one of nvc's)."""
    check_output_dataset(out)
    source: dict[str, Any] = {"URL": bids.resolve().as_uri()}
    try:
        raw = read_json(bids / DESCRIPTION) if (bids / DESCRIPTION).is_file() else {}
    except ValueError:
        raw = {}
    if raw.get("DatasetDOI"):
        source["DOI"] = raw["DatasetDOI"]
    write_json(
        out / DESCRIPTION,
        {
            "Name": f"nvc derivatives of {raw.get('Name') or bids.resolve().name}",
            "BIDSVersion": "1.9.0",
            "DatasetType": "derivative",
            "GeneratedBy": [
                {
                    "Name": "nvc",
                    "Version": __version__,
                    "Description": "neurovascular compression analysis of the facial nerve "
                    f"(nvc batch). {DISCLAIMER}",
                }
            ],
            "SourceDatasets": [source],
        },
    )


class _Failures:
    """``failures.tsv``: rewritten (atomically) after every case; rows of other cases kept."""

    def __init__(self, out: Path, found: Discovery) -> None:
        self.out = out
        self.rows = read_failures(out)
        self.keys = {c.case_id: _key(c) for c in found.cases}

    def clear(self, case_ids: list[str]) -> None:
        changed = False
        for cid in case_ids:
            changed |= self.rows.pop(self.keys[cid], None) is not None
        if changed:
            self._write()

    def record(self, outcome: CaseOutcome) -> None:
        key = self.keys[outcome.case_id]
        if outcome.status == "done":
            if self.rows.pop(key, None) is not None:
                self._write()
            return
        self.rows[key] = {
            "participant_id": key[0],
            "session_id": key[1],
            "reason": outcome.reason,
            "log": f"{LOGS}/{outcome.case_id}.log",
            "time_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self._write()

    def _write(self) -> None:
        path = self.out / FAILURES
        if not self.rows:
            path.unlink(missing_ok=True)
            return
        write_tsv(path, FAILURE_COLUMNS, [self.rows[k] for k in sorted(self.rows)])


def _key(case: CaseSpec) -> tuple[str, str]:
    return f"sub-{case.subject}", f"ses-{case.session}" if case.session else "n/a"


def run_cases(
    todo: list[CaseSpec],
    bids: Path,
    out: Path,
    config: PipelineConfig,
    options: EngineOptions,
    *,
    time_limit: float | None = None,
    report: bool = True,
    on_outcome: Callable[[CaseOutcome], None] | None = None,
) -> list[CaseOutcome]:
    """Run cases on the chosen Dask cluster; results stream back as they finish.

    Each outcome is passed to ``on_outcome`` (e.g. to update ``failures.tsv``)
    and a progress line is printed. A worker that died more than
    ``options.retries`` times running a case makes that case fail ("worker died").
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    config_toml = config.to_toml()
    outcomes: list[CaseOutcome] = []
    t0 = time.monotonic()
    with open_client(options, n_cases=len(todo)) as (client, text, threads):
        print(f"running {len(todo)} case(s) on {text}", flush=True)
        futures = {}
        for case in todo:
            job = _job(case, bids, out, config_toml, threads, report)
            key = f"nvc-{case.case_id}-{uuid.uuid4().hex[:8]}"
            fut = client.submit(case_task, job, time_limit, key=key, pure=False)
            futures[fut] = case
        for fut in as_completed(list(futures)):
            case = futures[fut]
            try:
                outcome = CaseOutcome(**fut.result())
            except KilledWorker as exc:
                outcome = _failed(
                    case,
                    f"worker died: every worker that ran the case died "
                    f"({exc.allowed_failures + 1} attempts; killed, out of memory or "
                    "past its job's time limit?)",
                )
            except Exception as exc:
                outcome = _failed(case, f"{type(exc).__name__}: {' '.join(str(exc).split())}")
            if outcome.status != "done":
                _append_log(out, outcome)
            if on_outcome is not None:
                on_outcome(outcome)
            outcomes.append(outcome)
            print(_progress(len(outcomes), len(todo), outcome, time.monotonic() - t0), flush=True)
    return outcomes


def _job(
    case: CaseSpec, bids: Path, out: Path, config_toml: str, threads: int | None, report: bool
) -> CaseJob:
    return CaseJob(
        case_id=case.case_id,
        t2=str(case.t2.resolve()),
        angio=str(case.angio.resolve()),
        hfs_side=case.hfs_side,
        out_dir=str((out / case.relative_dir).resolve()),
        log=str((out / LOGS / f"{case.case_id}.log").resolve()),
        config_toml=config_toml,
        sources={
            "t2": case.t2.relative_to(bids).as_posix(),
            "angio": case.angio.relative_to(bids).as_posix(),
        },
        threads=threads,
        report=report,
    )


def _failed(case: CaseSpec, reason: str) -> CaseOutcome:
    return CaseOutcome(case.case_id, "failed", reason, 0.0, None, "")


def _append_log(out: Path, outcome: CaseOutcome) -> None:
    """Say in the case's log how it ended when its worker could not (e.g. it died)."""
    if outcome.worker:
        return
    path = out / LOGS / f"{outcome.case_id}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        fh.write(f"{stamp} {outcome.case_id}: failed: {outcome.reason}\n")


def _progress(k: int, n: int, outcome: CaseOutcome, elapsed: float) -> str:
    filled = round(_BAR * k / n)
    state = "done" if outcome.status == "done" else f"FAILED: {outcome.reason}"
    where = f" on worker {outcome.worker}" if outcome.worker else ""
    return (
        f"[{'#' * filled}{'.' * (_BAR - filled)}] {k}/{n} {elapsed:5.0f} s  "
        f"{outcome.case_id}: {state} ({outcome.seconds:.1f} s{where})"
    )


def _group(out: Path, found: Discovery) -> int:
    """Group level: summary table and page from the saved cases."""
    if not (out / DESCRIPTION).is_file():
        raise InputError(f"{out}: no nvc derivatives dataset here (run the participant level)")
    with batch_lock(out):
        written = write_group(out, list(found.cases))
    print(f"wrote {written.summary} ({written.rows} rows) and {written.report}")
    return EXIT_OK
