"""Pieces every family shares: the run folder, catalog lookup, invalid-input report, splits record,
model spec, metric aggregation and rank-0 writing."""

from __future__ import annotations

import logging
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
