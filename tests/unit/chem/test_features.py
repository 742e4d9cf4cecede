"""Atom/bond features equal an independent per-atom implementation of Chemprop v2's definitions."""

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem.rdchem import BondStereo, BondType, HybridizationType

from molgen.chem.featurize.atom_features import ATOM_FEATURE_PRESETS, BOND_FEATURE_DIM
from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles

H = HybridizationType
# Chemprop v2 (chemprop/featurizers/atom.py, bond.py): choices per block, unknown slot last.
PRESET_CHOICES = {
    "v2": (list(range(1, 37)) + [53], [H.S, H.SP, H.SP2, H.SP2D, H.SP3, H.SP3D, H.SP3D2]),
    "v1": (list(range(1, 101)), [H.SP, H.SP2, H.SP3, H.SP3D, H.SP3D2]),
    "organic": ([1, 5, 6, 7, 8, 9, 14, 15, 16, 17, 35, 53], [H.S, H.SP, H.SP2, H.SP3]),
}
BOND_TYPES = [BondType.SINGLE, BondType.DOUBLE, BondType.TRIPLE, BondType.AROMATIC]
STEREOS = [
    BondStereo.STEREONONE,
    BondStereo.STEREOANY,
    BondStereo.STEREOZ,
    BondStereo.STEREOE,
    BondStereo.STEREOCIS,
    BondStereo.STEREOTRANS,
]

MOLECULES = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "N[C@@H](C)C(=O)[O-]",
    "C/C=C/C",
    "[13CH4]",
    "[2H]C",
    "[Na+].[Cl-]",
    "C",
    "[O-][n+]1ccccc1",
    "O=S(=O)(O)c1ccc(P(=O)(O)O)cc1",
    "C#N",
    "*c1ccccc1",  # dummy atom: decoded by the API fallback
    "[Fe+2].[O-]C(=O)C",
    "[NH3]->[Pt+2]",  # dative bond: no bond-type bit, as in Chemprop
    "C1CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC1",
    "[Xe]",  # outside the v2 element list: unknown slot
    "[CH2-2]",  # charge -2 has a slot, -3 would be unknown
    "[N+3]",
    "FC(F)(F)C(F)(F)C(F)(F)[SiH2]C",
]


def one_hot(value, choices):
    vector = [0.0] * (len(choices) + 1)
    vector[choices.index(value) if value in choices else len(choices)] = 1.0
    return vector


def reference_atom(atom, preset):
    atomic_nums, hybridizations = PRESET_CHOICES[preset]
    return (
        one_hot(atom.GetAtomicNum(), atomic_nums)
        + one_hot(atom.GetTotalDegree(), list(range(6)))
        + one_hot(atom.GetFormalCharge(), [-1, -2, 1, 2, 0])
        + one_hot(int(atom.GetChiralTag()), list(range(4)))
        + one_hot(int(atom.GetTotalNumHs()), list(range(5)))
        + one_hot(atom.GetHybridization(), hybridizations)
        + [float(atom.GetIsAromatic()), 0.01 * atom.GetMass()]
    )


def reference_bond(bond):
    bond_type = bond.GetBondType()
    return (
        [0.0]
        + [float(bond_type == choice) for choice in BOND_TYPES]
        + [float(bond.GetIsConjugated()), float(bond.IsInRing())]
        + one_hot(bond.GetStereo(), STEREOS)
    )


@pytest.mark.parametrize("preset", ["v2", "v1", "organic"])
def test_features_match_per_atom_reference(preset):
    graphs = featurize_smiles(MOLECULES, FeaturizerSpec(atom_features=preset)).graphs
    assert len(graphs) == len(MOLECULES)
    for i, smiles in enumerate(MOLECULES):
        mol = Chem.MolFromSmiles(smiles)
        expected_atoms = np.array([reference_atom(a, preset) for a in mol.GetAtoms()], np.float32)
        atoms = graphs.atom_features[graphs.atom_ptr[i] : graphs.atom_ptr[i + 1]]
        np.testing.assert_array_equal(atoms, expected_atoms, err_msg=smiles)
        bonds = graphs.bond_features[graphs.edge_ptr[i] : graphs.edge_ptr[i + 1]]
        expected_bonds = np.array([reference_bond(b) for b in mol.GetBonds()], np.float32)
        np.testing.assert_array_equal(bonds[0::2], expected_bonds.reshape(-1, BOND_FEATURE_DIM))
        np.testing.assert_array_equal(bonds[1::2], bonds[0::2])
        edges = graphs.edge_index[:, graphs.edge_ptr[i] : graphs.edge_ptr[i + 1]]
        ends = [(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()]
        assert [tuple(pair) for pair in edges.T[0::2]] == ends, smiles


@pytest.mark.parametrize(("preset", "dim"), [("v2", 72), ("v1", 133), ("organic", 44)])
def test_dims_match_chemprop(preset, dim):
    spec = FeaturizerSpec(atom_features=preset)
    assert spec.atom_dim == ATOM_FEATURE_PRESETS[preset].dim == dim
    assert spec.bond_dim == 14 and spec.mol_feature_dim == 0
    graphs = featurize_smiles(["CCO"], spec).graphs
    assert graphs.atom_features.shape == (3, dim)
    assert graphs.bond_features.shape == (4, 14)


def test_unknown_slots_are_used():
    graphs = featurize_smiles(["[Xe]", "[N+3]"]).graphs
    xe, nitrogen = graphs.atom_features
    assert xe[37] == 1.0  # v2 atomic-number block: 37 known elements, then unknown
    assert nitrogen[38 + 7 + 5] == 1.0  # formal charge +3 -> unknown charge slot
