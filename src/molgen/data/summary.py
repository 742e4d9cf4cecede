"""The data summary a run records in ``metrics.json`` (``data_summary``) for its report: rows read, invalid rows and
why, unlabelled rows, split sizes and, for molecules, the scaffold overlap between the split parts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from molgen.data.splits import Split, scaffold_of

MAX_EXAMPLES = 20
"""Invalid rows listed by row number and reason (all of them are counted)."""


def data_summary(
    n_rows: int,
    invalid: Sequence[Any],
    unlabelled_rows: Sequence[int],
    splits: Sequence[Split],
    smiles: Sequence[str] | None = None,
) -> dict[str, Any]:
    """``metrics.json``'s ``data_summary``.

    Args:
        n_rows: data rows read from the input.
        invalid: the invalid rows, items with ``index`` (0-based data row) and ``reason``.
        unlabelled_rows: data rows without any target value (left out of the splits).
        splits: one split per fold, positions among the valid rows.
        smiles: one SMILES per valid row (None: no molecules, no scaffold overlap).

    Returns:
        ``rows``, ``valid``, ``invalid``, ``invalid_reasons`` (``{reason: count}``, most frequent first),
        ``invalid_examples`` (``[{row, reason}]``, the first :data:`MAX_EXAMPLES`), ``unlabelled``,
        ``split_sizes`` (``[{train, val, test}]`` per fold) and, with ``smiles``, ``scaffold_overlap``:
        per fold the number of val / test molecules whose Bemis–Murcko scaffold also occurs in train
        (0 for scaffold splits).
    """
    reasons = Counter(str(bad.reason) for bad in invalid)
    summary: dict[str, Any] = {
        "rows": int(n_rows),
        "valid": int(n_rows - len(invalid)),
        "invalid": len(invalid),
        "invalid_reasons": dict(reasons.most_common()),
        "invalid_examples": [{"row": int(bad.index), "reason": str(bad.reason)} for bad in invalid[:MAX_EXAMPLES]],
        "unlabelled": len(unlabelled_rows),
        "split_sizes": [{part: len(getattr(s, part)) for part in ("train", "val", "test")} for s in splits],
    }
    if smiles is not None:
        summary["scaffold_overlap"] = [scaffold_overlap(smiles, split) for split in splits]
    return summary


def scaffold_overlap(smiles: Sequence[str], split: Split) -> dict[str, int]:
    """``{"val": n, "test": n}``: molecules of that part whose scaffold (acyclic: ``""``) occurs in train."""
    memo: dict[str, str] = {}

    def scaffolds(rows: np.ndarray) -> list[str]:
        out = []
        for i in rows:
            smi = smiles[int(i)]
            if smi not in memo:
                memo[smi] = scaffold_of(smi)
            out.append(memo[smi])
        return out

    train = set(scaffolds(split.train))
    return {part: sum(s in train for s in scaffolds(getattr(split, part))) for part in ("val", "test")}
