"""Prediction tables of the supervised families: the output of ``molgen predict`` (:func:`output_table`) and what a
run keeps (:func:`kept_table`): ``predictions/test.csv`` and, for k-fold runs, ``predictions/oof.csv``.

In a kept table each row is one data row: ``row`` (0-based data row of the input table, as in ``splits.json``), the input
(SMILES or sequence id) when the family names one, ``fold`` (k-fold runs), then per target its true value
``<target>`` (empty when missing), the prediction ``<target>_pred`` (the members' mean; a probability for
binary and multilabel tasks, the most probable class for multiclass with ``<target>_prob_<c>``) and, with
several members, their standard deviation ``<target>_std``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from molgen.errors import InvalidInputError
from molgen.evaluation.supervised import MULTICLASS
from molgen.io import atomic_path
from molgen.training import predictive as uq
from molgen.training.artifacts import ModelSpec
from molgen.training.tasks import add_columns, prediction_columns

TEST_FILE = "test.csv"
OOF_FILE = "oof.csv"


@dataclass
class FoldPredictions:
    """Predictions of one fold's members for its test rows.

    Attributes:
        positions: the test rows, as positions among the valid rows.
        preds: ``[M, n, T]`` (``[M, n, T, C]`` multiclass) member predictions in user units.
    """

    positions: np.ndarray
    preds: np.ndarray


def kept_table(
    folds: Sequence[FoldPredictions],
    *,
    rows: np.ndarray,
    targets: np.ndarray,
    target_names: Sequence[str],
    task_type: str,
    inputs: tuple[str, Sequence[str]] | None = None,
    columns: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """One row per predicted data row, in fold order (see the module docstring for the columns).

    Args:
        rows: data row of each valid position (``valid_index``).
        targets: ``[n_valid, T]`` true values.
        inputs: ``(column name, value per valid position)``, e.g. ``("smiles", [...])``.
        columns: more columns (one value per valid position) appended last, e.g. ``train_similarity``.
    """
    positions = np.concatenate([f.positions for f in folds]) if folds else np.zeros(0, dtype=np.int64)
    table: dict[str, np.ndarray] = {"row": rows[positions]}
    if inputs is not None:
        name, values = inputs
        table[name] = np.asarray([values[int(i)] for i in positions], dtype=object)
    if len(folds) > 1:
        table["fold"] = np.concatenate([np.full(len(f.positions), k) for k, f in enumerate(folds)])
    preds = [f.preds for f in folds]
    for t, target in enumerate(target_names):
        table[target] = targets[positions, t]
        if task_type == MULTICLASS:
            probs = np.concatenate([p[:, :, t, :].mean(0) for p in preds])
            table[f"{target}_pred"] = probs.argmax(1)
            for c in range(probs.shape[1]):
                table[f"{target}_prob_{c}"] = probs[:, c]
            continue
        table[f"{target}_pred"] = np.concatenate([p[:, :, t].mean(0) for p in preds])
        if any(len(p) > 1 for p in preds):
            table[f"{target}_std"] = np.concatenate([p[:, :, t].std(0) for p in preds])
    for column, per_position in (columns or {}).items():
        table[column] = per_position[positions]
    return pd.DataFrame(table)


def write_predictions(directory: Path, table: pd.DataFrame, *, k_fold: bool) -> None:
    """Writes ``test.csv`` and, for a k-fold run, ``oof.csv`` (the same predictions sorted by data row:
    in k-fold cross-validation each row is in exactly one fold's test set)."""
    directory.mkdir(parents=True, exist_ok=True)
    with atomic_path(directory / TEST_FILE) as tmp:
        table.to_csv(tmp, index=False)
    if k_fold:
        with atomic_path(directory / OOF_FILE) as tmp:
            table.sort_values("row", kind="stable").to_csv(tmp, index=False)


def output_table(
    spec: ModelSpec,
    frame: pd.DataFrame,
    preds: np.ndarray | None,
    valid_index: np.ndarray,
    reasons: dict[int, str],
    extra: dict[str, np.ndarray] | None = None,
    samples: uq.Samples | None = None,
) -> pd.DataFrame:
    """One output row per input row: the input columns, the prediction columns of the task, ``valid`` and
    ``invalid_reason``.

    Args:
        preds: member predictions of rows ``valid_index``, ``[M, N, T]`` (``[M, N, T, C]`` multiclass).
        reasons: ``{row: why it has no prediction}`` for the invalid input rows. A valid row whose prediction is
            not finite is made invalid here, with its reason.
        extra: more output columns (one value per input row), e.g. the standardized SMILES.
        samples: the members' samples of rows ``valid_index`` (:mod:`molgen.training.predictive`; default:
            ``{"mean": preds}``). A model with an ``uncertainty`` section gets the calibrated probabilities and the
            ``<target>_std`` / ``_lower`` / ``_upper`` / ``_set`` columns.

    An input column named like an output column is kept as ``<name>_input`` (:func:`add_columns`).
    """
    assert spec.task is not None
    reasons = dict(reasons)
    section = getattr(spec, "uncertainty", None)
    calibration = getattr(spec, "calibration", None)
    if section and preds is not None:
        samples = uq.calibrate_samples(calibration, spec.task.targets, samples or {"mean": preds})
        preds = samples["mean"]
    if preds is not None and len(valid_index):
        finite = np.isfinite(preds.reshape(len(preds), len(valid_index), -1)).all(axis=(0, 2))
        for row in valid_index[~finite]:
            reasons[int(row)] = "non-finite prediction (NaN or infinity)"
        preds, valid_index = preds[:, finite], valid_index[finite]
        samples = {key: value[:, finite] for key, value in (samples or {}).items()}
    classes = getattr(spec.task, "classes", None)
    columns = prediction_columns(spec.task.type, spec.task.targets, preds, valid_index, len(frame), classes=classes)
    if section and preds is not None and samples:
        found = uq.columns(
            spec.task.type, spec.task.targets, uq.summarize(samples), calibration, section["coverage"], classes
        )
        for name, values in found.items():
            text = values.dtype.kind in "OU"  # prediction sets
            full = np.full(len(frame), "", dtype=object) if text else np.full(len(frame), np.nan)
            full[valid_index] = values
            columns[name] = full
    valid = np.zeros(len(frame), dtype=bool)
    valid[valid_index] = True
    columns.update(extra or {})
    columns["valid"] = valid
    columns["invalid_reason"] = np.array([reasons.get(i, "") for i in range(len(frame))], dtype=object)
    return add_columns(frame, columns)


def input_values(frame: pd.DataFrame, column: str | None, kind: str) -> pd.Series:
    """The input column (``kind``: what it holds, e.g. ``"SMILES"``) of a prediction input, or a clear error
    listing the columns there are."""
    if column not in frame.columns:
        raise InvalidInputError(
            f"{kind} column {column!r} not in the input; columns: {', '.join(map(str, frame.columns))} "
            "(use --input-column)"
        )
    return frame[column]
