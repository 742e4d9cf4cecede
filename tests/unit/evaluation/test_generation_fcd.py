"""ChemNet encoding and statistics agree with the fcd package; FCD of identical sets is 0."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from molgen.evaluation.generation.fcd import (
    PAD_LENGTH,
    ChemNetMoments,
    _one_hot,
    chemnet_activations,
    chemnet_moments,
    chemnet_statistics,
    encode_smiles,
    frechet_distance,
)

fcd = pytest.importorskip("fcd")
SMILES = [
    "CCO",
    "c1ccccc1Cl",
    "BrCC[Si](C)(C)C",
    "CC(=O)Oc1ccccc1C(=O)O",
    "C[C@H](N)C(=O)O",
    "[Na+].[Cl-]",
    "c1ccc2[nH]ccc2c1",
    "CC#N",
    "O=[N+]([O-])c1ccccc1",
    "C[Se]C",
    "FC(F)(F)c1ccccc1",
    "CCCCCCCCCCCCCCCC",
]


def test_encoding_matches_the_fcd_package_one_hot():
    from fcd.utils import get_one_hot

    expected = np.stack([get_one_hot(s, PAD_LENGTH) / 35 for s in SMILES]).transpose(0, 2, 1)
    assert np.array_equal(_one_hot(encode_smiles(SMILES)).numpy(), expected.astype(np.float32))


def test_overlong_smiles_are_cut_with_an_end_token():
    codes = encode_smiles(["C" * 500])
    assert (codes[0, :-1] == 0).all() and codes[0, -1] == 34  # 349 x "C", then "."


@pytest.mark.slow
def test_activations_and_statistics_match_the_fcd_package():
    model = fcd.load_ref_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = fcd.get_predictions(model, SMILES, device="cpu")
    activations = chemnet_activations(SMILES, batch_size=5)
    assert np.allclose(activations, expected, atol=1e-6)
    stats = chemnet_statistics(SMILES, batch_size=5)
    assert np.allclose(stats.mu, expected.mean(0), atol=1e-6)
    assert np.allclose(stats.sigma, np.cov(expected.T), atol=1e-6)


@pytest.mark.slow
def test_moments_add_up_and_fcd_of_identical_sets_is_zero():
    parts = [chemnet_moments(SMILES[:5]), chemnet_moments(SMILES[5:])]
    total = ChemNetMoments.zeros()
    for part in parts:
        total.add(part)
    whole = chemnet_statistics(SMILES)
    assert np.allclose(total.statistics().sigma, whole.sigma, atol=1e-9)
    assert frechet_distance(whole, whole) == pytest.approx(0.0, abs=1e-3)
    other = chemnet_statistics(["c1ccccc1", "c1ccncc1", "c1ccoc1", "c1ccsc1", "C1CCCCC1"])
    assert frechet_distance(whole, other) > 1.0
    assert math.isnan(frechet_distance(whole, chemnet_statistics(["CCO"])))
