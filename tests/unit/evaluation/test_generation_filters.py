"""MOSES filters: element, charge and ring-size rules, MCF/PAINS SMARTS, and the fingerprint screen."""

from __future__ import annotations

import pytest
from rdkit import Chem
from tests.conftest import MOLECULES

from molgen.evaluation.generation.filters import filter_patterns, matches_any_pattern, passes_filters


@pytest.fixture(autouse=True)
def _needs_mirror(data_mirror):
    """The SMARTS files resolve through the data mirror (or the cache/download)."""


def passes(smiles: str) -> bool:
    return passes_filters(Chem.MolFromSmiles(smiles))


def test_pattern_files_load_with_names():
    patterns = filter_patterns()
    names = [name for name, _ in patterns]
    assert len(patterns) == 502 and names[0] == "MCF1"
    assert any("anil_di_alk" in name for name in names)


@pytest.mark.parametrize(
    ("smiles", "expected"),
    [
        ("CC(=O)Nc1ccc(O)cc1", True),  # paracetamol
        ("CC[NH3+]", False),  # formal charge
        ("O=[N+]([O-])c1ccccc1", False),  # charge-separated nitro
        ("C1CCCCCCC1", False),  # 8-membered ring
        ("CCI", False),  # iodine is not an allowed element
        ("c1ccccc1N=Nc1ccccc1", False),  # azo: PAINS/MCF
        ("C=CC#N", False),  # MCF1: Michael acceptor nitrile
    ],
)
def test_rules(smiles, expected):
    assert passes(smiles) is expected


def test_fingerprint_screen_changes_no_verdict():
    for smiles in [*MOLECULES, "c1ccccc1N=Nc1ccccc1", "C=CC#N", "Oc1ccc(O)cc1", "O=C1C=CC(=O)C=C1"]:
        with_h = Chem.AddHs(Chem.MolFromSmiles(smiles))
        plain = any(with_h.HasSubstructMatch(query) for _, query in filter_patterns())
        assert matches_any_pattern(with_h) is plain, smiles
