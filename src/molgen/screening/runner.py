"""Running a screen: plan the shards, skip finished ones, score the rest serially or on Dask.

By default, on up to 2 cores, this process scores the shards while a worker process featurizes its next
molecules (on more cores: a Dask cluster of one process per core); ``workers`` ≤ 1 scores shards in this
process alone; ``workers`` ≥ 2 starts a Dask ``LocalCluster``
of that many single-threaded processes; ``scheduler="tcp://host:8786"`` uses an existing Dask
cluster (its workers need molgen installed and the library and output folders at the same
paths). Only shard descriptors travel to workers: a worker reads its shard, loads each model
once (cached per process), writes the shard's Parquet file itself and sends back counts and
the shard's own top-k rows, which this process merges into a bounded running top-k. A task
that raises is retried (``retries``); a worker that dies mid-shard has its task rescheduled
by Dask. Results do not depend on the path taken: every path runs :func:`run_shard`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from molgen import __version__
from molgen.data.shards import Shard, plan_library
from molgen.errors import ConfigError
from molgen.screening.filters import parse_filter_names
from molgen.screening.ranking import Ranking, TopK
from molgen.screening.scoring import SCREEN_BATCH, ScreenJob, cached_model, score_shard
from molgen.screening.store import MANIFEST_FORMAT, OutputFolder

__all__ = ["AHEAD_MAX_CORES", "ScreenResult", "ShardOutcome", "quiet_dask", "run_shard", "screen"]

log = logging.getLogger("molgen")

AHEAD_MAX_CORES = 2
"""Most cores on which the default run scores in this process, one thread predicting while the other cores
featurize ahead: on 2 vCPUs, 1.35x (float32) and 2.2-2.5x (bf16) a 2-worker Dask cluster
(benchmarks/results/screening_2026-12-07.md). With more cores the single predicting thread would be the limit,
so the default is a Dask cluster of one process per core."""
MANIFEST_INTERVAL_S = 1.0
"""While shards finish, the manifest is rewritten at most this often (a killed run loses at most this much)."""


@dataclass
class ShardOutcome:
    """What a worker sends back: counts and the shard's best rows (a small DataFrame)."""

    shard_id: str
    n_rows: int
    n_valid: int
    n_passing: int
    top: pd.DataFrame
    seconds: float = 0.0


@dataclass
class ScreenResult:
    """Summary of a finished screen (also stored in ``manifest.json``)."""

    output: Path
    top_k: pd.DataFrame
    n_shards: int
    computed: list[str]
    reused: int
    n_rows: int
    n_valid: int
    n_passing: int
    seconds: float
    workers: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_invalid(self) -> int:
        return self.n_rows - self.n_valid

    @property
    def n_filtered(self) -> int:
        return self.n_valid - self.n_passing


def screen(
    models: Sequence[str | Path],
    library: str | Path,
    output: str | Path,
    *,
    top_k: int = 100,
    sort_by: str | None = None,
    acquisition: str = "mean",
    kappa: float = 1.0,
    ascending: bool = False,
    filters: str | Sequence[str] | None = None,
    chunk_size: int = 50_000,
    batch_size: int = SCREEN_BATCH,
    smiles_column: str | None = None,
    id_column: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    retries: int = 2,
    domain: bool = True,
    precision: str = "32",
) -> ScreenResult:
    """Scores every molecule of ``library`` with ``models`` (pooled into one ensemble) into ``output``.

    Rerunning the same call resumes: finished shards are kept, the rest are scored, and the
    top-k is rebuilt over all shards (``top_k``, ``sort_by``, ``acquisition``, ``kappa`` and
    ``ascending`` may change between runs; they only rank). See the package docstring.

    Args:
        workers: ``None``: on up to :data:`AHEAD_MAX_CORES` cores, this process scores the shards while a
            worker process on the other core featurizes its next molecules; on more cores, a local Dask cluster
            of one process per core; 0 or 1: this process alone; N ≥ 2: a local Dask cluster of N processes,
            each scoring whole shards.
        scheduler: address of an existing Dask scheduler (``workers`` is then ignored).
        domain: add ``train_similarity`` / ``in_domain`` when a model has an applicability domain.
        precision: ``"32"`` or ``"bf16-mixed"`` (bfloat16 inference; a resume must use the same).

    Raises:
        ValueError / FileNotFoundError / KeyError: bad arguments, inputs or a mismatched output folder.
        RuntimeError: a shard failed on every attempt.
    """
    started = time.perf_counter()
    filter_names = parse_filter_names(filters)  # checked before the (slow) model loading
    job = ScreenJob.create(models, filter_names, batch_size, domain=domain, precision=precision)
    if sort_by is None and job.layout.task_type == "multiclass":
        raise ConfigError(f"a multiclass model: pass --sort-by, one of {', '.join(job.layout.quantities())}")
    ranking = Ranking.create(
        job.layout.quantities(), sort_by, top_k=top_k, acquisition=acquisition, kappa=kappa, ascending=ascending
    )
    files, shards = plan_library(
        library, chunk_size, smiles_column=smiles_column, id_column=id_column, default_smiles_column=job.input_column
    )
    identity = job.describe() | {
        "chunk_size": chunk_size,
        "library": [
            {
                "name": f.name,
                "size": f.size,
                "n_rows": f.n_rows,
                "smiles_column": f.smiles_column,
                "id_column": f.id_column,
            }
            for f in files
        ],
    }
    with OutputFolder(output) as folder:
        manifest = folder.check_job(identity) or {
            "format": MANIFEST_FORMAT,
            "molgen_version": __version__,
            "job": identity,
            "runs": [],
        }
        manifest["models"] = [ref.path for ref in job.models]
        manifest["library"] = [f.path for f in files]
        manifest["ranking"] = ranking.describe()
        manifest["n_shards"] = len(shards)
        record: dict[str, Any] = {"started": _now(), "finished": None, "computed": [], "reused": 0}
        manifest["runs"].append(record)
        folder.write_manifest(manifest)

        best, totals = TopK(ranking), {"n_rows": 0, "n_valid": 0, "n_passing": 0}
        pending = []
        for shard in shards:
            if folder.finished(shard):
                _merge(_outcome(shard, folder.read_shard(shard), ranking), best, totals)
                record["reused"] += 1
            else:
                pending.append(shard)
        if record["reused"]:
            log.info("resuming: %d of %d shards already done in %s", record["reused"], len(shards), folder.path)
        progress = _Progress(len(pending), sum(s.n_rows for s in pending))
        if workers is None and scheduler is None and _available_cores() <= AHEAD_MAX_CORES:
            workers, job = 1, replace(job, featurize_workers=_available_cores() - 1)  # featurizing ahead
        workers = _available_cores() if workers is None else workers
        executor = _serial if scheduler is None and workers <= 1 else _dask
        if executor is _serial:
            for ref in job.models:  # a broken weights file fails here, before any shard
                cached_model(ref)
        how = f"dask ({scheduler or f'{workers} local workers'})"
        if executor is _serial:
            how = "this process" + (f", {job.featurize_workers} featurizing ahead" if job.featurize_workers else "")
        last_written = time.monotonic()
        try:
            for outcome in executor(
                pending, job, folder.path, ranking, workers=workers, scheduler=scheduler, retries=retries
            ):
                _merge(outcome, best, totals)
                record["computed"].append(outcome.shard_id)
                progress.update(outcome)
                if time.monotonic() - last_written >= MANIFEST_INTERVAL_S:  # a killed run's manifest shows progress
                    folder.write_manifest(manifest)
                    last_written = time.monotonic()
        except BaseException as err:  # Ctrl-C, a failed shard, a full disk: record what was computed
            record["stopped"] = f"{_now()}: {type(err).__name__}"
            with contextlib.suppress(OSError):  # the original error matters more than this write
                folder.write_manifest(manifest)
            raise
        top = best.result()
        if top.empty:
            top = pd.DataFrame(columns=["rank", "score", *job.columns()])
        folder.write_top_k(top)
        seconds = time.perf_counter() - started
        record.update(finished=_now(), seconds=round(seconds, 3), how=how)
        manifest["summary"] = totals | {"n_shards": len(shards), "top_k": len(top)}
        folder.write_manifest(manifest)
    return ScreenResult(
        folder.path,
        top,
        len(shards),
        record["computed"],
        record["reused"],
        seconds=seconds,
        workers=how,
        n_rows=totals["n_rows"],
        n_valid=totals["n_valid"],
        n_passing=totals["n_passing"],
    )


def run_shard(shard: Shard, job: ScreenJob, output: str | Path, ranking: Ranking) -> ShardOutcome:
    """Scores one shard, writes its Parquet file, returns its counts and top rows (runs on workers)."""
    started = time.perf_counter()
    # one thread beside sibling workers; featurizing ahead, score_shard lowers and restores the threads itself
    with _one_torch_thread() if not job.featurize_workers else contextlib.nullcontext():
        frame = score_shard(shard, job)
    OutputFolder(output).write_shard(shard, frame, job.arrow_schema())
    outcome = _outcome(shard, frame, ranking)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _outcome(shard: Shard, frame: pd.DataFrame, ranking: Ranking) -> ShardOutcome:
    valid = frame["valid"].to_numpy(dtype=bool)
    passing = valid & frame["passes_filters"].fillna(False).to_numpy(dtype=bool)
    return ShardOutcome(shard.id, len(frame), int(valid.sum()), int(passing.sum()), ranking.select(frame))


def _merge(outcome: ShardOutcome, best: TopK, totals: dict[str, int]) -> None:
    best.add(outcome.top)
    for key in totals:
        totals[key] += getattr(outcome, key)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _Progress:
    """Logs shards done, rows and throughput, at most every few seconds."""

    def __init__(self, n_shards: int, n_rows: int) -> None:
        self.n_shards, self.n_rows, self.done, self.rows = n_shards, n_rows, 0, 0
        self.start = self.last = time.perf_counter()

    def update(self, outcome: ShardOutcome) -> None:
        self.done += 1
        self.rows += outcome.n_rows
        now = time.perf_counter()
        if now - self.last >= 5 or self.done == self.n_shards:
            self.last = now
            rate = self.rows / max(now - self.start, 1e-9)
            log.info("shards %d/%d, rows %d/%d, %.0f mol/s", self.done, self.n_shards, self.rows, self.n_rows, rate)


# ---------------------------------------------------------------------------------------------- executors


def _serial(pending: list[Shard], job: ScreenJob, output: Path, ranking: Ranking, **_: Any) -> Iterator[ShardOutcome]:
    for shard in pending:
        yield run_shard(shard, job, output, ranking)


def _dask(
    pending: list[Shard],
    job: ScreenJob,
    output: Path,
    ranking: Ranking,
    *,
    workers: int,
    scheduler: str | None,
    retries: int,
) -> Iterator[ShardOutcome]:
    if not pending:
        return
    try:
        from distributed import Client, LocalCluster, as_completed
        from distributed.scheduler import KilledWorker
    except ImportError:
        raise ConfigError(
            "--workers ≥ 2 and --scheduler need Dask: pip install 'molgen[screen]' (or use --workers 1)"
        ) from None
    with contextlib.ExitStack() as stack:
        if scheduler is not None:
            client = stack.enter_context(Client(scheduler, timeout="30s"))
        else:
            stack.enter_context(_workers_skip_main())
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            )
            client = stack.enter_context(Client(cluster))
        token = uuid.uuid4().hex[:8]
        futures = [  # the job is a few KB of primitives: sent with each task, nothing to lose with a worker
            client.submit(
                run_shard,
                shard,
                job,
                str(output),
                ranking,
                key=f"molgen-screen-{shard.id}-{token}",
                retries=retries,
                pure=False,
            )
            for shard in pending
        ]
        by_key = {f.key: shard for f, shard in zip(futures, pending)}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except KilledWorker:
                raise RuntimeError(
                    f"shard {by_key[future.key].id} ({by_key[future.key].file.name}) killed its worker on every "
                    "attempt (out of memory?); try a smaller --chunk-size"
                ) from None
            future.release()
            yield outcome


@contextlib.contextmanager
def _workers_skip_main() -> Iterator[None]:
    """Local workers are spawned processes, and ``spawn`` re-runs the parent's ``__main__`` in each (for
    ``molgen``, its script imports every CLI command: ~170 MB and seconds per worker, restarts included).
    Workers only need importable task functions, so while the cluster lives ``__main__`` names this small
    module instead (``multiprocessing.spawn`` then imports it by name)."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:  # run with -m: already imported by name
        yield
        return
    main.__spec__ = importlib.util.find_spec("molgen.screening._worker_main")
    try:
        yield
    finally:
        main.__spec__ = None


@contextlib.contextmanager
def quiet_dask() -> Iterator[None]:
    """Within the block, Dask's loggers show warnings and errors only (it logs cluster start-up and
    shutdown at INFO), and a slow worker exit at shutdown is not reported; levels are restored on exit.
    :func:`screen` leaves logging alone: an application (``molgen screen``) wraps its call in this."""
    loggers = [
        logging.getLogger(name)
        for name in ("distributed", *[n for n in logging.root.manager.loggerDict if n.startswith("distributed.")])
    ]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    nanny = logging.getLogger("distributed.nanny")
    nanny.addFilter(_slow_exit)
    try:
        yield
    finally:
        nanny.removeFilter(_slow_exit)
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _slow_exit(record: logging.LogRecord) -> bool:
    """Drops "Worker process still alive after 4.0 seconds, killing" at shutdown: a worker that has
    imported torch and Lightning can take longer than that to exit on a busy machine, and by then
    every result is on disk."""
    return not str(record.msg).startswith("Worker process still alive")


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
