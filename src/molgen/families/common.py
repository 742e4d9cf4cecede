"""Pieces every family's recipe shares: the run folder, metric aggregation, rank-0 writing."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from molgen.config import RunConfig

RUN_DIR_ENV = "MOLGEN_RUN_DIR"


@dataclass
class RunResult:
    """What ``fit(cfg)`` returns.

    Attributes:
        run_dir: the run folder (config.yaml, splits.json, metrics.json, checkpoints/, model/).
        metrics: ``{"val": {...}, "test": {...}}`` as written to metrics.json.
        config: the resolved config (catalog defaults filled in).
        n_invalid: input rows skipped as invalid.
    """

    run_dir: Path
    metrics: dict[str, dict[str, float]]
    config: RunConfig
    n_invalid: int = 0
    details: dict[str, Any] = field(default_factory=dict)


def is_rank_zero() -> bool:
    """True in the process that writes files (the only one without DDP)."""
    from lightning.pytorch.utilities.rank_zero import rank_zero_only  # lazy: prediction needs no Lightning

    return rank_zero_only.rank == 0


@contextmanager
def run_directory(cfg: RunConfig, default_name: str) -> Iterator[Path]:
    """Creates (rank 0) and yields the run folder.

    The folder name is fixed before any DDP worker starts and passed on through ``$MOLGEN_RUN_DIR``, so
    worker processes (which re-run the command) write into the same folder.
    """
    inherited = os.environ.get(RUN_DIR_ENV)
    if cfg.output:
        path = Path(cfg.output)
    elif inherited:
        path = Path(inherited)
    else:
        path = Path("runs") / f"{default_name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if is_rank_zero():
        path.mkdir(parents=True, exist_ok=True)
    os.environ[RUN_DIR_ENV] = str(path)
    try:
        yield path
    finally:
        if inherited is None:
            os.environ.pop(RUN_DIR_ENV, None)
        else:
            os.environ[RUN_DIR_ENV] = inherited


def aggregate(results: Sequence[dict[str, float]]) -> dict[str, float]:
    """Mean over runs (members or folds) plus ``<metric>_std`` when there are several."""
    if not results:
        return {}
    merged: dict[str, float] = {}
    for name in results[0]:
        values = np.array([r.get(name, math.nan) for r in results], dtype=float)
        finite = values[np.isfinite(values)]
        merged[name] = float(finite.mean()) if finite.size else math.nan
        if len(results) > 1:
            merged[f"{name}_std"] = float(finite.std(ddof=1)) if finite.size > 1 else math.nan
    return merged
