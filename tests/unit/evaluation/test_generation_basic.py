"""Validity, uniqueness and novelty on handmade sets, with MOSES's definitions."""

from __future__ import annotations

import math

import pytest

from molgen.evaluation.generation.basic import basic_metrics, fraction_unique, novelty, split_valid


def test_validity_counts_unparseable_and_empty_strings():
    generated = ["CCO", "OCC", "c1ccccc1", "C1CC", "", "not a smiles", "C(C)(C)(C)(C)C"]
    valid = split_valid(generated)
    assert valid.n_total == 7
    assert valid.smiles == ["CCO", "CCO", "c1ccccc1"]  # canonical, duplicates kept
    assert [record.index for record in valid.invalid] == [3, 4, 5, 6]
    assert len(valid.mols) == 3
    assert basic_metrics(generated)["valid"] == pytest.approx(3 / 7)


def test_unique_at_k_uses_the_first_k_valid_canonical_smiles():
    # "OCC" and "C(O)C" are spellings of ethanol; the invalid entry does not count toward k.
    generated = ["CCO", "xx", "OCC", "C(O)C", "CCN"] + ["CCCC"] * 996 + ["c1ccccc1"] * 10
    metrics = basic_metrics(generated)
    # first 1000 valid: 3 x ethanol, CCN, 996 x butane -> 3 distinct; benzene comes after them
    assert metrics["unique@1000"] == pytest.approx(3 / 1000)
    # fewer than 10000 valid molecules: all 1010 are used, 4 distinct
    assert metrics["unique@10000"] == pytest.approx(4 / 1010)
    assert "Novelty" not in metrics


def test_novelty_compares_canonical_forms_of_distinct_molecules():
    generated = ["OCC", "CCO", "CCN", "c1ccccc1", "bad("]
    train = ["C(O)C", "C1=CC=CC=C1"]  # ethanol and benzene, spelled differently
    assert basic_metrics(generated, train)["Novelty"] == pytest.approx(1 / 3)
    assert novelty(["CCO", "CCN"], {"CCO"}) == pytest.approx(0.5)


def test_empty_and_all_invalid_inputs_give_zero_validity_and_nan_elsewhere():
    for generated in ([], ["", "((", "C1CC"]):
        metrics = basic_metrics(generated, train=["CCO"])
        assert metrics["valid"] == 0.0
        assert math.isnan(metrics["unique@1000"]) and math.isnan(metrics["unique@10000"])
        assert math.isnan(metrics["Novelty"])
    assert math.isnan(fraction_unique([], 10))
