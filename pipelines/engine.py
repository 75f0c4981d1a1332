"""Where a batch runs: a Dask cluster on this machine, an existing scheduler, or SLURM.

- **Local** (default): a ``LocalCluster`` of worker processes (one thread each,
  one case at a time each), as many as the machine's cores and memory allow
  (``--workers`` to choose), each with a memory limit.
- **Existing scheduler** (``--scheduler tcp://host:8786``): the workers started
  there with ``dask worker`` run the cases; they must see the same paths.
- **SLURM** (``--slurm``): a ``dask_jobqueue.SLURMCluster`` that submits worker
  jobs (queue, account, walltime, cores, memory) and adapts their number.

A worker that dies while running a case makes the scheduler run the case again
elsewhere, at most ``retries`` times; after that the case is recorded as failed.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import dask
import psutil
from dask.utils import format_bytes, parse_bytes
from distributed import Client, LocalCluster

from nvc_pipelines.batch_case import ignore_interrupts, usable_cpus
from nvc_pipelines.errors import UsageError

#: Memory one case needs at most, used to size the local cluster (measured on
#: phantoms: analysis peaks near 1.5 GB; real CISS/TOF pairs are larger).
CASE_MEMORY = "4GiB"


@dataclass(frozen=True)
class SlurmOptions:
    """A SLURM worker job (one Dask worker per job).

    Attributes
    ----------
    queue, account : str or None
        ``#SBATCH -p`` and ``-A``.
    walltime : str
        ``#SBATCH -t`` (HH:MM:SS).
    cores : int
        Cores per job; the worker runs this many cases at once.
    memory : str
        Memory per job (e.g. ``"16GB"``); each case may use memory / cores.
    job_extra : tuple of str
        More ``#SBATCH`` directives (e.g. ``"--qos=normal"``).
    python : str
        Python of the nodes (default: this one; nvc must be installed there).
    """

    queue: str | None = None
    account: str | None = None
    walltime: str = "01:00:00"
    cores: int = 1
    memory: str = "8GB"
    job_extra: tuple[str, ...] = ()
    python: str = field(default_factory=lambda: sys.executable)


@dataclass(frozen=True)
class EngineOptions:
    """Which cluster runs the batch.

    Attributes
    ----------
    workers : int or None
        Local worker processes, or the maximum number of SLURM jobs (None: sized to
        the machine locally, one job per case up to 10 on SLURM).
    memory_per_worker : str or None
        Memory limit per local worker (e.g. ``"6GB"``; None: available memory / workers).
    scheduler : str or None
        Address of an existing Dask scheduler.
    slurm : SlurmOptions or None
        Submit workers to SLURM.
    retries : int
        Times a case is rerun after the worker running it died.
    """

    workers: int | None = None
    memory_per_worker: str | None = None
    scheduler: str | None = None
    slurm: SlurmOptions | None = None
    retries: int = 2


@dataclass(frozen=True)
class LocalSizing:
    """Size of a local cluster."""

    workers: int
    memory_limit: int
    threads_per_case: int


def local_sizing(
    n_cases: int,
    *,
    workers: int | None = None,
    memory_per_worker: str | None = None,
    cores: int | None = None,
    available: int | None = None,
) -> LocalSizing:
    """Worker count, memory limit per worker (bytes) and threads per case on this machine.

    Without ``workers``: as many as cores, as fit in the available memory at
    ``CASE_MEMORY`` each, and as there are cases (at least one).
    """
    cores = cores or usable_cpus()
    available = available or int(psutil.virtual_memory().available)
    usable = int(available * 0.9)
    if workers is None:
        workers = max(1, min(cores, usable // parse_bytes(CASE_MEMORY), max(n_cases, 1)))
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    if memory_per_worker is not None:
        try:
            limit = parse_bytes(memory_per_worker)
        except ValueError:
            raise UsageError(f"--memory-per-worker {memory_per_worker!r} is not a size") from None
    else:
        limit = usable // workers
    return LocalSizing(workers, int(limit), max(1, cores // workers))


def slurm_kwargs(opts: SlurmOptions) -> dict[str, Any]:
    """Keyword arguments of ``dask_jobqueue.SLURMCluster`` for one worker per job."""
    if opts.cores < 1:
        raise UsageError("--slurm-cores must be at least 1")
    try:
        parse_bytes(opts.memory)
    except ValueError:
        raise UsageError(f"--memory-per-worker {opts.memory!r} is not a size") from None
    return {
        "queue": opts.queue,
        "account": opts.account,
        "walltime": opts.walltime,
        "cores": opts.cores,
        "processes": 1,
        "memory": opts.memory,
        "job_extra_directives": list(opts.job_extra),
        "python": opts.python,
        "job_name": "nvc-batch",
        "silence_logs": "error",
        # any free port for the scheduler's HTTP endpoints (8787 may be taken)
        "scheduler_options": {"dashboard_address": ":0"},
    }


def slurm_cluster(opts: SlurmOptions, *, scheduler_host: str | None = None) -> Any:
    """A ``SLURMCluster`` (no job submitted until it is scaled).

    ``scheduler_host`` binds its scheduler to one address (e.g. ``127.0.0.1``
    for a dry run that only prints the job script); by default it listens where
    the compute nodes can reach it.
    """
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise UsageError("--slurm needs dask-jobqueue: pip install 'nvc[batch]'") from None
    kwargs = slurm_kwargs(opts)
    if scheduler_host:
        kwargs["scheduler_options"] = {
            "host": scheduler_host,
            "dashboard_address": f"{scheduler_host}:0",
        }
    return SLURMCluster(**kwargs)


@contextlib.contextmanager
def open_client(
    options: EngineOptions, *, n_cases: int
) -> Iterator[tuple[Client, str, int | None]]:
    """Start (or connect to) the cluster; yields the client, a description and threads per case."""
    settings = {
        "distributed.scheduler.allowed-failures": options.retries,
        # one task per worker thread: a queued case must not die with a worker it never ran on
        "distributed.scheduler.worker-saturation": 1.0,
    }
    if options.scheduler:
        if options.workers is not None or options.slurm is not None:
            raise UsageError("--scheduler excludes --workers and --slurm")
        try:
            client = Client(options.scheduler, timeout="30s")
        except OSError as exc:
            raise UsageError(
                f"cannot reach the Dask scheduler {options.scheduler}: {exc}"
            ) from None
        with client:
            n = len(client.scheduler_info()["workers"])
            yield client, f"Dask scheduler {options.scheduler} ({n} workers now)", None
        return
    if options.slurm is not None:
        with dask.config.set(settings):
            cluster = slurm_cluster(options.slurm)
        with cluster, Client(cluster) as client:
            jobs = options.workers or min(max(n_cases, 1), 10)
            cluster.adapt(minimum_jobs=0, maximum_jobs=jobs)
            text = (
                f"SLURM: up to {jobs} jobs of {options.slurm.cores} core(s), "
                f"{options.slurm.memory}, walltime {options.slurm.walltime}"
            )
            yield client, text, None
        return
    size = local_sizing(
        n_cases, workers=options.workers, memory_per_worker=options.memory_per_worker
    )
    with dask.config.set(settings):
        cluster = LocalCluster(
            n_workers=size.workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=size.memory_limit,
            dashboard_address="127.0.0.1:0",  # any free port (8787 may be taken)
            silence_logs=logging.ERROR,
        )
    with cluster, Client(cluster) as client:
        client.run(ignore_interrupts)
        text = (
            f"local cluster: {size.workers} worker process(es), "
            f"{format_bytes(size.memory_limit)} memory limit each"
        )
        yield client, text, size.threads_per_case
