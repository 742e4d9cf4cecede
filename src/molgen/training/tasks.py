"""Task objects: loss, NaN-label masking, output transform, target scaling and metrics.

A supervised model computes raw outputs ``head(encoder(x))``; the task turns them into a loss and into
predictions in user units, so the Lightning module never branches on the task type. Tasks are
``nn.Module``s so that their state (target mean/std) moves with the model and is exported with it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from molgen.errors import InvalidInputError, UnknownNameError
from molgen.evaluation.supervised import (
    BINARY,
    MULTICLASS,
    MULTILABEL,
    REGRESSION,
    TASK_TYPES,
    compute_metrics,
    resolve_metrics,
)

log = logging.getLogger("molgen")


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` where ``mask`` is true; 0 (finite, with gradient) when nothing is labelled."""
    values = torch.where(mask, values, torch.zeros_like(values))
    return values.sum() / mask.sum().clamp_min(1)


class Task(nn.Module):
    """Base class. Subclasses define ``output_dim``, ``loss`` and ``predict``.

    Args:
        target_names: one name per target column (``T``).
        metrics: metric names to report (default: all of the task type's).
    """

    kind: str = ""
    head: str | None = None  # an uncertainty head's name (molgen.training.uncertainty)

    def __init__(self, target_names: Sequence[str], metrics: Sequence[str] | None = None) -> None:
        super().__init__()
        if not target_names:
            raise ValueError("a task needs at least one target column")
        self.target_names = list(target_names)
        self.metrics = resolve_metrics(self.kind, metrics)
        self.classes: dict[str, list[str]] = {}  # text class labels per target (label i = classes[t][i])

    @property
    def n_targets(self) -> int:
        return len(self.target_names)

    @property
    def output_dim(self) -> int:
        return self.n_targets

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        """Scalar loss from raw outputs ``[B, output_dim]`` and labels ``[B, T]`` (NaN = missing)."""
        raise NotImplementedError

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        """Raw outputs → predictions in user units: ``[B, T]`` (``[B, T, C]`` for multiclass)."""
        raise NotImplementedError

    def predict_dist(self, outputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"mean": predict(outputs)}``; uncertainty heads add ``var`` (``[B, T]``, user units²) or
        ``lower``/``upper`` quantiles (``[B, T]``), see :mod:`molgen.training.uncertainty`."""
        return {"mean": self.predict(outputs)}

    def evaluate(self, preds: torch.Tensor, targets: torch.Tensor, split: str = "") -> dict[str, float]:
        """Metrics of user-unit predictions against labels, pooled over targets (``rmse``) and, with several
        targets, per target (``rmse/<target>``); see :func:`~molgen.evaluation.supervised.compute_metrics`."""
        return compute_metrics(
            self.metrics, preds, targets, target_names=self.target_names, n_classes=self.n_classes, split=split
        )

    n_classes: int | None = None

    def describe(self) -> dict[str, Any]:
        """Primitives describing this task, written to ``model.yaml`` (``classes`` only for text labels)."""
        values: dict[str, Any] = {
            "type": self.kind,
            "targets": self.target_names,
            "metrics": [m.name for m in self.metrics],
            "n_classes": self.n_classes,
        }
        if self.head:
            values["head"] = self.head  # an uncertainty head (molgen.training.uncertainty)
        if self.classes:
            values["classes"] = {name: list(names) for name, names in self.classes.items()}
        return values


class RegressionTask(Task):
    """Mean squared error on standardized targets; predictions are unscaled back to user units.

    Args:
        target_mean: ``[T]`` training-set means.
        target_std: ``[T]`` training-set standard deviations (std 0 is replaced by 1).
    """

    kind = REGRESSION
    target_mean: torch.Tensor
    target_std: torch.Tensor

    def __init__(
        self,
        target_names: Sequence[str],
        metrics: Sequence[str] | None = None,
        target_mean: Sequence[float] | None = None,
        target_std: Sequence[float] | None = None,
    ) -> None:
        super().__init__(target_names, metrics)
        mean = torch.zeros(self.n_targets) if target_mean is None else torch.as_tensor(target_mean)
        std = torch.ones(self.n_targets) if target_std is None else torch.as_tensor(target_std)
        std = torch.where(std > 0, std, torch.ones_like(std))
        self.register_buffer("target_mean", mean.float().clone())
        self.register_buffer("target_std", std.float().clone())

    @classmethod
    def fit_scaling(cls, target_names: Sequence[str], train_targets: np.ndarray, **kwargs: Any) -> RegressionTask:
        """Builds the task with mean/std of the training targets ``[n, T]`` (NaN ignored)."""
        with np.errstate(all="ignore"):
            mean = np.nan_to_num(np.nanmean(train_targets, axis=0), nan=0.0)
            std = np.nan_to_num(np.nanstd(train_targets, axis=0), nan=1.0)
        return cls(target_names, target_mean=mean.tolist(), target_std=std.tolist(), **kwargs)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        mask = ~torch.isnan(targets)
        scaled = (torch.nan_to_num(targets) - self.target_mean) / self.target_std
        return masked_mean((outputs.float() - scaled) ** 2, mask)

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs.float() * self.target_std + self.target_mean

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "target_mean": self.target_mean.tolist(),
            "target_std": self.target_std.tolist(),
        }


class BinaryTask(Task):
    """Independent binary labels per target (one target: binary; several: multi-label)."""

    kind = BINARY

    def __init__(self, target_names: Sequence[str], metrics: Sequence[str] | None = None, **_: Any) -> None:
        super().__init__(target_names, metrics)
        if self.n_targets > 1:
            self.kind = MULTILABEL

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        mask = ~torch.isnan(targets)
        losses = F.binary_cross_entropy_with_logits(outputs.float(), torch.nan_to_num(targets), reduction="none")
        return masked_mean(losses, mask)

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(outputs.float())


class MulticlassTask(Task):
    """Softmax over ``n_classes`` per target; labels are integers ``0..n_classes-1``."""

    kind = MULTICLASS
    n_classes: int

    def __init__(
        self, target_names: Sequence[str], metrics: Sequence[str] | None = None, n_classes: int = 0, **_: Any
    ) -> None:
        super().__init__(target_names, metrics)
        if n_classes < 2:
            raise ValueError(f"a multiclass task needs n_classes >= 2, got {n_classes}")
        self.n_classes = n_classes

    @property
    def output_dim(self) -> int:
        return self.n_targets * self.n_classes

    def _logits(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs.float().view(outputs.shape[0], self.n_targets, self.n_classes)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        mask = ~torch.isnan(targets)
        labels = torch.nan_to_num(targets).long()
        losses = F.cross_entropy(self._logits(outputs).transpose(1, 2), labels, reduction="none")
        return masked_mean(losses, mask)

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self._logits(outputs), dim=-1)


def build_task(
    task_type: str,
    target_names: Sequence[str],
    *,
    metrics: Sequence[str] | None = None,
    n_classes: int | None = None,
    train_targets: np.ndarray | None = None,
    state: dict[str, Any] | None = None,
    classes: Mapping[str, Sequence[str]] | None = None,
    head: Mapping[str, Any] | None = None,
) -> Task:
    """Builds a task by type.

    Args:
        train_targets: ``[n, T]`` training labels, used to fit regression scaling and check labels.
        state: a ``describe()`` dict (from ``model.yaml``) to rebuild an exported task.
        classes: class names of targets with text labels (``MoleculeTable.classes``; ``state`` has its own).
        head: a regression uncertainty head, ``{"head": "mve" | "evidential" | "quantile", "evidential_weight",
            "coverage"}`` (``state`` has its own); see :mod:`molgen.training.uncertainty`.
    """
    given = state["classes"] if state is not None and state.get("classes") else classes or {}
    names = {target: list(labels) for target, labels in given.items()}
    if names and task_type not in (BINARY, MULTILABEL, MULTICLASS):
        raise ValueError(f"class labels {names} need a binary or multiclass task, not {task_type}")
    head = state if state is not None and state.get("head") else head
    if head and head.get("head"):
        if task_type != REGRESSION:
            raise ValueError(f"the {head['head']} uncertainty head is for regression, not {task_type}")
        from molgen.training.uncertainty import regression_head_task

        plain = _build_task(task_type, target_names, metrics, n_classes, train_targets, state, names)
        assert isinstance(plain, RegressionTask)
        scaling = {"target_mean": plain.target_mean.tolist(), "target_std": plain.target_std.tolist()}
        task: Task = regression_head_task(str(head["head"]), target_names, dict(head), metrics=metrics, **scaling)
    else:
        task = _build_task(task_type, target_names, metrics, n_classes, train_targets, state, names)
    task.classes = names
    return task


def _build_task(
    task_type: str,
    target_names: Sequence[str],
    metrics: Sequence[str] | None,
    n_classes: int | None,
    train_targets: np.ndarray | None,
    state: dict[str, Any] | None,
    classes: dict[str, list[str]],
) -> Task:
    if task_type == REGRESSION:
        if state is not None:
            return RegressionTask(
                target_names, metrics, target_mean=state["target_mean"], target_std=state["target_std"]
            )
        if train_targets is not None:
            return RegressionTask.fit_scaling(target_names, train_targets, metrics=metrics)
        return RegressionTask(target_names, metrics)
    if task_type in (BINARY, MULTILABEL):
        for name, names in classes.items():
            if len(names) != 2:
                raise InvalidInputError(
                    f"target {name!r} has {len(names)} class label(s) ({', '.join(names[:10])}); a binary task "
                    "needs exactly two (pass --task-type multiclass for more)"
                )
        if train_targets is not None:
            _check_labels(train_targets, target_names, {0.0, 1.0}, "binary")
        return BinaryTask(target_names, metrics)
    if task_type == MULTICLASS:
        counts = {len(names) for names in classes.values()}
        if len(counts) > 1 or (counts and len(classes) < len(target_names)):
            raise InvalidInputError(
                f"multiclass targets must share one set of classes; got {classes} for targets {list(target_names)}"
            )
        if counts and n_classes is None:
            n_classes = counts.pop()
        if n_classes is None and train_targets is not None:
            n_classes = int(np.nanmax(train_targets)) + 1
        if train_targets is not None:
            _check_labels(train_targets, target_names, set(map(float, range(n_classes or 0))), "multiclass")
        return MulticlassTask(target_names, metrics, n_classes=n_classes or 0)
    raise UnknownNameError(f"unknown task type {task_type!r}; valid types: {', '.join(TASK_TYPES)}")


def _check_labels(targets: np.ndarray, names: Sequence[str], allowed: set[float], kind: str) -> None:
    for t, name in enumerate(names):
        values = set(np.unique(targets[~np.isnan(targets[:, t]), t]).tolist())
        bad = sorted(values - allowed)
        if bad:
            raise ValueError(
                f"target {name!r} has label(s) {bad[:5]} that a {kind} task cannot use; "
                f"expected {sorted(allowed)[:10]} (use --task-type regression for continuous values)"
            )


def prediction_columns(
    task_type: str,
    targets: Sequence[str],
    preds: np.ndarray | None,
    index: np.ndarray,
    n_rows: int,
    classes: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, np.ndarray]:
    """The output columns of a prediction table, in order.

    Args:
        preds: member predictions of rows ``index``, ``[M, N, T]`` (``[M, N, T, C]`` multiclass); None: no valid row.
        classes: class names of targets with text labels (``Task.classes``).

    Returns:
        Per target: ``<target>``, its mean prediction, and with several members ``<target>_std``. A target with
        class names gets the predicted class name as ``<target>`` and ``<target>_prob_<class>`` per class
        (binary: ``<target>_prob_<positive class>_std`` with several members); numeric multiclass labels get
        the most probable label and ``<target>_prob_<label>``. Rows outside ``index`` are NaN.
    """
    classes = classes or {}

    def scatter(values: np.ndarray, fill: Any = np.nan) -> np.ndarray:
        full = np.full(n_rows, fill, dtype=object if fill is None else float)
        full[index] = values
        return full

    columns: dict[str, np.ndarray] = {}
    for t, target in enumerate(targets):
        names = list(classes.get(target, ()))
        if preds is None:
            columns[target] = np.full(n_rows, np.nan)
        elif task_type == MULTICLASS:
            probs = preds[:, :, t, :].mean(0)
            best = np.argmax(probs, axis=1)
            columns[target] = scatter(np.asarray(names, dtype=object)[best], None) if names else scatter(best)
            for c in range(probs.shape[1]):
                columns[f"{target}_prob_{names[c] if names else c}"] = scatter(probs[:, c])
        elif names:  # binary with class names: the positive class is names[1]
            positive = preds[:, :, t].mean(0)
            columns[target] = scatter(np.where(positive >= 0.5, names[1], names[0]).astype(object), None)
            columns[f"{target}_prob_{names[0]}"] = scatter(1.0 - positive)
            columns[f"{target}_prob_{names[1]}"] = scatter(positive)
            if len(preds) > 1:
                columns[f"{target}_prob_{names[1]}_std"] = scatter(preds[:, :, t].std(0, ddof=0))
        else:
            columns[target] = scatter(preds[:, :, t].mean(0))
            if len(preds) > 1:
                columns[f"{target}_std"] = scatter(preds[:, :, t].std(0, ddof=0))
    return columns


def add_columns(frame: pd.DataFrame, columns: Mapping[str, Any]) -> pd.DataFrame:
    """``frame`` with ``columns`` appended; an input column of the same name is kept as ``<name>_input``
    (logged), so that a prediction column is always named after its target."""
    clashes = [name for name in columns if name in frame.columns]
    renames = {}
    for name in clashes:
        new = f"{name}_input"
        while new in frame.columns or new in columns:
            new += "_"
        renames[name] = new
        log.info("the input has a column %r: kept as %r (%r holds the prediction)", name, new, name)
    out = frame.rename(columns=renames) if renames else frame
    if not columns:
        return out.copy()
    # one concat, not a column insert per name: a prediction call's fixed cost (~0.3 ms less per call)
    return pd.concat([out, pd.DataFrame(dict(columns), index=frame.index)], axis=1)
