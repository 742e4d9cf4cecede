"""The fast pickle decoder reproduces RDKit's Python API exactly, and falls back where unsure."""

import numpy as np
import pytest
from rdkit import Chem

from molgen.chem.featurize.atom_bond_tables import (
    FAST_PATH_MIN_MOLECULES,
    MolTables,
    extract_tables,
    fast_path_verified,
    tables_from_api,
    tables_from_blobs,
)
from molgen.chem.featurize.rdkit_pickle import pickle_mol, tables_from_pickles

DIVERSE = [
    "CC1C2CCC(C2)C1CN(CCO)C(=O)c1ccc(Cl)cc1",
    "COc1ccc(-c2cc(=O)c3c(O)c(OC)c(OC)cc3o2)cc1O",
    "CCOC(=O)c1ncn2c1CN(C)C(=O)c1cc(F)ccc1-2",
    "N[C@@H](C)C(=O)[O-]",
    r"F/C=C\Cl",
    "C/C=C/C=C/C",
    "[13CH4]",
    "[2H]C([2H])([2H])O",
    "[CH3]",
    "[CH2]=[CH]",
    "[Na+].[Cl-]",
    "[O-][n+]1ccccc1",
    "c1ccc2[nH]ccc2c1",
    "O=S(=O)(O)c1ccc(P(=O)(O)O)cc1",
    "C#CC#N",
    "[NH4+]",
    "[Fe+2].[O-]C(=O)C",
    "C1CC2CCC1C2",
    "C12C3C4C1C5C2C3C45",  # cubane
    "C1CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC1",
    "[NH3]->[Pt+2]",
    "OC[C@H]1O[C@@H](O)[C@H](O)[C@@H](O)[C@@H]1O",
    "C=C=C",
    "[I-].C[N+](C)(C)C",
    "[Cu]",
    "B1OB(O)OB(O)O1",
    "CC(C)(C)[Si](C)(C)O[Si](C)(C)C",
]
UNDECODED = [
    "*c1ccccc1",  # dummy atom carries a label
    "C" * 300,  # > 255 atoms: int32 indices in the pickle
    "[CH3:1]C",  # atom map number
]


def mols_of(smiles_list):
    return [Chem.MolFromSmiles(smiles) for smiles in smiles_list]


def assert_tables_equal(actual: MolTables, expected: MolTables):
    for name in MolTables.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(actual, name), getattr(expected, name), err_msg=name)


def test_fast_path_is_verified_for_this_rdkit():
    # If this fails after an RDKit upgrade, featurization still works (API path) but ~5x slower.
    assert fast_path_verified()


def test_decoder_matches_api_on_diverse_molecules():
    mols = mols_of(DIVERSE)
    fast, decoded = tables_from_pickles([pickle_mol(mol) for mol in mols])
    assert decoded.all()
    assert_tables_equal(fast, tables_from_api(mols))


def test_decoder_declines_what_it_does_not_understand():
    mols = mols_of(UNDECODED + ["CCO"])
    _, decoded = tables_from_pickles([pickle_mol(mol) for mol in mols])
    assert decoded.tolist() == [False, False, False, True]


@pytest.mark.parametrize("keep_mols", [True, False])
def test_mixed_chunk_falls_back_per_molecule_in_order(keep_mols):
    smiles = ["CCO", UNDECODED[0], "c1ccccc1", UNDECODED[1], "[NH4+]", UNDECODED[2]]
    mols = mols_of(smiles)
    blobs = [pickle_mol(mol) for mol in mols]
    tables = tables_from_blobs(blobs, mols if keep_mols else None)
    assert_tables_equal(tables, tables_from_api(mols))
    assert_tables_equal(extract_tables(mols), tables_from_api(mols))


def test_take_and_concat_select_whole_molecules():
    tables = tables_from_api(mols_of(["CCO", "C", "c1ccccc1"]))
    picked = tables.take(np.array([2, 0]))
    assert picked.atom_counts.tolist() == [6, 3]
    assert_tables_equal(picked, tables_from_api(mols_of(["c1ccccc1", "CCO"])))
    assert_tables_equal(MolTables.concat([picked, MolTables.empty()]), picked)


@pytest.mark.parametrize("n", [1, FAST_PATH_MIN_MOLECULES - 1, FAST_PATH_MIN_MOLECULES])
def test_few_molecules_take_the_api_path_with_the_same_tables(n):
    mols = mols_of(DIVERSE[:n])  # under FAST_PATH_MIN_MOLECULES: the API path, from the blobs alone
    assert_tables_equal(tables_from_blobs([pickle_mol(mol) for mol in mols]), tables_from_api(mols))
