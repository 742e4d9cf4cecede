"""metrics.json's data_summary: counts, invalid reasons and the scaffold overlap of real RDKit scaffolds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tests.conftest import MOLECULES

from molgen.data.splits import Split, make_split, scaffold_of
from molgen.data.summary import MAX_EXAMPLES, data_summary, scaffold_overlap


@dataclass
class Bad:
    index: int
    reason: str


def test_counts_reasons_and_split_sizes():
    invalid = [Bad(i, "SMILES syntax error" if i % 2 else "empty SMILES") for i in range(25)]
    split = Split(np.arange(10), np.arange(10, 12), np.arange(12, 15))
    summary = data_summary(60, invalid, [3, 7], [split])
    assert summary["rows"] == 60 and summary["valid"] == 35 and summary["invalid"] == 25 and summary["unlabelled"] == 2
    assert summary["invalid_reasons"] == {"empty SMILES": 13, "SMILES syntax error": 12}
    assert len(summary["invalid_examples"]) == MAX_EXAMPLES and summary["invalid_examples"][1] == {
        "row": 1,
        "reason": "SMILES syntax error",
    }
    assert summary["split_sizes"] == [{"train": 10, "val": 2, "test": 3}]
    assert "scaffold_overlap" not in summary  # no molecules given


def test_scaffold_split_has_no_overlap_and_a_random_split_of_shared_scaffolds_has_some():
    smiles = [*MOLECULES, "c1ccccc1C", "c1ccccc1CC", "c1ccccc1N", "c1ccccc1Cl", "c1ccccc1F", "c1ccccc1Br"]
    scaffold = make_split("scaffold", len(smiles), sizes=(0.8, 0.1, 0.1), seed=0, smiles=smiles)
    assert scaffold_overlap(smiles, scaffold) == {"val": 0, "test": 0}
    benzenes = np.array([i for i, s in enumerate(smiles) if scaffold_of(s) == "c1ccccc1"])
    assert len(benzenes) >= 4
    shared = Split(benzenes[:2], benzenes[2:3], benzenes[3:])
    assert scaffold_overlap(smiles, shared) == {"val": 1, "test": len(benzenes) - 3}
    assert data_summary(len(smiles), [], [], [scaffold, shared], smiles)["scaffold_overlap"] == [
        {"val": 0, "test": 0},
        {"val": 1, "test": len(benzenes) - 3},
    ]
