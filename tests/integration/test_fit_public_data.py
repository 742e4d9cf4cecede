"""The one fit() on public data from the mirror: catalog → featurize → split → train → export → predict."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from molgen.analysis.prediction import load_model, predict_frame
from molgen.config import RunConfig
from molgen.recipes import fit


@pytest.mark.slow
def test_esol_dmpnn_end_to_end(data_mirror, tmp_path):
    cfg = RunConfig().with_values(
        {
            "data.name": "esol",
            "data.max_rows": 300,
            "model.name": "dmpnn",
            "model.hidden_dim": 64,
            "trainer.max_epochs": 4,
            "trainer.progress_bar": False,
            "output": str(tmp_path / "esol"),
        }
    )
    result = fit(cfg)
    assert result.config.data.smiles_column == "smiles"
    assert result.config.task.monitor == "rmse"
    assert math.isfinite(result.metrics["test"]["rmse"])
    assert result.metrics["test"]["rmse"] < 2.5  # ESOL logS spans ~13 units; an untrained model is far worse
    model = load_model(result.run_dir)
    out = predict_frame(model, pd.DataFrame({"smiles": ["CCO", "xx", "c1ccccc1"]}), n_jobs=1)
    assert out["valid"].tolist() == [True, False, True]
    assert model.targets == ["measured log solubility in mols per litre"]


@pytest.mark.slow
def test_bace_predefined_split_uses_the_model_column(data_mirror, tmp_path):
    cfg = RunConfig().with_values(
        {
            "data.name": "bace",
            "data.split": "predefined",
            "model.name": "gin",
            "model.hidden_dim": 32,
            "trainer.max_epochs": 1,
            "trainer.progress_bar": False,
            "output": str(tmp_path / "bace"),
        }
    )
    result = fit(cfg)
    splits = json.loads((result.run_dir / "splits.json").read_text())
    fold = splits["folds"][0]
    # BACE's "Model" column: Train 203, Valid 45, Test 1,265 rows (MoleculeNet's layout).
    assert (len(fold["train"]), len(fold["val"]), len(fold["test"])) == (203, 45, 1265)
    assert 0.5 <= result.metrics["test"]["roc_auc"] <= 1.0 or math.isnan(result.metrics["test"]["roc_auc"])


@pytest.mark.slow
def test_ddp_two_cpu_processes(regression_csv, tmp_path):
    """DDP with the gloo backend on 2 CPU processes: one run folder, rank 0 writes, metrics gathered."""
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "ddp"
    molgen = str(Path(sys.executable).parent / "molgen")
    result = subprocess.run(
        [
            molgen,
            "train",
            "--data",
            str(regression_csv),
            "--target-columns",
            "logp",
            "--hidden-dim",
            "16",
            "--max-epochs",
            "2",
            "--patience",
            "0",
            "--batch-size",
            "8",
            "--featurize-jobs",
            "1",
            "--accelerator",
            "cpu",
            "--devices",
            "2",
            "--strategy",
            "ddp",
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert math.isfinite(metrics["test"]["rmse"])
    assert (out / "model" / "model.safetensors").is_file()
    # 32 training rows, batch 8: one process takes 4 steps per epoch, each of 2 DDP processes takes 2.
    import torch

    checkpoint = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert checkpoint["global_step"] == 2 * 2
