"""``--model fpmlp``: Morgan count fingerprints → MLP, through the real Lightning core and the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from tests.cli.test_train_predict import molgen
from tests.conftest import MOLECULES, crippen_logp

from molgen.chem.featurize.graphs import FeaturizerSpec
from molgen.chem.fingerprints import morgan_counts
from molgen.config import OptimConfig, TrainerConfig, model_config
from molgen.data.splits import Split
from molgen.families.property import build_predictor
from molgen.training.batches import FeatureCollate
from molgen.training.datamodules import SplitDataModule
from molgen.training.modules import SupervisedModule
from molgen.training.tasks import build_task
from molgen.training.trainer import build_trainer, run, seed_everything


def test_morgan_counts_are_counts_not_bits():
    counts = morgan_counts(["CCCCCC", "c1ccccc1"], n_bits=2048)
    assert counts.shape == (2, 2048) and counts.dtype == np.float32
    assert counts[0].max() >= 2  # four CH2 environments fold onto one count
    assert counts[1].sum() == 18  # benzene: one environment per atom (6) and radius (0, 1, 2)


def test_fpmlp_overfits_a_tiny_batch(tmp_path):
    seed_everything(0)
    targets = np.array([[crippen_logp(s)] for s in MOLECULES], dtype=np.float32)
    split = Split(train=np.arange(30), val=np.arange(30, 35), test=np.arange(35, 40))
    task = build_task("regression", ["logp"], train_targets=targets[split.train])
    predictor = build_predictor(
        model_config({"name": "fpmlp", "hidden_dims": [64], "dropout": 0.0}), FeaturizerSpec(), task
    )
    collate = FeatureCollate(morgan_counts(MOLECULES), targets)
    module = SupervisedModule(
        predictor.encoder, predictor.head, predictor.task, OptimConfig(lr=1e-2, scheduler="constant")
    )
    trainer = build_trainer(
        TrainerConfig(max_epochs=100, patience=0, accelerator="cpu", devices=1, progress_bar=False),
        tmp_path,
        monitor="val/rmse",
        mode="min",
        enable_checkpointing=False,
    )
    outcome = run(module, SplitDataModule(collate, split, batch_size=10), trainer)
    preds = predictor.predict_rows(collate, split.train)
    rmse = torch.sqrt(((preds - torch.as_tensor(targets[split.train])) ** 2).mean()).item()
    assert rmse < 0.25 * targets[split.train].std(), rmse
    assert set(outcome.test) == {"rmse", "mae", "r2"}


@pytest.mark.slow
def test_fpmlp_cli_train_export_predict(regression_csv: Path, tmp_path: Path):
    out = tmp_path / "run"
    molgen(
        "train", "--data", str(regression_csv), "--target-columns", "logp", "--model", "fpmlp",
        "--hidden-dims", "32", "16", "--max-epochs", "3", "--batch-size", "16", "--featurize-jobs", "1",
        "--output", str(out),
    )  # fmt: skip
    spec = yaml.safe_load((out / "model" / "model.yaml").read_text())
    assert spec["model"]["name"] == "fpmlp" and spec["model"]["hidden_dims"] == [32, 16]
    assert spec["model"]["n_bits"] == 2048 and spec["model"]["radius"] == 2
    assert "fpmlp" in (out / "model" / "README.md").read_text()
    assert "rmse" in json.loads((out / "metrics.json").read_text())["test"]
    query = tmp_path / "query.csv"
    pd.DataFrame({"smiles": ["CCO", "not a smiles", "c1ccccc1O"]}).to_csv(query, index=False)
    preds_path = tmp_path / "preds.csv"
    molgen("predict", "--model", str(out / "model"), "--input", str(query), "--output", str(preds_path))
    preds = pd.read_csv(preds_path)
    assert len(preds) == 3 and preds["valid"].tolist() == [True, False, True]
    assert np.isfinite(preds.loc[preds["valid"], "logp"]).all()
    assert np.isnan(preds.loc[~preds["valid"], "logp"]).all()
