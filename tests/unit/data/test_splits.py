import itertools
import json

import numpy as np
import pytest

from molgen.data.splits import SPLIT_TYPES, Split, kfold_splits, make_split, scaffold_of
from molgen.registry import UnknownNameError

# Ring systems with two substitution sites ({} placeholders) and acyclic side chains.
CORES = [
    "c1cc({})ccc1{}",
    "c1cc({})ncc1{}",
    "C1CN({})CCC1{}",
    "c1ccc2cc({})ccc2c1{}",
    "c1cc({})oc1{}",
    "c1cc({})sc1{}",
    "C1CC({})OC1{}",
    "c1cnc2cc({})ccc2n1",
    "C1CC1({}){}",
    "c1ccc(-c2ccc({})cc2)cc1{}",
    "O=C1NCCc2cc({})ccc21",
    "c1cn({})nc1{}",
    "C1CCC({})CC1{}",
    "c1ccc2[nH]cc({})c2c1",
    "c1nc({})ncn1",
    "c1ccc(Oc2ccc({})cc2)cc1",
    "C1CN({})CCN1{}",
    "c1ccc2c(c1)CCN2{}",
    "c1cc2ccccc2o1",
    "O=c1cc({})oc2ccccc12",
]
SIDES = ["C", "CC", "OC", "N", "C(=O)O", "Cl", "F", "CN(C)C", "OCC", "C(F)(F)F", "S(N)(=O)=O", "CCO", "C#N"]
ACYCLIC = ["CCO", "CCCCN", "CC(C)CO", "OCC(O)CO", "CCN(CC)CC", "CC(=O)OC"]


def _library() -> list[str]:
    """A few hundred drug-like SMILES over 20 scaffolds with uneven group sizes, plus acyclic ones."""
    out = []
    for k, core in enumerate(CORES):
        n_sites = core.count("{}")
        combos = list(itertools.product(SIDES, repeat=n_sites))[: 4 + 3 * k]  # sizes 1..61
        out += [core.format(*combo) for combo in combos] if n_sites else [core]
    return out + ACYCLIC


@pytest.fixture(scope="module")
def library():
    from rdkit import Chem

    smiles = _library()
    assert all(Chem.MolFromSmiles(s) is not None for s in smiles)
    assert len(smiles) > 300
    return smiles


def _check_partition(split: Split, n: int) -> None:
    parts = [split.train, split.val, split.test]
    assert all(p.dtype == np.int64 and np.all(np.diff(p) > 0) for p in parts)
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(n))


@pytest.mark.parametrize(
    "sizes,expected",
    [((0.8, 0.1, 0.1), (80, 10, 10)), ((0.7, 0.2, 0.1), (70, 20, 10)), ((0.71, 0.29, 0.0), (71, 29, 0))],
)
def test_random_sizes(sizes, expected):
    split = make_split("random", 100, sizes=sizes)
    assert split.sizes == expected
    _check_partition(split, 100)


@pytest.mark.parametrize("kind", ["random", "scaffold", "stratified"])
def test_deterministic_per_seed_and_seeds_differ(kind, library):
    n = len(library)
    labels = np.arange(n) % 3 == 0
    kw = dict(smiles=library, labels=labels)
    a, b, c = (make_split(kind, n, seed=s, **kw) for s in (0, 0, 1))
    assert a == b and a != c
    _check_partition(a, n)


@pytest.mark.parametrize("sizes", [(0.8, 0.1, 0.2), (1.1, -0.1, 0.0), (0.5, 0.5)])
def test_bad_sizes(sizes):
    with pytest.raises(ValueError, match="sizes"):
        make_split("random", 100, sizes=sizes)


def test_too_few_rows_and_unknown_kind():
    with pytest.raises(ValueError, match="too few rows.*val"):
        make_split("random", 5)
    with pytest.raises(UnknownNameError) as err:
        make_split("cluster", 10)
    assert all(name in str(err.value) for name in SPLIT_TYPES)


def test_scaffold_split_never_shares_a_scaffold(library):
    n = len(library)
    scaffolds = np.array([scaffold_of(s) for s in library])
    assert len(set(scaffolds)) == len(CORES) + 1  # + the empty scaffold of the acyclic molecules
    for seed in range(3):
        split = make_split("scaffold", n, seed=seed, smiles=library)
        _check_partition(split, n)
        sets = [set(scaffolds[p]) for p in (split.train, split.val, split.test)]
        assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
        assert split.sizes[0] <= 0.8 * n and min(split.sizes) > 0


def test_scaffold_split_puts_big_scaffold_sets_in_train(library):
    n = len(library)
    scaffolds = np.array([scaffold_of(s) for s in library])
    big = [s for s in set(scaffolds) if (scaffolds == s).sum() > 0.1 * n / 2]
    assert big
    for seed in range(3):
        split = make_split("scaffold", n, seed=seed, smiles=library)
        assert set(big) <= set(scaffolds[split.train])


def test_scaffold_of():
    assert scaffold_of("CC(=O)Oc1ccccc1C(=O)O") == "c1ccccc1"
    assert scaffold_of("C[C@H](N)c1ccccc1") == scaffold_of("C[C@@H](N)c1ccccc1") == "c1ccccc1"
    assert scaffold_of("CCO") == "" and scaffold_of("not a smiles") == "" and scaffold_of("") == ""


def test_stratified_keeps_class_ratios():
    n = 500
    labels = (np.random.default_rng(1).random(n) < 0.2).astype(int)
    ratio = labels.mean()
    split = make_split("stratified", n, labels=labels, seed=3)
    _check_partition(split, n)
    assert split.sizes == (400, 50, 50)
    for part in (split.train, split.val, split.test):
        assert abs(labels[part].mean() - ratio) <= 1.0 / len(part) + 1e-9


def test_stratified_regression_uses_quantile_bins():
    y = np.random.default_rng(0).normal(size=1000)
    split = make_split("stratified", 1000, labels=y, seed=0)
    deciles = np.searchsorted(np.quantile(y, np.linspace(0, 1, 11)[1:-1]), y[split.test], side="right")
    assert np.bincount(deciles, minlength=10).min() >= 9  # about 10 test rows from every decile


def test_stratified_rejects_missing_labels():
    with pytest.raises(ValueError, match="row 2 .*missing"):
        make_split("stratified", 20, labels=[0, 1, np.nan] + [0] * 17)


def test_predefined_mapping_and_error():
    groups = ["Train", " valid ", "TEST", "training", "Validation", "val", "test", "train"]
    split = make_split("predefined", len(groups), groups=groups)
    assert split.to_dict() == {"train": [0, 3, 7], "val": [1, 4, 5], "test": [2, 6]}
    with pytest.raises(ValueError) as err:
        make_split("predefined", 3, groups=["train", "holdout", "other"])
    msg = str(err.value)
    assert "row 1" in msg and "'holdout'" in msg and "validation" in msg and "other" not in msg


@pytest.mark.parametrize("kind", ["random", "scaffold", "stratified"])
def test_kfold_covers_every_row_once(kind, library):
    n, k = len(library), 5
    labels = (np.arange(n) % 4 == 0).astype(float)
    folds = kfold_splits(kind, n, k, seed=7, smiles=library, labels=labels, val_fraction=0.1)
    assert len(folds) == k
    tests = np.concatenate([f.test for f in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(n))
    for f in folds:
        _check_partition(f, n)
        assert 0 < len(f.val) <= round(0.1 * n)
    if kind == "scaffold":
        scaffolds = np.array([scaffold_of(s) for s in library])
        fold_sets = [set(scaffolds[f.test]) for f in folds]
        assert sum(len(s) for s in fold_sets) == len(set(scaffolds))  # no scaffold in two folds
        for f in folds:
            assert not set(scaffolds[f.val]) & set(scaffolds[f.train])
    else:
        assert max(len(f.test) for f in folds) - min(len(f.test) for f in folds) <= 1
    again = kfold_splits(kind, n, k, seed=7, smiles=library, labels=labels)
    assert again == folds


def test_kfold_errors():
    with pytest.raises(ValueError, match="n_folds"):
        kfold_splits("random", 10, 1)
    with pytest.raises(ValueError, match="k-fold"):
        kfold_splits("predefined", 10, 2)
    with pytest.raises(UnknownNameError):
        kfold_splits("cluster", 10, 2)
    with pytest.raises(ValueError, match="too few rows"):
        kfold_splits("random", 3, 5)


def test_split_dict_roundtrip_and_validation():
    split = make_split("random", 50, seed=4)
    restored = Split.from_dict(json.loads(json.dumps(split.to_dict())))
    assert restored == split and restored.train.dtype == np.int64
    with pytest.raises(ValueError, match="unknown"):
        Split.from_dict({**split.to_dict(), "extra": []})
    with pytest.raises(ValueError, match="share"):
        Split([0, 1], [1], [2])
