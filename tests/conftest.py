"""Shared fixtures: tiny molecule tables made here (never copied from the data mirror)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

# Drug-like and edge-case molecules: salts, isotopes, stereo, a single atom, a macrocycle.
MOLECULES = [
    "CCO",
    "CC(=O)O",
    "c1ccccc1",
    "c1ccccc1O",
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "CC(=O)Oc1ccccc1C(=O)O",
    "C1CCCCC1",
    "c1ccc2ccccc2c1",
    "CCN(CC)CC",
    "O=C(O)c1ccccc1",
    "Clc1ccccc1",
    "CCOC(=O)C",
    "N[C@@H](C)C(=O)O",
    "C/C=C/C",
    "[13CH4]",
    "[Na+].[Cl-]",
    "C",
    "OCC(O)CO",
    "c1ccncc1",
    "CC#N",
    "FC(F)(F)c1ccccc1",
    "CCCCCCCCCC",
    "C1CC1N",
    "O=S(=O)(N)c1ccccc1",
    "COc1ccccc1OC",
    "C1CCCCCCCCCCCCCCCCCCCCCCCCCCCCC1",
    "Brc1ccc(Br)cc1",
    "CC(C)(C)O",
    "NCCN",
    "c1ccc(cc1)-c1ccccc1",
    "CC(=O)N",
    "OC1CCCCC1",
    "c1cc[nH]c1",
    "C=CC=C",
    "CCSCC",
    "OCCOCCO",
    "c1ccsc1",
    "CC(C)C(=O)O",
    "NC(=O)c1ccncc1",
]


def crippen_logp(smiles: str) -> float:
    from rdkit import Chem
    from rdkit.Chem import Crippen

    return float(Crippen.MolLogP(Chem.MolFromSmiles(smiles)))


@pytest.fixture
def regression_csv(tmp_path: Path) -> Path:
    """40 molecules with a learnable target (Crippen logP) and a second target with gaps."""
    frame = pd.DataFrame({"smiles": MOLECULES})
    frame["logp"] = [crippen_logp(s) for s in MOLECULES]
    frame["heavy"] = [None if i % 5 == 0 else float(len(s)) for i, s in enumerate(MOLECULES)]
    path = tmp_path / "tiny.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def classification_csv(tmp_path: Path) -> Path:
    """40 molecules, two binary labels with missing values (multi-label)."""
    frame = pd.DataFrame({"smiles": MOLECULES})
    frame["aromatic"] = [1.0 if "c" in s else 0.0 for s in MOLECULES]
    frame["has_n"] = [None if i % 7 == 0 else (1.0 if "N" in s or "n" in s else 0.0) for i, s in enumerate(MOLECULES)]
    path = tmp_path / "tiny_cls.csv"
    frame.to_csv(path, index=False)
    return path


def mirror_dir() -> Path | None:
    """The public-data mirror ($MOLGEN_DATA_DIR), required in CI, optional locally."""
    value = os.environ.get("MOLGEN_DATA_DIR")
    if value and Path(value).is_dir():
        return Path(value)
    if os.environ.get("CI"):
        raise RuntimeError("CI must set MOLGEN_DATA_DIR to the data mirror")
    return None


@pytest.fixture
def data_mirror() -> Path:
    path = mirror_dir()
    if path is None:
        pytest.skip("MOLGEN_DATA_DIR not set (the public-data mirror); CI sets it")
    return path


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test session gets its own molgen cache (featurized graphs, downloads)."""
    monkeypatch.setenv("MOLGEN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "molgen-cache"))


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """One intra-op thread for tiny models: as fast as two on a quiet machine, and immune to OpenMP spin-waiting
    on a loaded one (the MolGAN overfit went from ~30 s to over 600 s next to busy neighbours with two)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
