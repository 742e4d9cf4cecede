"""MolGAN and LatentGAN through ``molgen.recipes.fit`` on a dozen small molecules.

A GAN "overfits" in the sense it can: on a tiny set it ends up generating valid molecules from that set
(both GANs collapse onto a few of them, as MolGAN does on QM9 — low uniqueness is the known failure mode).

The data file repeats the molecules so that each epoch makes several updates.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from rdkit import Chem

from molgen.config import RunConfig
from molgen.families.generation.family import load_generator
from molgen.recipes import fit

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# QM9-like molecules: ≤ 9 heavy atoms of C, N, O, F.
MOLECULES = [
    "CCO",
    "CC(=O)O",
    "c1ccoc1",
    "CC#N",
    "OCC(O)CO",
    "CN(C)C",
    "C1CC1O",
    "NC(=O)N",
    "CC(C)=O",
    "FC(F)F",
    "c1cc[nH]c1",
    "C#CCO",
]
REPEATS = 40


def _canonical(smiles: str) -> str | None:
    mol = Chem.MolFromSmiles(smiles) if smiles else None
    return None if mol is None else Chem.MolToSmiles(mol)


KNOWN = {_canonical(s) for s in MOLECULES}


def _data(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.smi"
    path.write_text("\n".join(MOLECULES * REPEATS) + "\n")
    return path


def _config(data: Path, out: Path, model: str, **values) -> RunConfig:
    base = {
        "data.name": str(data),
        "model.name": model,
        "data.batch_size": 32,
        "model.val_fraction": 0.1,
        "model.sample_size": 200,
        "trainer.patience": 0,
        "trainer.accelerator": "cpu",
        "trainer.progress_bar": False,
        "output": str(out),
    }
    if model in ("molgan", "latentgan"):  # GANs sample at each validation; the VAE has no such key
        base["model.val_sample_size"] = 128
    return RunConfig().with_values({**base, **values})


@pytest.mark.slow
def test_molgan_generates_valid_training_molecules(tmp_path: Path) -> None:
    cfg = _config(
        _data(tmp_path),
        tmp_path / "molgan",
        "molgan",
        **{"model.hidden_dim": 128, "model.depth": 2, "optim.lr": 1e-3, "model.n_critic": 5, "trainer.max_epochs": 150},
    )
    result = fit(cfg)
    assert (
        result.details["n_train_graphs"] == round(len(MOLECULES) * REPEATS * 0.9) and result.details["n_skipped"] == 0
    )
    assert result.metrics["test"]["valid"] > 0.5
    assert {"validity", "unique", "novelty", "connected", "valid_unique", "wasserstein"} <= set(result.metrics["val"])
    generator = load_generator(result.run_dir)
    samples = [_canonical(s) for s in generator.sample(200, seed=1)]
    assert sum(s in KNOWN for s in samples) / len(samples) >= 0.2
    assert generator.sample(30, seed=4) == generator.sample(30, seed=4, batch_size=7)
    spec = yaml.safe_load((result.run_dir / "model" / "model.yaml").read_text())
    assert spec["generator"] == "molgan" and spec["sizes"]["generator_dims"] == [64, 128]


@pytest.mark.slow
def test_latentgan_on_a_tiny_vae_generates_valid_molecules_and_stands_alone(tmp_path: Path) -> None:
    data = _data(tmp_path)
    vae = fit(
        _config(
            data,
            tmp_path / "vae",
            "vae",
            **{
                "model.hidden_dim": 64,
                "model.depth": 1,
                "optim.lr": 0.01,
                "optim.scheduler": "constant",
                "trainer.max_epochs": 30,
                "model.embedding_dim": 16,
                "model.latent_dim": 8,
                "model.encoder_hidden_dim": 32,
                "model.kl_weight_end": 0.001,
                "model.kl_anneal_epochs": 50,
                "model.sample_size": 0,
            },
        )
    )
    result = fit(
        _config(
            data,
            tmp_path / "latentgan",
            "latentgan",
            **{
                "model.hidden_dim": 64,
                "model.depth": 2,
                "optim.lr": 1e-3,
                "model.n_critic": 2,
                "trainer.max_epochs": 20,
                "model.autoencoder": str(vae.run_dir),
            },
        )
    )
    assert result.metrics["test"]["valid"] > 0.5
    generator = load_generator(result.run_dir)
    samples = generator.sample(100, seed=1)
    assert sum(_canonical(s) in KNOWN for s in samples) / len(samples) >= 0.5
    # the exported folder carries its autoencoder: it samples the same after the VAE run is gone
    moved = tmp_path / "elsewhere"
    shutil.copytree(result.run_dir / "model", moved)
    shutil.rmtree(vae.run_dir)
    shutil.rmtree(result.run_dir)
    assert load_generator(moved).sample(100, seed=1) == samples


def test_latentgan_without_autoencoder_says_what_to_do(tmp_path: Path) -> None:
    cfg = _config(_data(tmp_path), tmp_path / "lg", "latentgan", **{"trainer.max_epochs": 1})
    with pytest.raises(ValueError, match="model.autoencoder.*vae_smiles_moses.yaml"):
        fit(cfg)
    with pytest.raises(FileNotFoundError, match="not a trained molgen model"):
        fit(cfg.with_values({"model.autoencoder": str(tmp_path)}))


def test_qm9_round_trips_through_dense_graphs(data_mirror: Path) -> None:
    import pandas as pd

    from molgen.chem.featurize.dense_graphs import DenseGraphSpec, decode_graphs, encode_smiles

    smiles = pd.read_csv(data_mirror / "moleculenet" / "qm9.csv.gz", usecols=["smiles"], nrows=5000)["smiles"].tolist()
    spec = DenseGraphSpec()
    graphs = encode_smiles(smiles, spec)
    assert all("charged" in s.reason for s in graphs.skipped) and len(graphs.skipped) < 0.01 * len(smiles)
    assert decode_graphs(graphs.atoms, graphs.bonds, spec) == graphs.smiles
