"""Morgan bits match RDKit's classic API; chunked Tanimoto aggregates match a brute-force computation."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from molgen.chem.fingerprints import morgan_bits, tanimoto_max, tanimoto_power_means

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "C1CCCCC1", "CCN(CC)CC"]


def brute_force(reference: np.ndarray, query: np.ndarray) -> np.ndarray:
    sims = np.zeros((len(query), len(reference)))
    for i, q in enumerate(query.astype(bool)):
        for j, r in enumerate(reference.astype(bool)):
            union = (q | r).sum()
            sims[i, j] = (q & r).sum() / union if union else 1.0
    return sims


def test_morgan_bits_are_rdkits_radius2_1024_bit_fingerprint():
    mols = [Chem.MolFromSmiles(s) for s in SMILES]
    bits = morgan_bits(mols)
    assert bits.shape == (6, 1024) and bits.dtype == np.uint8
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    for row, mol in zip(bits, mols):
        expected = np.zeros(1024, dtype=np.uint8)
        DataStructs.ConvertToNumpyArray(generator.GetFingerprint(mol), expected)
        assert np.array_equal(row, expected)


def test_tanimoto_max_and_power_means_match_brute_force_across_chunks():
    rng = np.random.default_rng(0)
    reference = (rng.random((23, 64)) < 0.2).astype(np.uint8)
    query = (rng.random((17, 64)) < 0.2).astype(np.uint8)
    query[0] = 0
    reference[3] = 0  # two empty fingerprints: Tanimoto 1 (MOSES)
    sims = brute_force(reference, query)
    assert np.allclose(tanimoto_max(reference, query, chunk_size=5), sims.max(1))
    means = tanimoto_power_means(reference, query, powers=(1, 2), chunk_size=4)
    assert np.allclose(means[0], sims.mean(1))
    assert np.allclose(means[1], np.sqrt((sims**2).mean(1)))


def test_counts_above_bfloat16_range_stay_exact():
    dense = np.ones((2, 600), dtype=np.uint8)  # 600 shared bits: beyond bfloat16's exact integers
    other = dense.copy()
    other[1, :299] = 0
    assert np.allclose(tanimoto_max(dense, other), [1.0, 301 / 600])  # 301 is not a bfloat16 integer
    assert tanimoto_power_means(dense[:1], other[1:])[0, 0] == pytest.approx(301 / 600)


def test_mismatched_or_empty_inputs_are_rejected():
    with pytest.raises(ValueError, match="alike"):
        tanimoto_max(np.zeros((2, 8), np.uint8), np.zeros((2, 16), np.uint8))
    with pytest.raises(ValueError, match="at least one"):
        tanimoto_max(np.zeros((0, 8), np.uint8), np.zeros((2, 8), np.uint8))


def test_a_set_against_itself_uses_the_symmetric_half_with_the_same_result():
    rng = np.random.default_rng(1)
    bits = (rng.random((29, 48)) < 0.25).astype(np.uint8)
    bits[5] = 0
    sims = brute_force(bits, bits)
    means = tanimoto_power_means(bits, bits, powers=(1, 2), chunk_size=8)  # same object: symmetric path
    assert np.allclose(means[0], sims.mean(1))
    assert np.allclose(means[1], np.sqrt((sims**2).mean(1)))
    assert np.allclose(means, tanimoto_power_means(bits, bits.copy(), powers=(1, 2), chunk_size=8))
