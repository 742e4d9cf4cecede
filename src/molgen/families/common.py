"""Pieces every family shares: the run folder, catalog lookup, invalid-input report, splits record,
model spec, metric aggregation and rank-0 writing."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from molgen.config import RunConfig

log = logging.getLogger("molgen")


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


def default_output(cfg: RunConfig) -> Path:
    """The run folder of ``cfg``: ``cfg.output``, else ``runs/<data>-<model>-<time>`` (generators:
    ``runs/generation-<data>-<model>-<time>``). Call it once before DDP workers start and pass the result
    on as ``output`` so that every worker writes into the same folder. :func:`molgen.training.run_folder.open_run_folder`
    creates, locks and checks it."""
    if cfg.output:
        return Path(cfg.output)
    stem = Path(cfg.data.name).stem
    name = f"generation-{stem.split('.')[0]}" if cfg.family == "generation" else stem
    return Path("runs") / f"{name}-{cfg.model.name}-{time.strftime('%Y%m%d-%H%M%S')}"
