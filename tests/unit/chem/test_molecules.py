"""Validity decisions of molgen.chem.molecules (real RDKit, no mocks)."""

import math

import numpy as np
import pytest
from rdkit import Chem

from molgen.chem.molecules import InvalidMolecule, iter_molecules, parse_many, parse_smiles

VALID = [
    "CCO",
    "C",  # single atom
    "[Na+].[Cl-]",  # salt: two fragments, kept
    "[13CH4]",  # isotope
    "[2H]C",  # explicit deuterium stays an atom
    "C/C=C/C",  # double-bond stereo
    "N[C@@H](C)C(=O)O",  # tetrahedral stereo
    "C1CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC1",  # 34-membered ring
    "  CCO  ",  # surrounding whitespace is ignored
]


@pytest.mark.parametrize("smiles", VALID)
def test_valid_molecules_parse_and_are_kept_as_given(smiles):
    mol, reason = parse_smiles(smiles)
    assert reason is None
    assert Chem.MolToSmiles(mol) == Chem.MolToSmiles(Chem.MolFromSmiles(smiles.strip()))


def test_salt_keeps_both_fragments():
    mol, _ = parse_smiles("[Na+].[Cl-]")
    assert mol.GetNumAtoms() == 2
    assert len(Chem.GetMolFrags(mol)) == 2


@pytest.mark.parametrize(
    ("value", "smiles", "reason"),
    [
        ("C1CC", "C1CC", "SMILES syntax error: unclosed ring"),
        ("xyz", "xyz", "SMILES syntax error (around position 1)"),
        ("CC(C", "CC(C", "SMILES syntax error: extra open parentheses (around position 3)"),
        ("", "", "empty SMILES"),
        ("   ", "   ", "empty SMILES"),
        (None, "", "missing value (None)"),
        (float("nan"), "", "missing value (NaN)"),
        (np.float32("nan"), "", "missing value (NaN)"),
        (42, "42", "not a string (int)"),
        (
            "N(C)(C)(C)(C)C",
            "N(C)(C)(C)(C)C",
            "sanitization failed: Explicit valence for atom # 0 N, 5, is greater than permitted",
        ),
        ("c1cccc1", "c1cccc1", "sanitization failed: Can't kekulize mol.  Unkekulized atoms: 0 1 2 3 4"),
    ],
)
def test_invalid_inputs_have_a_reason(value, smiles, reason):
    mols, invalid = parse_many([value])
    assert mols == [None]
    assert invalid == [InvalidMolecule(index=0, smiles=smiles, reason=reason)]
    assert parse_smiles(value) == (None, reason)


def test_parse_many_keeps_order_and_indices():
    inputs = ["CCO", None, "xyz", "c1ccccc1", float("nan"), "", "C"]
    mols, invalid = parse_many(inputs, start_index=100)
    assert [mol is not None for mol in mols] == [True, False, False, True, False, False, True]
    assert [record.index for record in invalid] == [101, 102, 104, 105]
    assert Chem.MolToSmiles(mols[3]) == "c1ccccc1"


def test_iter_molecules_streams_in_order():
    items = list(iter_molecules(["C", "xyz", "O"], start_index=5))
    assert [index for index, _, _ in items] == [5, 6, 7]
    assert items[1][1] is None and items[1][2].reason.startswith("SMILES syntax error")
    assert items[2][1].GetAtomWithIdx(0).GetSymbol() == "O"


def test_rdkit_log_stays_off_the_console(capfd):
    parse_many(["C1CC", "N(C)(C)(C)(C)C", "[H]", "xyz"])  # errors and a warning
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_nan_is_missing_not_the_string_nan():
    assert parse_smiles(math.nan)[1] == "missing value (NaN)"
    assert parse_smiles("nan")[1] is not None  # "nan" is parsed as a SMILES (and fails)
    assert parse_smiles("nan")[1] != "missing value (NaN)"
