"""Seeded train/val/test splits over row indices: random, scaffold, stratified, predefined, k-fold.

All splitters return :class:`Split` (sorted, disjoint ``int64`` index arrays). RDKit is imported only
when scaffolds are computed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from molgen.errors import ConfigError, InvalidInputError, UnknownNameError
from molgen.registry import Registry

SPLIT_TYPES = ("random", "scaffold", "stratified", "predefined")
KFOLD_TYPES = ("random", "scaffold", "stratified")
PREDEFINED_VALUES = {"train": 0, "training": 0, "val": 1, "valid": 1, "validation": 1, "test": 2}
_PARTS = ("train", "val", "test")
_MAX_CLASSES = 50  # integral labels with more distinct values than this are binned like regression
_N_BINS = 10  # quantile bins for stratifying continuous labels


@dataclass(frozen=True, eq=False)
class Split:
    """Row indices of one train/val/test split (each sorted, int64, pairwise disjoint)."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def __post_init__(self) -> None:
        for part in _PARTS:
            arr = np.sort(np.asarray(getattr(self, part), dtype=np.int64).reshape(-1))
            if arr.size and arr[0] < 0:
                raise ValueError(f"{part} indices must be >= 0, got {arr[0]}")
            if arr.size != np.unique(arr).size:
                raise ValueError(f"{part} indices contain duplicates")
            object.__setattr__(self, part, arr)
        for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
            common = np.intersect1d(getattr(self, a), getattr(self, b))
            if common.size:
                raise ValueError(f"{a} and {b} share {common.size} indices, e.g. {common[:5].tolist()}")

    @property
    def sizes(self) -> tuple[int, int, int]:
        return (len(self.train), len(self.val), len(self.test))

    def to_dict(self) -> dict[str, list[int]]:
        """JSON-able form: ``{"train": [...], "val": [...], "test": [...]}``."""
        return {part: getattr(self, part).tolist() for part in _PARTS}

    @classmethod
    def from_dict(cls, d: dict) -> Split:
        """Inverse of :meth:`to_dict`; unknown or missing keys are errors."""
        unknown, missing = set(d) - set(_PARTS), set(_PARTS) - set(d)
        if unknown or missing:
            raise ValueError(
                f"split dict must have exactly the keys {list(_PARTS)}; "
                f"unknown: {sorted(unknown)}, missing: {sorted(missing)}"
            )
        return cls(**{part: np.asarray(d[part], dtype=np.int64) for part in _PARTS})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Split):
            return NotImplemented
        return all(np.array_equal(getattr(self, p), getattr(other, p)) for p in _PARTS)

    def __repr__(self) -> str:
        return f"Split(train={len(self.train)}, val={len(self.val)}, test={len(self.test)})"


def scaffold_of(smiles: str) -> str:
    """Bemis–Murcko scaffold SMILES (``includeChirality=False``); ``""`` for acyclic or unparsable input."""
    from rdkit import Chem, rdBase
    from rdkit.Chem.Scaffolds import MurckoScaffold

    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles) if isinstance(smiles, str) and smiles else None
    if mol is None:
        return ""
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)


# ----------------------------------------------------------------------------------------- helpers
def _check_sizes(sizes: Sequence[float]) -> tuple[float, float, float]:
    sizes = tuple(float(s) for s in sizes)
    if len(sizes) != 3:
        raise ConfigError(f"sizes must be (train, val, test), got {sizes}")
    if any(s < 0 for s in sizes) or abs(sum(sizes) - 1.0) > 1e-6:
        raise ConfigError(f"sizes must be >= 0 and sum to 1 (±1e-6), got {sizes} (sum {sum(sizes):.6g})")
    return sizes


def _counts(n: int, sizes: tuple[float, float, float]) -> tuple[int, int, int]:
    """Row counts per part; every part with a positive size must get at least one row."""
    n_train = int(np.floor(sizes[0] * n + 1e-6))
    n_val = int(np.floor((sizes[0] + sizes[1]) * n + 1e-6)) - n_train
    counts = (n_train, n_val, n - n_train - n_val)
    for part, size, count in zip(_PARTS, sizes, counts):
        if size > 0 and count == 0:
            raise ConfigError(
                f"too few rows: {n} rows with sizes {sizes} leave the {part} split empty; use more data or change sizes"
            )
    return counts


def _check_len(name: str, values, n: int, kind: str) -> list | np.ndarray:
    if values is None:
        raise ConfigError(f"a {kind} split needs {name}= (one value per row)")
    if len(values) != n:
        raise ConfigError(f"{name} has {len(values)} values but n={n}")
    return values


def _split_from_order(order: np.ndarray, counts: tuple[int, int, int]) -> Split:
    a, b = counts[0], counts[0] + counts[1]
    return Split(order[:a], order[a:b], order[b:])


def _scaffold_groups(smiles: Sequence[str] | np.ndarray) -> list[list[int]]:
    """Row indices grouped by scaffold, in order of first appearance."""
    groups: dict[str, list[int]] = {}
    memo: dict[str, str] = {}
    for i, smi in enumerate(smiles):
        if smi not in memo:
            memo[smi] = scaffold_of(smi)
        groups.setdefault(memo[smi], []).append(i)
    return list(groups.values())


def _strata(labels, n: int, kind: str) -> np.ndarray:
    """Integer stratum per row: classes for integral labels, quantile bins otherwise."""
    y = np.asarray(_check_len("labels", labels, n, kind), dtype=np.float64).reshape(-1)
    if y.size != n:
        raise ConfigError(f"stratified splits need one label per row (a single target), got shape {np.shape(labels)}")
    if np.isnan(y).any():
        first = int(np.flatnonzero(np.isnan(y))[0])
        raise ConfigError(
            f"stratified split: label of row {first} is missing (NaN); drop rows with missing labels "
            "first or use a random/scaffold split"
        )
    classes, codes = np.unique(y, return_inverse=True)
    if np.all(y == np.round(y)) and len(classes) <= _MAX_CLASSES:
        return codes
    n_bins = max(2, min(_N_BINS, n // 10))
    edges = np.quantile(y, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.searchsorted(edges, y, side="right")


def _stratified_order(strata: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An order in which every stratum is spread evenly, so any prefix keeps the class ratios."""
    key = np.empty(len(strata))
    for s in np.unique(strata):
        members = np.flatnonzero(strata == s)
        ranks = rng.permutation(len(members))
        key[members] = (ranks + rng.random()) / len(members)
    return np.lexsort((rng.random(len(strata)), key))


# ----------------------------------------------------------------------------------------- splitters
def _random(n, sizes, seed, **_) -> Split:
    counts = _counts(n, sizes)
    return _split_from_order(np.random.default_rng(seed).permutation(n), counts)


def _scaffold(n, sizes, seed, smiles=None, **_) -> Split:
    """Chemprop's balanced scaffold split: big scaffold sets first, the rest shuffled, greedy fill."""
    _counts(n, sizes)
    groups = _scaffold_groups(_check_len("smiles", smiles, n, "scaffold"))
    limits = [s * n for s in sizes]
    big = [g for g in groups if len(g) > limits[1] / 2 or len(g) > limits[2] / 2]
    small = [g for g in groups if not (len(g) > limits[1] / 2 or len(g) > limits[2] / 2)]
    rng = np.random.default_rng(seed)
    ordered = [big[i] for i in rng.permutation(len(big))] + [small[i] for i in rng.permutation(len(small))]
    parts: list[list[int]] = [[], [], []]
    for group in ordered:
        if len(parts[0]) + len(group) <= limits[0]:
            parts[0] += group
        elif len(parts[1]) + len(group) <= limits[1]:
            parts[1] += group
        else:
            parts[2] += group
    for part, size, rows in zip(_PARTS, sizes, parts):
        if size > 0 and not rows:
            raise ConfigError(
                f"scaffold split left the {part} split empty ({len(groups)} scaffolds in {n} rows); "
                "use more data, other sizes or a random split"
            )
    return Split(*(np.asarray(rows, dtype=np.int64) for rows in parts))


def _stratified(n, sizes, seed, labels=None, **_) -> Split:
    counts = _counts(n, sizes)
    rng = np.random.default_rng(seed)
    return _split_from_order(_stratified_order(_strata(labels, n, "stratified"), rng), counts)


def _predefined(n, sizes, seed, groups=None, **_) -> Split:
    """``groups`` holds train/training, val/valid/validation or test per row; ``sizes[1]`` and ``seed`` only
    size and seed the validation draw when no row is marked for validation."""
    groups = _check_len("groups", groups, n, "predefined")
    codes = np.empty(n, dtype=np.int64)
    for i, raw in enumerate(groups):
        code = PREDEFINED_VALUES.get(str(raw).strip().lower()) if isinstance(raw, str) else None
        if code is None:
            raise ConfigError(
                f"predefined split: row {i} has value {raw!r}; accepted values (case-insensitive): "
                f"{', '.join(PREDEFINED_VALUES)}"
            )
        codes[i] = code
    split = Split(*(np.flatnonzero(codes == c) for c in range(3)))
    if not len(split.val):  # no validation rows: a seeded draw of sizes[1] of all rows from the training rows
        n_val = min(round(sizes[1] * n), len(split.train) - 1)
        val = np.random.default_rng(seed).choice(split.train, size=max(n_val, 0), replace=False)
        split = Split(np.setdiff1d(split.train, val), val, split.test)
    return split


def predefined_groups(frame: Any, column: str | None, rows: np.ndarray, source: str) -> Any:
    """The train/val/test label of each of ``rows`` of ``frame`` (a table read from ``source``), from ``column``."""
    if not column:
        raise InvalidInputError("the predefined split needs --split-column (a column of train/val/test labels)")
    if column not in frame.columns:
        raise InvalidInputError(
            f"split column {column!r} not in {source}; columns: {', '.join(map(str, frame.columns))}"
        )
    return frame[column].to_numpy()[rows]


_SPLITTERS: Registry[Callable[..., Split]] = Registry(
    "split type",
    {"random": _random, "scaffold": _scaffold, "stratified": _stratified, "predefined": _predefined},
)


def make_split(
    kind: str,
    n: int,
    *,
    sizes: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    smiles: Sequence[str] | None = None,
    labels: Sequence[float] | np.ndarray | None = None,
    groups: Sequence[str] | None = None,
) -> Split:
    """Split ``n`` rows into train/val/test.

    Args:
        kind: one of :data:`SPLIT_TYPES`.
        n: number of rows.
        sizes: train/val/test fractions (each >= 0, summing to 1); ignored by ``predefined``.
        seed: seed for every random choice; the same inputs and seed give the same split.
        smiles: one SMILES per row (``scaffold``). Acyclic and unparsable molecules share the
            empty scaffold ``""`` and therefore one group, as in Chemprop.
        labels: one label per row (``stratified``): integral values (at most 50 distinct) are
            classes, anything else is stratified on quantile bins. Missing labels (NaN) are an error.
        groups: one value per row (``predefined``): train/training, val/valid/validation, test.

    Raises:
        UnknownNameError: unknown ``kind`` (the message lists the valid ones).
        ValueError: bad sizes, missing inputs, or too few rows for a non-empty part.
    """
    splitter = _SPLITTERS.get(kind)
    if int(n) != n or n < 0:
        raise ConfigError(f"n must be a non-negative integer, got {n!r}")
    return splitter(int(n), _check_sizes(sizes), seed, smiles=smiles, labels=labels, groups=groups)


def kfold_splits(
    kind: str,
    n: int,
    n_folds: int,
    *,
    seed: int = 0,
    smiles: Sequence[str] | None = None,
    labels: Sequence[float] | np.ndarray | None = None,
    val_fraction: float = 0.1,
) -> list[Split]:
    """``n_folds`` splits whose test sets partition the rows.

    Every row is in exactly one fold's test set. Each fold's val set (about ``val_fraction * n`` rows)
    is drawn from the remaining rows with the seed; the rest is train. ``scaffold`` assigns whole
    scaffold groups to folds (and to val), so no scaffold crosses test/val/train; ``stratified``
    keeps class ratios (or quantile-bin ratios for continuous labels) in every fold.
    """
    if kind not in KFOLD_TYPES:
        _SPLITTERS.get(kind)  # unknown names raise UnknownNameError listing the valid ones
        raise UnknownNameError(f"k-fold splitting supports {', '.join(KFOLD_TYPES)}, not {kind!r}")
    if int(n_folds) != n_folds or n_folds < 2:
        raise ConfigError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    if not 0 <= val_fraction < 1:
        raise ConfigError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if n < n_folds:
        raise InvalidInputError(f"too few rows: {n} rows cannot make {n_folds} folds")
    rng = np.random.default_rng(seed)
    if kind == "scaffold":
        units = _scaffold_groups(_check_len("smiles", smiles, n, "scaffold"))
        if len(units) < n_folds:
            raise InvalidInputError(f"only {len(units)} distinct scaffolds; cannot make {n_folds} scaffold folds")
        shuffled = [units[i] for i in rng.permutation(len(units))]
        fold_of = np.empty(n, dtype=np.int64)
        fill = np.zeros(n_folds, dtype=np.int64)
        for group in sorted(shuffled, key=len, reverse=True):  # stable: ties keep the seeded order
            k = int(np.argmin(fill))
            fold_of[group] = k
            fill[k] += len(group)
    else:
        strata = _strata(labels, n, kind) if kind == "stratified" else np.zeros(n, dtype=np.int64)
        units = []  # only scaffold folds have groups
        fold_of = np.empty(n, dtype=np.int64)
        fold_of[_stratified_order(strata, rng)] = np.arange(n) % n_folds

    n_val = round(val_fraction * n)
    splits = []
    for k in range(n_folds):
        test = np.flatnonzero(fold_of == k)
        rest = np.flatnonzero(fold_of != k)
        if n_val >= len(rest):
            raise ConfigError(f"val_fraction={val_fraction} leaves no training rows in fold {k}")
        fold_rng = np.random.default_rng([seed, k])
        if kind == "scaffold":
            val = _grouped_val([g for g in units if fold_of[g[0]] != k], n_val, fold_rng)
        elif kind == "stratified":
            val = rest[_stratified_order(strata[rest], fold_rng)[:n_val]]
        else:
            val = fold_rng.choice(rest, size=n_val, replace=False)
        train = np.setdiff1d(rest, val)
        if not len(train):
            raise ConfigError(f"fold {k}: the val draw used every remaining row; lower val_fraction")
        splits.append(Split(train, val, test))
    return splits


def calibration_rows(train: np.ndarray, fraction: float, seed: int, smiles: Sequence[str] | None = None) -> np.ndarray:
    """A seeded ``fraction`` of the rows ``train`` held out to calibrate uncertainty on (sorted).

    With ``smiles`` (one per row index): whole Bemis–Murcko scaffolds of the training rows, so that the calibration
    molecules, like a scaffold split's test molecules, have scaffolds the model was not trained on (else the
    calibrated intervals are too narrow on new scaffolds)."""
    n = round(fraction * len(train))
    rng = np.random.default_rng(seed)
    if smiles is None:
        return np.sort(rng.choice(train, size=n, replace=False))
    groups = [[int(train[i]) for i in group] for group in _scaffold_groups([smiles[i] for i in train])]
    return np.sort(_grouped_val(groups, n, rng))


def _grouped_val(groups: list[list[int]], n_val: int, rng: np.random.Generator) -> np.ndarray:
    """Whole groups, in seeded order, while they fit into ``n_val`` rows (at least one if n_val > 0)."""
    val: list[int] = []
    for i in rng.permutation(len(groups)):
        if len(val) + len(groups[i]) <= n_val:
            val += groups[i]
    if n_val > 0 and not val:
        smallest: list[int] = min(groups, key=len)
        val = list(smallest)
    return np.asarray(val, dtype=np.int64)


def splits_record(
    kind: str, seed: int, folds: list[dict[str, list[int]]], invalid_rows: list[int], index: str, **extra: Any
) -> dict[str, Any]:
    """splits.json: the split, and for each fold the input rows of each part (``index`` says how rows count)."""
    return {"type": kind, "seed": seed, **extra, "index": index, "invalid_rows": invalid_rows, "folds": folds}
