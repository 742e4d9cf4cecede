"""Dense graph tensors ↔ RDKit molecules (MolGAN's representation)."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

from molgen.chem.featurize.dense_graphs import (
    DenseGraphSpec,
    decode_graphs,
    encode_smiles,
    is_connected,
)

# QM9-like: ≤ 9 heavy atoms of C, N, O, F; aromatic rings with [nH], triple bonds, small rings, stereo.
QM9_LIKE = [
    "C",
    "N",
    "O",
    "CCO",
    "CC#N",
    "C#C",
    "OC=O",
    "FC(F)F",
    "c1cc[nH]c1",
    "c1ccoc1",
    "c1cn[nH]c1",
    "c1ccccc1",
    "Cc1ccccc1O",
    "C1CC1",
    "C1CC2CC12",
    "O=C1CCC1",
    "NC(=O)N",
    "C[C@H](O)C#N",
    "OC1COC1",
    "N#CC1=CC=CO1",
    "CC12CC1(C)O2",
    "O=c1cc[nH]cn1",
    "Cn1ccnc1",
    "FC1=CC=CN=C1",
]


def _identity(smiles: str) -> str:
    return Chem.MolToSmiles(Chem.MolFromSmiles(smiles), isomericSmiles=False)


def test_round_trip_of_qm9_like_molecules() -> None:
    spec = DenseGraphSpec()
    graphs = encode_smiles(QM9_LIKE, spec)
    assert not graphs.skipped
    assert graphs.atoms.shape == (len(QM9_LIKE), 9) and graphs.bonds.shape == (len(QM9_LIKE), 9, 9)
    assert (graphs.bonds == graphs.bonds.transpose(0, 2, 1)).all()
    assert (np.diagonal(graphs.bonds, axis1=1, axis2=2) == 0).all()
    assert (graphs.bonds != 4).all(), "kekulized: no aromatic bonds"
    assert graphs.smiles == [_identity(s) for s in QM9_LIKE]
    assert decode_graphs(graphs.atoms, graphs.bonds, spec) == graphs.smiles


def test_aromatic_channel_without_kekulization() -> None:
    spec = DenseGraphSpec(kekulize=False)
    graphs = encode_smiles(["c1ccccc1", "c1ccoc1", "CCO"], spec)
    assert (graphs.bonds[0] == 4).sum() == 12  # six aromatic bonds, both directions
    assert decode_graphs(graphs.atoms, graphs.bonds, spec) == graphs.smiles


def test_unsupported_molecules_are_reported_with_position_and_skipped() -> None:
    inputs = ["CCO", "CCCCCCCCCC", "CCl", "C[NH3+]", "notasmiles", "[CH3]", "OCC"]
    graphs = encode_smiles(inputs, DenseGraphSpec())
    assert graphs.source_index.tolist() == [0, 6]
    assert graphs.smiles == ["CCO", "CCO"]
    reasons = {s.index: s.reason for s in graphs.skipped}
    assert sorted(reasons) == [1, 2, 3, 4, 5]
    assert "10 heavy atoms" in reasons[1]
    assert "element Cl" in reasons[2]
    assert "charged" in reasons[3]
    assert "syntax" in reasons[4].lower()
    assert "radical" in reasons[5]
    # a skipped molecule leaves no trace in the rows after it
    assert (graphs.atoms[1, 3:] == 0).all()


def test_decoder_reports_invalid_graphs_and_ignores_bonds_to_empty_nodes() -> None:
    spec = DenseGraphSpec(max_atoms=4)
    atoms = np.array([[1, 1, 0, 3], [0, 0, 0, 0], [2, 1, 1, 1], [1, 1, 1, 1]])
    bonds = np.zeros((4, 4, 4), dtype=np.int64)

    def bond(row: int, i: int, j: int, kind: int) -> None:
        bonds[row, i, j] = bonds[row, j, i] = kind

    bond(0, 0, 1, 1)
    bond(0, 1, 3, 2)  # C-C=O, atom 2 empty
    bond(0, 0, 2, 3)  # touches the empty node: ignored
    for j in (1, 2, 3):
        bond(2, 0, j, 2)  # N with three double bonds: valence violation
    bond(3, 0, 1, 1)  # two fragments
    bond(3, 2, 3, 1)
    decoded = decode_graphs(atoms, bonds, spec)
    assert decoded == ["CC=O", "", "", "CC.CC"]
    assert [is_connected(s) for s in decoded] == [True, False, False, False]


def test_decoder_checks_shapes_and_spec_checks_names() -> None:
    with pytest.raises(ValueError, match=r"atoms \[B, N\]"):
        decode_graphs(np.zeros((2, 3)), np.zeros((2, 3, 4)), DenseGraphSpec(max_atoms=3))
    with pytest.raises(ValueError, match="not an element"):
        DenseGraphSpec(atom_types=("C", "Xx"))
    with pytest.raises(ValueError, match="valid names: single"):
        DenseGraphSpec(bond_types=("single", "quadruple"))
    spec = DenseGraphSpec(max_atoms=12, atom_types=("C", "S"))
    assert DenseGraphSpec.from_dict(spec.to_dict()) == spec
    assert (spec.n_atom_types, spec.n_bond_types) == (3, 5)
