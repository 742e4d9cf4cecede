"""Filters: rule of five with one allowed violation, PAINS/Brenk catalogs, clear errors for unknown names."""

from __future__ import annotations

import pytest
from rdkit import Chem

from molgen.registry import UnknownNameError
from molgen.screening.filters import get_filters, parse_filter_names

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
RHODANINE = "O=C1C(=Cc2ccccc2)SC(=S)N1"  # a PAINS ene_rhod_A
# MW > 500 and logP > 5: two violations.
GREASY = "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCc1ccccc1"


def check(name: str, smiles: str) -> str | None:
    (check_fn,) = get_filters([name])
    return check_fn(Chem.MolFromSmiles(smiles))


def test_lipinski_allows_one_violation_and_names_the_violations():
    assert check("lipinski", ASPIRIN) is None
    assert check("lipinski", "CCCCCCCCCCCCCCCCCCCCCCC") is None  # logP > 5 only: one violation
    reason = check("lipinski", GREASY)
    assert reason.startswith("2 violations") and "MW" in reason and "logP" in reason


def test_pains_brenk_and_veber():
    assert check("pains", RHODANINE) == "ene_rhod_A(235)"
    assert check("pains", ASPIRIN) is None
    assert check("brenk", RHODANINE) is not None  # thiocarbonyl, Michael acceptor
    assert check("veber", ASPIRIN) is None and "rotatable" in check("veber", GREASY)


def test_names_are_parsed_validated_and_deduplicated():
    assert parse_filter_names("lipinski, PAINS,lipinski") == ("lipinski", "pains")
    assert parse_filter_names(None) == () and parse_filter_names("") == ()
    with pytest.raises(UnknownNameError, match="unknown filter 'ro5'; valid names: brenk, lipinski, pains, veber"):
        parse_filter_names("lipinski,ro5")
