"""The applicability-domain kernel: nearest Tanimoto of bit-packed fingerprints, exact against RDKit."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem, DataStructs

from molgen.chem.fingerprints import morgan_packed, pack
from molgen.chem.similarity import ReferenceFingerprints, nearest_tanimoto, popcount

DRUGS = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "CC(=O)Nc1ccc(O)cc1",
    "OC(=O)CCc1ccccc1",
    "c1ccc2c(c1)ccc1ccccc12",
    "CCN(CC)CCOC(=O)c1ccc(N)cc1",
    "COc1ccc2[nH]cc(CCN)c2c1",
    "CC12CCC3c4ccc(O)cc4CCC3C1CCC2O",
    "Clc1ccc(cc1)C(c1ccccc1)N1CCNCC1",
    "CCCCCCCCCCCCCCCC(=O)O",
    "O=C1CCCN1",
    "NC(=O)c1cccnc1",
    "C1CCOC1",
    "CS(=O)(=O)Nc1ccc(cc1)[N+](=O)[O-]",
    "FC(F)(F)c1ccc(Oc2ccccc2)cc1",
]


def rdkit_nearest(query_bits: np.ndarray, reference_bits: np.ndarray) -> np.ndarray:
    def vector(bits: np.ndarray) -> DataStructs.ExplicitBitVect:
        out = DataStructs.ExplicitBitVect(len(bits))
        out.SetBitsFromList(np.flatnonzero(bits).tolist())
        return out

    reference = [vector(row) for row in reference_bits]
    return np.array([max(DataStructs.BulkTanimotoSimilarity(vector(row), reference)) for row in query_bits])


def random_bits(rng: np.random.Generator, n: int, n_bits: int = 2048) -> np.ndarray:
    """Rows of varied density: sparse like Morgan fingerprints, a few dense (> 255 on-bits) and an empty one."""
    density = rng.choice([0.005, 0.02, 0.05, 0.3], size=(n, 1))
    bits = (rng.random((n, n_bits)) < density).astype(np.uint8)
    bits[0] = 0
    return bits


@pytest.mark.parametrize("block_size", [None, 1, 7])
def test_nearest_equals_rdkit_on_random_fingerprints(block_size: int | None) -> None:
    rng = np.random.default_rng(0)
    query, reference = random_bits(rng, 60), random_bits(rng, 45)
    reference[1] = query[5]  # an exact match: similarity 1
    found = nearest_tanimoto(pack(query), pack(reference), block_size=block_size)
    expected = rdkit_nearest(query, reference)
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-12)
    assert found[5] == 1.0 and found[0] == 0.0  # the empty query: 0, as in RDKit
    assert found.dtype == np.float64 and found.shape == (60,)


def test_nearest_equals_rdkit_on_molecules() -> None:
    mols = [Chem.MolFromSmiles(s) for s in DRUGS]
    packed = morgan_packed(mols, radius=2, n_bits=2048)
    rng = np.random.default_rng(1)
    order = rng.permutation(len(mols))
    query, reference = packed[order[:6]], packed[order[6:]]
    expected = rdkit_nearest(np.unpackbits(query, axis=1), np.unpackbits(reference, axis=1))
    found = ReferenceFingerprints(reference).nearest(query)
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-12)
    assert (found < 1).all()  # all different molecules
    np.testing.assert_array_equal(ReferenceFingerprints(packed).nearest(packed), np.ones(len(mols)))


def test_popcount_counts_on_bits() -> None:
    bits = random_bits(np.random.default_rng(2), 20)
    np.testing.assert_array_equal(popcount(pack(bits)), bits.sum(1))
    np.testing.assert_array_equal(popcount(pack(bits[:, :24])), bits[:, :24].sum(1))  # 3 bytes: no uint64 view


def test_shapes_are_checked() -> None:
    reference = ReferenceFingerprints(np.zeros((3, 256), np.uint8))
    with pytest.raises(ValueError, match="query fingerprints must be"):
        reference.nearest(np.zeros((2, 128), np.uint8))
    with pytest.raises(ValueError, match="non-empty"):
        ReferenceFingerprints(np.zeros((0, 256), np.uint8))
