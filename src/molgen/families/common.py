"""Pieces every family shares: the run folder, catalog lookup, invalid-input report, splits record,
model spec, metric aggregation and rank-0 writing."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from molgen.config import DataConfig, RunConfig, replace
from molgen.data.catalog import DatasetSpec, get_dataset
from molgen.errors import ConfigError, InvalidInputError, UnknownNameError
from molgen.training.artifacts import ModelSpec

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


def catalog_entry(name: str, files: str) -> DatasetSpec | None:
    """The catalog dataset ``name``, or None for a file path; ``files`` names the accepted files."""
    try:
        return get_dataset(name)
    except UnknownNameError as err:
        if Path(name).exists() or Path(name).suffix:
            return None
        raise UnknownNameError(f"{err}; or pass the path of a {files}") from None


def data_from_catalog(data: DataConfig, spec: DatasetSpec, input_key: str) -> DataConfig:
    """``data`` with its unset input column (``input_key``: ``smiles_column`` or ``sequence_column``), targets,
    split and split column taken from the catalog entry."""
    return replace(
        data,
        **{input_key: getattr(data, input_key) or spec.input_column},
        target_columns=data.target_columns or list(spec.target_columns),
        split=data.split or spec.default_split,
        split_column=data.split_column or spec.split_column,
    )


def report_invalid(problems: Sequence[str], header: str, on_invalid: str, unit: str = "rows") -> None:
    """Logs the invalid inputs (``on_invalid: skip``) or raises :class:`InvalidInputError` listing them."""
    lines = [f"  {p}" for p in problems]
    shown = "\n".join(lines[:20]) + (f"\n  … and {len(lines) - 20} more" if len(lines) > 20 else "")
    if on_invalid == "skip":
        log.warning("%s skipped:\n%s", header, shown)
        return
    if on_invalid != "error":
        raise ConfigError(f"unknown on_invalid {on_invalid!r}; valid values: error, skip")
    raise InvalidInputError(
        f"{header}:\n{shown}\nFix or remove these {unit}, or pass --on-invalid skip to leave them out."
    )


def splits_record(
    kind: str, seed: int, folds: list[dict[str, list[int]]], invalid_rows: list[int], index: str, **extra: Any
) -> dict[str, Any]:
    """splits.json: the split, and for each fold the input rows of each part (``index`` says how rows count)."""
    return {"type": kind, "seed": seed, **extra, "index": index, "invalid_rows": invalid_rows, "folds": folds}


def model_spec(
    cfg: RunConfig,
    dataset: DatasetSpec | None,
    metrics: dict,
    *,
    trained_on: dict[str, Any] | None = None,
    **fields: Any,
) -> ModelSpec:
    """The ``model.yaml`` of a run: family, what it was trained on, its metrics and the family's ``fields``."""
    trained: dict[str, Any] = {"data": dataset.name if dataset is not None else str(cfg.data.name)}
    trained.update(
        trained_on
        if trained_on is not None
        else {"split": cfg.data.split, "seed": cfg.trainer.seed, "n_folds": cfg.data.n_folds}
    )
    return ModelSpec(family=str(cfg.family), **fields, trained_on=trained, metrics=metrics)


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
