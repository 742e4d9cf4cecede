"""Regression and classification metrics (torchmetrics), per target and pooled over targets.

Predictions are in user units: values for regression, probabilities for classification. Missing labels
(NaN) are masked per target. A classification target with a single class in the evaluated rows has no
ROC-AUC; it is skipped with a warning, and the average is over the targets that could be scored
(MoleculeNet's convention). :func:`record_skipped` collects why, for ``metrics.json``.

With several targets, each metric is reported per target as ``<metric>/<target>`` and pooled as
``<metric>``: the mean of the per-target values (for regression, a mean over values in different units).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from molgen.errors import UnknownNameError
from molgen.registry import Registry

REGRESSION = "regression"
BINARY = "binary"
MULTILABEL = "multilabel"
MULTICLASS = "multiclass"
TASK_TYPES = (REGRESSION, BINARY, MULTILABEL, MULTICLASS)


@dataclass(frozen=True)
class Metric:
    """A metric for one target: ``fn(preds [n] or [n, C], labels [n]) -> float``."""

    name: str
    fn: Callable[..., torch.Tensor]
    higher_is_better: bool
    needs_two_classes: bool = False


def _tm(name: str) -> Callable[..., torch.Tensor]:
    """A torchmetrics functional, imported on first use (it is slow to import; prediction never needs it)."""
    import torchmetrics.functional as tmf

    module, _, attr = name.rpartition(".")
    return getattr(getattr(tmf, module) if module else tmf, attr)


def _rmse(p: torch.Tensor, y: torch.Tensor, **_: int) -> torch.Tensor:
    return _tm("mean_squared_error")(p, y).sqrt()


def _regression(name: str) -> Callable[..., torch.Tensor]:
    return lambda p, y, **_: _tm(name)(p, y)


def _binary(name: str) -> Callable[..., torch.Tensor]:
    return lambda p, y, **_: _tm(name)(p, y.long())


def _multiclass(name: str, **fixed: str) -> Callable[..., torch.Tensor]:
    return lambda p, y, n_classes: _tm(name)(p, y.long(), num_classes=n_classes, **fixed)


REGRESSION_METRICS = Registry(
    "regression metric",
    {
        "rmse": Metric("rmse", _rmse, higher_is_better=False),
        "mae": Metric("mae", _regression("mean_absolute_error"), higher_is_better=False),
        "mse": Metric("mse", _regression("mean_squared_error"), higher_is_better=False),
        "r2": Metric("r2", _regression("r2_score"), higher_is_better=True),
        "pearson": Metric("pearson", _regression("pearson_corrcoef"), higher_is_better=True),
        "spearman": Metric("spearman", _regression("spearman_corrcoef"), higher_is_better=True),
    },
)
BINARY_METRICS = Registry(
    "classification metric",
    {
        "roc_auc": Metric("roc_auc", _binary("classification.binary_auroc"), True, needs_two_classes=True),
        "pr_auc": Metric("pr_auc", _binary("classification.binary_average_precision"), True, needs_two_classes=True),
        "accuracy": Metric("accuracy", _binary("classification.binary_accuracy"), True),
        "f1": Metric("f1", _binary("classification.binary_f1_score"), True),
    },
)
MULTICLASS_METRICS = Registry(
    "multiclass metric",
    {
        "accuracy": Metric("accuracy", _multiclass("classification.multiclass_accuracy", average="micro"), True),
        "f1": Metric("f1", _multiclass("classification.multiclass_f1_score", average="macro"), True),
        "roc_auc": Metric(
            "roc_auc",
            _multiclass("classification.multiclass_auroc", average="macro"),
            True,
            needs_two_classes=True,
        ),
    },
)
DEFAULT_METRICS = {
    REGRESSION: ("rmse", "mae", "r2"),
    BINARY: ("roc_auc", "pr_auc", "accuracy", "f1"),
    MULTILABEL: ("roc_auc", "pr_auc", "accuracy", "f1"),
    MULTICLASS: ("accuracy", "f1", "roc_auc"),
}


def metric_registry(task_type: str) -> Registry[Metric]:
    """The metrics that apply to a task type (binary and multilabel share theirs)."""
    if task_type == REGRESSION:
        return REGRESSION_METRICS
    if task_type in (BINARY, MULTILABEL):
        return BINARY_METRICS
    if task_type == MULTICLASS:
        return MULTICLASS_METRICS
    raise UnknownNameError(f"unknown task type {task_type!r}; valid types: {', '.join(TASK_TYPES)}")


def resolve_metrics(task_type: str, names: Sequence[str] | None) -> list[Metric]:
    """Metric objects for ``names`` (default: all of the task type's); a bad name lists valid ones."""
    registry = metric_registry(task_type)
    return [registry.get(name) for name in (names or DEFAULT_METRICS[task_type])]


def compute_metrics(
    metrics: Sequence[Metric],
    preds: torch.Tensor,
    targets: torch.Tensor,
    *,
    target_names: Sequence[str],
    n_classes: int | None = None,
    split: str = "",
) -> dict[str, float]:
    """Scores predictions target by target and averages each metric over the scorable targets.

    Args:
        preds: ``[n, T]`` values/probabilities, or ``[n, T, C]`` class probabilities (multiclass).
        targets: ``[n, T]`` labels; NaN = missing.
        target_names: ``T`` names, used in warnings.
        n_classes: class count (multiclass only).
        split: split name for warnings (``"test"``).

    Returns:
        ``{metric: mean over targets}``, and with several targets also ``{metric}/{target}`` for each
        target (NaN where it could not be scored); a metric no target could be scored on is NaN.
    """
    preds, targets = preds.detach().float().cpu(), targets.detach().float().cpu()
    pooled: dict[str, float] = {}
    per_target: dict[str, float] = {}
    for metric in metrics:
        values = []
        for t, name in enumerate(target_names):
            mask = ~torch.isnan(targets[:, t])
            y, p = targets[mask, t], preds[mask, t]
            value = math.nan
            if y.numel() < 2:
                _warn_skip(metric.name, name, split, f"{y.numel()} labelled example(s)")
            elif metric.needs_two_classes and torch.unique(y).numel() < 2:
                _warn_skip(metric.name, name, split, f"only class {y[0].item():g} present")
            else:
                kwargs = {"n_classes": n_classes} if n_classes else {}
                value = float(metric.fn(p, y, **kwargs))
                values.append(value)
            per_target[per_target_key(metric.name, name)] = value
        pooled[metric.name] = float(sum(values) / len(values)) if values else math.nan
    return {**pooled, **per_target} if len(target_names) > 1 else pooled


def per_target_key(metric: str, target: str) -> str:
    """The key of one target's value of a metric: ``rmse/logS``."""
    return f"{metric}/{target}"


def is_per_target(key: str) -> bool:
    """Whether a metrics key is one target's value (``rmse/logS``) rather than a pooled one (``rmse``)."""
    return "/" in key


def _warn_skip(metric: str, target: str, split: str, why: str) -> None:
    where = f" in the {split} split" if split else ""
    warnings.warn(f"{metric} skipped for target {target!r}{where}: {why}", stacklevel=3)
    for recorder in _RECORDERS:
        reasons = recorder.setdefault(split or "all", [])
        reason = f"{metric} for target {target!r}: {why}"
        if reason not in reasons:
            reasons.append(reason)


_RECORDERS: list[dict[str, list[str]]] = []


@contextmanager
def record_skipped() -> Iterator[dict[str, list[str]]]:
    """Within the block, collects why metrics were skipped: ``{split: ["roc_auc for target 'x': only class 1
    present", …]}`` (each reason once), so ``metrics.json`` can say why a metric is missing."""
    found: dict[str, list[str]] = {}
    _RECORDERS.append(found)
    try:
        yield found
    finally:
        _RECORDERS.remove(found)


def higher_is_better(task_type: str, metric: str) -> bool:
    """Direction of a metric name (``loss`` is minimized)."""
    if metric == "loss":
        return False
    return metric_registry(task_type).get(metric).higher_is_better


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
