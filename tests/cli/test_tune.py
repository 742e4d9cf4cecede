"""`molgen tune` as a user runs it: one worker, real SQLite study, real files; best_config.yaml retrains."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

MOLGEN = str(Path(sys.executable).parent / "molgen")
SMALL = ["--hidden-dim", "16", "--max-epochs", "4", "--patience", "0", "--featurize-jobs", "1", "--batch-size", "16"]


def molgen(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([MOLGEN, *args], capture_output=True, text=True, env=env, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"molgen {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def write_space(path: Path, params: dict) -> Path:
    path.write_text(yaml.safe_dump({"params": params}))
    return path


@pytest.fixture
def tuned(regression_csv: Path, tmp_path: Path) -> tuple[Path, subprocess.CompletedProcess]:
    space = write_space(
        tmp_path / "space.yaml",
        {
            "optim.lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
            "model.depth": {"type": "int", "low": 1, "high": 3},
        },
    )
    out = tmp_path / "tune"
    result = molgen(
        "tune",
        "--data",
        str(regression_csv),
        "--target-columns",
        "logp",
        "--space",
        str(space),
        "--n-trials",
        "3",
        "--pruner",
        "none",
        "--output",
        str(out),
        *SMALL,
    )
    return out, result


@pytest.mark.slow
def test_tune_writes_outputs_and_best_config_retrains(tuned: tuple[Path, subprocess.CompletedProcess], tmp_path: Path):
    out, result = tuned
    for name in ("study.db", "best_config.yaml", "trials.csv", "optimization_history.png", "param_importances.png"):
        assert (out / name).is_file(), name
    assert (out / "optimization_history.png").read_bytes()[:4] == b"\x89PNG"
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 3 and set(trials["state"]) == {"COMPLETE"}
    assert f"optuna-dashboard sqlite:///{out.resolve() / 'study.db'}" in result.stdout
    assert "molgen train --config" in result.stdout

    for _, row in trials.iterrows():
        run_dir = out / "trials" / f"trial_{row['number']}"
        assert not (run_dir / "model").exists(), "trials skip the export"
        # The objective is the best epoch's validation metric, not the last epoch's.
        logged = pd.read_csv(run_dir / "logs" / "metrics.csv").dropna(subset=["val/rmse"])
        per_epoch = logged["val/rmse"].iloc[:-1]  # the last row re-validates the restored best checkpoint
        assert len(per_epoch) == 4
        assert row["value"] == pytest.approx(per_epoch.min(), rel=1e-5)

    best = trials.loc[trials["value"].idxmin()]
    best_config = yaml.safe_load((out / "best_config.yaml").read_text())
    assert best_config["optim"]["lr"] == pytest.approx(best["params_optim.lr"])
    assert best_config["model"]["depth"] == best["params_model.depth"]
    assert best_config["trainer"]["max_epochs"] == 4 and best_config["model"]["hidden_dim"] == 16  # flags kept

    retrained = tmp_path / "retrained"
    molgen("train", "--config", str(out / "best_config.yaml"), "--output", str(retrained))
    assert (retrained / "model" / "model.safetensors").is_file()
    config = yaml.safe_load((retrained / "config.yaml").read_text())
    assert (
        config["optim"]["lr"] == best_config["optim"]["lr"]
        and config["model"]["depth"] == best_config["model"]["depth"]
    )


def test_tune_rejects_an_unknown_space_key(regression_csv: Path, tmp_path: Path):
    space = write_space(tmp_path / "bad_key.yaml", {"model.deepth": {"type": "int", "low": 1, "high": 3}})
    result = molgen(
        "tune",
        "--data",
        str(regression_csv),
        "--n-trials",
        "2",
        "--output",
        str(tmp_path / "out"),
        "--space",
        str(space),
        check=False,
    )
    assert result.returncode == 2
    assert "unknown config key 'model.deepth'; valid keys: depth" in result.stderr
    assert not (tmp_path / "out").exists(), "nothing is created for an invalid search"


@pytest.mark.slow
def test_tune_a_dna_model_with_the_example_space(tmp_path: Path):
    """The DNA family tunes through the same command: expression run, example space, best config written."""
    from tests.integration.test_expression_overfit import planted

    seqs, counts = planted(60, 40)
    data = tmp_path / "dna.csv"
    pd.DataFrame({"seq": seqs, "motifs": counts[:, 0]}).to_csv(data, index=False)
    space = Path(__file__).parents[2] / "configs" / "hpo" / "expression_cnn.yaml"
    out = tmp_path / "tune"
    molgen(
        "tune",
        "--data",
        str(data),
        "--sequence-column",
        "seq",
        "--target-columns",
        "motifs",
        "--model",
        "cnn",
        "--space",
        str(space),
        "--n-trials",
        "2",
        "--pruner",
        "none",
        "--output",
        str(out),
        "--max-epochs",
        "2",
        "--batch-size",
        "32",
    )
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 2 and set(trials["state"]) == {"COMPLETE"}
    best_config = yaml.safe_load((out / "best_config.yaml").read_text())
    assert best_config["family"] == "expression" and best_config["model"]["name"] == "cnn"
    assert best_config["model"]["readout"] in ("flatten", "mean", "max")
    assert "val/pearson" in pd.read_csv(out / "trials" / "trial_0" / "logs" / "metrics.csv").columns
