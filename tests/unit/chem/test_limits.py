"""The heavy-atom cap (``data.max_atoms``): counted from the SMILES text, before RDKit parses it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from rdkit import Chem
from tests.conftest import MOLECULES

from molgen.chem.featurize.graphs import featurize_smiles
from molgen.chem.featurize.limits import count_heavy_atoms, over_cap

FORMAT1_MODEL = Path(__file__).resolve().parents[2] / "fixtures" / "models_format1" / "property"


@pytest.mark.parametrize(
    "smiles", [*MOLECULES, "[2H]C([2H])([2H])O", "[H][H]", "[Hg+2].[Cl-].[Cl-]", "C%10CCCC%10", "[*]CC", "BrCCl"]
)
def test_heavy_atoms_counted_from_the_text_match_rdkit(smiles: str):
    mol = Chem.MolFromSmiles(smiles)
    heavy = sum(atom.GetAtomicNum() != 1 for atom in mol.GetAtoms())
    assert count_heavy_atoms(smiles) == heavy


def test_over_cap_gives_the_reason():
    assert over_cap("C" * 501, 500) == "501 heavy atoms > max_atoms 500"
    assert over_cap("C" * 500, 500) is None
    assert over_cap("[H]" * 600, 500) is None  # hydrogens are not heavy atoms
    assert over_cap("C" * 501, None) is None and over_cap(None, 500) is None


def test_featurization_marks_a_molecule_over_the_cap_invalid():
    result = featurize_smiles(["CCO", "C" * 600, "c1ccccc1"], max_atoms=500)
    assert result.valid_index.tolist() == [0, 2]
    (bad,) = result.invalid
    assert bad.index == 1 and bad.reason == "600 heavy atoms > max_atoms 500" and len(bad.smiles) < 50
    assert featurize_smiles(["C" * 600]).invalid[0].reason == "600 heavy atoms > max_atoms 500"  # the default
    assert featurize_smiles(["C" * 600], max_atoms=1000).invalid == []


def test_a_200k_atom_smiles_is_rejected_without_parsing_it():
    # parsing it would take minutes (20k atoms already take ~6 s); counting takes milliseconds
    result = featurize_smiles(["CC(C)" * 66_667, "CCO"])
    assert result.valid_index.tolist() == [1]
    assert result.invalid[0].reason == "200001 heavy atoms > max_atoms 500"


def test_prediction_reports_the_cap_as_an_invalid_row():
    from molgen.analysis.prediction import load_model, predict_frame

    out = predict_frame(load_model(FORMAT1_MODEL), pd.DataFrame({"smiles": ["CCO", "C" * 501]}))
    assert out["valid"].tolist() == [True, False]
    assert out["invalid_reason"].iloc[1].startswith("501 heavy atoms > max_atoms 500")


def test_training_data_applies_data_max_atoms(regression_csv: Path):
    from molgen.config import RunConfig
    from molgen.families.property import load_data, resolve_config

    values = {"data.name": str(regression_csv), "data.target_columns": ["logp"], "data.max_atoms": 10}
    cfg = RunConfig().with_values({**values, "data.on_invalid": "skip", "data.featurize_jobs": 1, "data.cache": False})
    cfg, spec = resolve_config(cfg)
    data = load_data(cfg, spec)
    reasons = {MOLECULES[bad.index]: bad.reason for bad in data.invalid}
    assert reasons["C1CCCCCCCCCCCCCCCCCCCCCCCCCCCCC1"] == "30 heavy atoms > max_atoms 10"
    assert all(count_heavy_atoms(MOLECULES[i]) <= 10 for i in data.valid_index)
    assert len(data.invalid) == sum(count_heavy_atoms(s) > 10 for s in MOLECULES)
