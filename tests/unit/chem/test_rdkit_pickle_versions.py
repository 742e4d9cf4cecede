"""Which RDKit versions the pickle fast path (``molgen.chem.featurize.rdkit_pickle``) was checked against.

The decoder reads RDKit's binary mol pickle, whose layout belongs to RDKit, not to molgen. It guards itself
twice: a molecule whose pickle header is not format major version 16 is declined (the per-molecule RDKit API
path takes it), and :func:`fast_path_verified` compares the decoder with the API once per process. These
tests pin both, and check that whichever path this RDKit takes gives the features the API path gives.
"""

import struct

import numpy as np
import pytest
from rdkit import Chem, rdBase

from molgen.chem.featurize import rdkit_pickle
from molgen.chem.featurize.atom_bond_tables import MolTables, extract_tables, fast_path_verified, tables_from_api
from molgen.chem.featurize.graphs import FeaturizerSpec, _encode_graphs

# RDKit releases the decoder was run against (its self-check passed and the unit tests of
# tests/unit/chem/test_atom_bond_tables.py passed), and the pickle format version they write.
VALIDATED_RDKIT_VERSIONS = ("2026.09.1",)
PICKLE_FORMAT = (16, 4, 0)

SMILES = [
    "CCO",
    "c1ccccc1O",
    "CC(=O)Nc1ccc(O)cc1",
    "C[C@H](N)C(=O)O",
    "F/C=C/F",
    "[NH4+].[Cl-]",
    "[13CH4]",
    "O=C1N=C(N)N=C2N1C=CN2",
    "CC1=C(C(=O)OC2CCCC2)C(c2ccccc2[N+](=O)[O-])C(C(=O)OC)=C(C)N1",
]


def _format_version(mol: Chem.Mol) -> tuple[int, int, int]:
    magic, version_tag, major, minor, patch = struct.unpack("<5i", rdkit_pickle.pickle_mol(mol)[:20])
    assert (magic & 0xFFFFFFFF, version_tag) == (0xDEADBEEF, 0)
    return major, minor, patch


def test_decoder_reads_pickle_major_version_16():
    assert PICKLE_FORMAT[0] == rdkit_pickle._SUPPORTED_MAJOR_VERSION


def test_module_pins_the_validated_rdkit_versions():
    assert getattr(rdkit_pickle, "VALIDATED_RDKIT_VERSIONS", None) == VALIDATED_RDKIT_VERSIONS


def test_installed_rdkit_is_validated_or_falls_back():
    mol = Chem.MolFromSmiles("CCO")
    if rdBase.rdkitVersion in VALIDATED_RDKIT_VERSIONS:
        assert _format_version(mol) == PICKLE_FORMAT
        assert fast_path_verified()
    elif _format_version(mol)[0] != PICKLE_FORMAT[0]:
        # another pickle format: every molecule is declined and goes through the API
        _, decoded = rdkit_pickle.tables_from_pickles([rdkit_pickle.pickle_mol(mol)])
        assert not decoded.any()
    # else: an unlisted release with the same format; the self-check decides, and the test below
    # shows both paths give the same features. Add the release to the tuple above once it passes.


def _assert_same_tables(actual: MolTables, expected: MolTables) -> None:
    for name in MolTables.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(actual, name), getattr(expected, name), err_msg=name)


def test_fast_and_per_molecule_paths_give_identical_features():
    mols = [Chem.MolFromSmiles(s) for s in SMILES]
    fast = extract_tables(mols)  # the decoder where verified, the API for what it declines
    exact = extract_tables(mols, use_fast_path=False)
    _assert_same_tables(fast, exact)
    _assert_same_tables(exact, tables_from_api(mols))
    spec = FeaturizerSpec()
    a, b = _encode_graphs(fast, None, spec), _encode_graphs(exact, None, spec)
    for name in ("atom_features", "bond_features", "edge_index", "atom_ptr", "edge_ptr"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.atom_features.shape[0] == sum(m.GetNumAtoms() for m in mols)


def test_decoder_decodes_these_molecules_under_a_validated_rdkit():
    if rdBase.rdkitVersion not in VALIDATED_RDKIT_VERSIONS:
        pytest.skip(f"RDKit {rdBase.rdkitVersion} is not in VALIDATED_RDKIT_VERSIONS")
    _, decoded = rdkit_pickle.tables_from_pickles([rdkit_pickle.pickle_mol(Chem.MolFromSmiles(s)) for s in SMILES])
    assert decoded.all()
