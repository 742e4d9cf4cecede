"""Missing target values: counted per target and split part, rows without any target left out of training
and evaluation, and targets that cannot be trained refused before any training.

A missing value is an empty or ``NA`` cell (NaN after reading). The loss and the metrics mask missing values
target by target; a row whose every target is missing teaches nothing and scores nothing, so it is taken
out of the splits (its data row is recorded in ``splits.json`` as ``unlabelled_rows``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from molgen.data.splits import Split
from molgen.errors import InvalidInputError

log = logging.getLogger("molgen")

PARTS = ("train", "val", "test")
UNLABELLED_REASON = "no target value (every target cell empty or NA)"


@dataclass
class Labels:
    """The splits with unlabelled rows left out, and what is missing where.

    Attributes:
        splits: the splits without the unlabelled rows (positions among the valid rows).
        unlabelled: positions (among the valid rows) of the rows without any target value.
        missing: ``metrics.json``'s ``missing_targets``: per fold (``folds``, one split: ``train``/``val``/
            ``test`` at the top) the count of missing values per target, and ``rows_without_targets``.
    """

    splits: list[Split]
    unlabelled: np.ndarray
    missing: dict[str, Any]

    def record(self, target_names: Sequence[str]) -> dict[str, Any]:
        """metrics.json's ``missing_targets`` and, with several targets, what the pooled metrics are."""
        if len(target_names) < 2:
            return {"missing_targets": self.missing}
        pooled = (
            "each <metric> without a target is the mean of its per-target values <metric>/<target> over the "
            "targets that could be scored (targets may have different units)"
        )
        return {"missing_targets": self.missing, "targets": list(target_names), "pooled": pooled}


def check_and_split(
    targets: np.ndarray,
    names: Sequence[str],
    splits: list[Split],
    *,
    source: str,
    describe_row: Callable[[int], str],
) -> Labels:
    """Refuses untrainable targets, leaves unlabelled rows out of ``splits`` and counts missing values.

    Args:
        targets: ``[n_valid, T]`` labels of the valid rows (NaN = missing).
        names: the ``T`` target column names.
        splits: the family's splits over the valid rows.
        source: the data file or dataset name, for messages.
        describe_row: where a valid row came from ("data.csv line 5"), given its position.

    Raises:
        InvalidInputError: a target column has no value at all, or none in a training split.
    """
    labelled = ~np.isnan(targets)
    empty = [name for t, name in enumerate(names) if not labelled[:, t].any()]
    if empty:
        raise InvalidInputError(
            f"{source}: target column(s) {', '.join(map(repr, empty))} have no value in any of the {len(targets)} "
            "valid row(s) (every cell empty or NA); fill them in or leave them out of --target-columns"
        )
    keep = labelled.any(axis=1)
    unlabelled = np.flatnonzero(~keep)
    kept = [Split(*(part[keep[part]] for part in (s.train, s.val, s.test))) for s in splits]
    for fold, split in enumerate(kept):
        untrained = [name for t, name in enumerate(names) if not labelled[split.train, t].any()]
        if untrained:
            where = f"fold {fold}'s training split" if len(kept) > 1 else "the training split"
            raise InvalidInputError(
                f"{source}: target(s) {', '.join(map(repr, untrained))} have no labelled row in {where} "
                f"({len(split.train)} rows); use another split or seed, or leave them out of --target-columns"
            )
    if len(unlabelled):
        shown = ", ".join(describe_row(int(i)) for i in unlabelled[:10])
        more = f" and {len(unlabelled) - 10} more" if len(unlabelled) > 10 else ""
        log.warning(
            "%d row(s) of %s have no target value and are left out of training and evaluation: %s%s "
            "(splits.json: unlabelled_rows)",
            len(unlabelled),
            source,
            shown,
            more,
        )
    folds = [_count(targets, names, split) for split in kept]
    for fold, counts in enumerate(folds):
        _log_counts(counts, f"fold {fold}: " if len(folds) > 1 else "")
    missing: dict[str, Any] = {"rows_without_targets": len(unlabelled)}
    missing.update(folds[0] if len(folds) == 1 else {"folds": folds})
    return Labels(kept, unlabelled, missing)


def _count(targets: np.ndarray, names: Sequence[str], split: Split) -> dict[str, dict[str, int]]:
    """``{part: {target: missing values}}`` of one split."""
    return {
        part: {name: int(np.isnan(targets[getattr(split, part), t]).sum()) for t, name in enumerate(names)}
        for part in PARTS
    }


def _log_counts(counts: dict[str, dict[str, int]], prefix: str) -> None:
    parts = []
    for part, per_target in counts.items():
        gaps = [f"{name} {n}" for name, n in per_target.items() if n]
        if gaps:
            shown = ", ".join(gaps[:12]) + (f", … ({len(gaps)} targets)" if len(gaps) > 12 else "")
            parts.append(f"{part}: {shown}")
    if parts:
        log.info("%smissing target values (masked in loss and metrics): %s", prefix, "; ".join(parts))
