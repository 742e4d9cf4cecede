"""Shared by the screening tests: tiny trained models and small libraries in every format."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import MOLECULES, crippen_logp

INVALID = {7: "not a smiles", 30: "", 61: "C1CC", 95: "N(C)(C)(C)(C)C"}
TRAIN = [
    "--target-columns",
    "logp",
    "--hidden-dim",
    "16",
    "--max-epochs",
    "2",
    "--featurize-jobs",
    "1",
    "--batch-size",
    "16",
    "--patience",
    "0",
]


def library_smiles(n: int = 120) -> list[str]:
    """``n`` SMILES: the shared test molecules repeated, with invalid ones at :data:`INVALID` positions."""
    smiles = [MOLECULES[i % len(MOLECULES)] for i in range(n)]
    for position, bad in INVALID.items():
        if position < n:
            smiles[position] = bad
    return smiles


def library_frame(n: int = 120) -> pd.DataFrame:
    return pd.DataFrame({"smiles": library_smiles(n), "id": [f"mol{i}" for i in range(n)]})


def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two tiny logP models, trained once per test session: an ensemble of 2 and a single model."""
    root = tmp_path_factory.getbasetemp() / "screening-models"
    ensemble, single = root / "ensemble", root / "single"
    if not (root / "done").exists():
        from molgen.cli.main import main

        root.mkdir(parents=True, exist_ok=True)
        data = root / "train.csv"
        pd.DataFrame({"smiles": MOLECULES, "logp": [crippen_logp(s) for s in MOLECULES]}).to_csv(data, index=False)
        for out, extra in ((ensemble, ["--ensemble-size", "2"]), (single, ["--seed", "1"])):
            assert main(["train", "--data", str(data), "--output", str(out), *TRAIN, *extra]) == 0
        (root / "done").touch()
    return ensemble, single


def write_sdf(path: Path, smiles: list[str], ids: list[str]) -> None:
    """An SDF of ``smiles`` (an invalid SMILES becomes a record with an unreadable atom block)."""
    from rdkit import Chem, rdBase

    blocks = []
    for s, name in zip(smiles, ids):
        with rdBase.BlockLogs():
            mol = Chem.MolFromSmiles(s) if s else None
        if mol is None:
            blocks.append(f"{name}\n  broken\n\n  1  0  0  0  0  0  0  0  0  0999 V2000\nnot an atom line\nM  END\n")
        else:
            mol.SetProp("_Name", name)
            blocks.append(Chem.MolToMolBlock(mol))
        blocks[-1] += f">  <ID>\n{name}\n\n$$$$\n"
    text = "".join(blocks)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
