"""Non-ASCII input is an invalid SMILES with a reason, and does not break the parses after it."""

from __future__ import annotations

from molgen.chem.molecules import iter_molecules


def test_non_ascii_smiles_is_invalid_and_later_inputs_still_parse():
    inputs = ["CCO", "C\u00e9\u00e9" * 300, "[Na+]\u00c3(", "c1ccccc1", "C(=O"]
    results = list(iter_molecules(inputs))
    assert [mol is not None for _, mol, _ in results] == [True, False, False, True, False]
    assert results[1][2].reason == results[2][2].reason == "non-ASCII character in SMILES"
    assert "syntax" in results[4][2].reason.lower() or results[4][2].reason
