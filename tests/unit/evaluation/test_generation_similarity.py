"""SNN, Frag, Scaf and IntDiv on handmade sets with hand-computed values."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from rdkit import Chem

from molgen.chem.fingerprints import morgan_bits
from molgen.evaluation.generation.similarity import (
    brics_fragments,
    cosine_similarity_counts,
    internal_diversity,
    murcko_scaffold,
    snn,
)

SET = ["CC(=O)Oc1ccccc1C(=O)O", "CC(=O)Nc1ccc(O)cc1", "c1ccc2c(c1)CCN2C(=O)c1ccccc1", "CCOC(=O)c1ccc(N)cc1"]


def bits(smiles):
    return morgan_bits([Chem.MolFromSmiles(s) for s in smiles])


def counts(function, smiles):
    out = Counter()
    for s in smiles:
        value = function(Chem.MolFromSmiles(s))
        out.update(value if isinstance(value, list) else [value] if value else [])
    return out


def test_identical_sets_score_one():
    assert snn(bits(SET), bits(SET)) == pytest.approx(1.0)
    assert cosine_similarity_counts(counts(brics_fragments, SET), counts(brics_fragments, SET)) == pytest.approx(1.0)
    assert cosine_similarity_counts(counts(murcko_scaffold, SET), counts(murcko_scaffold, SET)) == pytest.approx(1.0)


def test_internal_diversity_of_identical_molecules_is_zero():
    assert internal_diversity(bits(["c1ccccc1O"] * 5)) == pytest.approx((0.0, 0.0))


def test_internal_diversity_of_two_molecules_by_hand():
    fp = bits(["CCO", "CCN"]).astype(bool)
    t = (fp[0] & fp[1]).sum() / (fp[0] | fp[1]).sum()
    # each molecule: mean over (itself: 1, the other: t)
    int_div, int_div2 = internal_diversity(fp.astype(np.uint8))
    assert int_div == pytest.approx(1 - (1 + t) / 2)
    assert int_div2 == pytest.approx(1 - math.sqrt((1 + t**2) / 2))


def test_snn_takes_the_nearest_reference_molecule():
    reference = bits(["CCO", "c1ccccc1"])
    generated = bits(["CCO", "c1ccccc1C"])
    fp = bits(["c1ccccc1", "c1ccccc1C"]).astype(bool)
    toluene_vs_benzene = (fp[0] & fp[1]).sum() / (fp[0] | fp[1]).sum()
    assert snn(reference, generated) == pytest.approx((1.0 + toluene_vs_benzene) / 2)


def test_cosine_similarity_of_count_vectors():
    assert cosine_similarity_counts({"a": 1, "b": 1}, {"a": 2}) == pytest.approx(1 / math.sqrt(2))
    assert cosine_similarity_counts({"a": 3}, {"b": 1}) == 0.0
    assert math.isnan(cosine_similarity_counts({}, {"a": 1}))


def test_scaffolds_need_two_rings_and_fragments_keep_attachment_points():
    assert murcko_scaffold(Chem.MolFromSmiles("CCO")) is None
    assert murcko_scaffold(Chem.MolFromSmiles("Cc1ccccc1")) is None  # one ring: not counted (MOSES)
    assert murcko_scaffold(Chem.MolFromSmiles("CCc1ccc(-c2ccccn2)cc1")) == "c1ccc(-c2ccccn2)cc1"
    # ethyl benzoate: BRICS cuts CH2-O (L4-L3), O-C(=O) (L3-L1) and C(=O)-c (L6-L16)
    assert sorted(brics_fragments(Chem.MolFromSmiles("CCOC(=O)c1ccccc1"))) == sorted(
        ["[4*]CC", "[3*]O[3*]", "[1*]C([6*])=O", "[16*]c1ccccc1"]
    )
