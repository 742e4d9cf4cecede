"""Sanity check of `molgen interpret`: a model trained to count nitro groups attributes its predictions to the nitro
atoms, and the top substructure that raises the prediction is (part of) a nitro group."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from molgen.cli.main import main

NITRO = "[N+](=O)[O-]"
SUBSTITUENTS = ["C", "Cl", "O", "N", "OC", "F", NITRO, "C(=O)O", "CC"]


def nitro_molecules(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` distinct substituted benzenes and pyridines; target ``nitro`` = the number of nitro groups (0–4)."""
    from rdkit import Chem

    rng = random.Random(seed)
    pattern = Chem.MolFromSmarts(NITRO)
    found: dict[str, int] = {}
    while len(found) < n:
        ring = "n" if rng.random() < 0.3 else "c"
        atoms = [ring + "1"] + ["c"] * 4 + ["c1"]
        for i in range(1 if ring == "n" else 0, 6):
            if rng.random() < 0.5:
                atoms[i] += f"({rng.choice(SUBSTITUENTS)})"
        mol = Chem.MolFromSmiles("".join(atoms))
        found[Chem.MolToSmiles(mol)] = len(mol.GetSubstructMatches(pattern))
    return pd.DataFrame({"smiles": list(found), "nitro": list(found.values())})


@pytest.fixture(scope="module")
def nitro_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    root = tmp_path_factory.mktemp("nitro")
    frame = nitro_molecules(300)
    frame.to_csv(root / "train.csv", index=False)
    args = ["train", "--data", str(root / "train.csv"), "--target-columns", "nitro", "--model", "dmpnn"]
    args += ["--readout", "sum", "--hidden-dim", "32", "--batch-size", "32", "--max-epochs", "25"]
    assert main([*args, "--featurize-jobs", "1", "--seed", "0", "--output", str(root / "run")]) == 0
    explained = frame.head(60)
    explained.to_csv(root / "explain.csv", index=False)
    return root, explained


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ig", "masking"])
def test_nitro_count_model_attributes_to_nitro_atoms(nitro_run: tuple[Path, pd.DataFrame], method: str):
    from rdkit import Chem

    root, explained = nitro_run
    out = root / method
    assert (
        main(
            ["interpret", "--model", str(root / "run"), "--input", str(root / "explain.csv")]
            + ["--output", str(out), "--method", method]
        )
        == 0
    )
    pattern = Chem.MolFromSmarts(NITRO)
    nitro_atoms = {
        (row, atom)
        for row, smiles in enumerate(explained["smiles"])
        for match in Chem.MolFromSmiles(smiles).GetSubstructMatches(pattern)
        for atom in match
    }
    atoms = pd.read_csv(out / "atoms.csv")
    is_nitro = [(row, atom) in nitro_atoms for row, atom in zip(atoms["row"], atoms["atom_index"])]
    magnitude = atoms["nitro_attribution"].abs().groupby(is_nitro).mean()
    assert magnitude[True] > 2 * magnitude[False], magnitude

    substructures = pd.read_csv(out / "substructures.csv")
    raising = substructures[substructures["direction"] == "raises"]["substructure"].tolist()
    assert "[N+]" in raising[0] and "[O-]" in raising[0], raising[:5]  # the top one is part of a nitro group
    assert any(NITRO in fragment for fragment in raising[:3]), raising[:5]  # a whole one is among the top 3
    assert f"`{raising[0]}`" in (out / "summary.md").read_text()
