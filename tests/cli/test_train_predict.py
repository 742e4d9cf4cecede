"""`molgen train` / `molgen predict` as a user runs them: real processes, real files."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

MOLGEN = str(Path(sys.executable).parent / "molgen")
FAST = ["--hidden-dim", "32", "--max-epochs", "3", "--batch-size", "16", "--featurize-jobs", "1"]


def molgen(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run([MOLGEN, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"molgen {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def trained_run(regression_csv: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    molgen(
        "train",
        "--data",
        str(regression_csv),
        "--smiles-column",
        "smiles",
        "--target-columns",
        "logp",
        "heavy",
        "--model",
        "dmpnn",
        "--split",
        "random",
        "--seed",
        "0",
        "--ensemble-size",
        "2",
        "--output",
        str(out),
        *FAST,
    )
    return out


@pytest.mark.slow
def test_train_writes_the_run_folder(trained_run: Path):
    for name in (
        "config.yaml",
        "splits.json",
        "metrics.json",
        "checkpoints",
        "model/model.safetensors",
        "model/model.yaml",
        "model/README.md",
    ):
        assert (trained_run / name).exists(), name
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert {"val", "test"} <= set(metrics)
    assert {"rmse", "mae", "r2", "rmse_std"} <= set(metrics["test"])
    splits = json.loads((trained_run / "splits.json").read_text())
    fold = splits["folds"][0]
    assert sorted(fold["train"] + fold["val"] + fold["test"]) == list(range(40))
    config = yaml.safe_load((trained_run / "config.yaml").read_text())
    assert config["model"]["name"] == "dmpnn" and config["data"]["target_columns"] == ["logp", "heavy"]
    card = (trained_run / "model" / "README.md").read_text()
    assert "logp" in card and "rmse" in card
    assert (trained_run / "checkpoints" / "fold_0" / "member_1" / "best.ckpt").is_file()


def test_predict_one_row_per_input_with_invalid_rows(trained_run: Path, tmp_path: Path):
    inputs = pd.DataFrame({"smiles": ["CCO", "not a smiles", "c1ccccc1", "", "C1CC", "[Na+].[Cl-]"], "id": range(6)})
    inputs.to_csv(tmp_path / "in.csv", index=False)
    result = molgen(
        "predict",
        "--model",
        str(trained_run),
        "--input",
        str(tmp_path / "in.csv"),
        "--output",
        str(tmp_path / "out.csv"),
    )
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False, na_values=[""])
    assert len(out) == 6
    assert list(out["id"]) == list(range(6))
    assert out["valid"].tolist() == [True, False, True, False, False, True]
    assert out.loc[~out["valid"], "logp"].isna().all()
    assert out.loc[out["valid"], ["logp", "logp_std", "heavy", "heavy_std"]].notna().all().all()
    assert "3 invalid" in result.stdout and "in.csv line 3" in result.stderr
    # bfloat16 inference: the same rows, predictions within bf16's ~3 significant digits of float32
    molgen("predict", "--model", str(trained_run), "--input", str(tmp_path / "in.csv"), "--output",
           str(tmp_path / "bf16.csv"), "--precision", "bf16-mixed")  # fmt: skip
    bf16 = pd.read_csv(tmp_path / "bf16.csv", keep_default_na=False, na_values=[""])
    assert bf16["valid"].tolist() == out["valid"].tolist()
    for column in ("logp", "heavy"):
        fp32, low = out.loc[out["valid"], column], bf16.loc[bf16["valid"], column]
        assert (fp32 - low).abs().max() <= 0.02 * fp32.abs().max() + 1e-3


@pytest.mark.slow
def test_config_file_with_flag_override(trained_run: Path, tmp_path: Path):
    out = tmp_path / "again"
    molgen(
        "train",
        "--config",
        str(trained_run / "config.yaml"),
        "--max-epochs",
        "1",
        "--ensemble-size",
        "1",
        "--output",
        str(out),
        "--set",
        "optim.weight_decay=1e-5",
    )
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["trainer"]["max_epochs"] == 1
    assert config["optim"]["weight_decay"] == 1e-5
    assert config["model"]["hidden_dim"] == 32  # kept from the file


@pytest.mark.slow
def test_invalid_training_smiles_error_names_rows_and_skip_counts(regression_csv: Path, tmp_path: Path):
    frame = pd.read_csv(regression_csv)
    frame.loc[3, "smiles"] = "C1CC"
    frame.loc[7, "smiles"] = "N(C)(C)(C)(C)C"
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    base = ["train", "--data", str(bad), "--target-columns", "logp", *FAST]
    failed = molgen(*base, "--output", str(tmp_path / "r1"), check=False)
    assert failed.returncode == 2
    assert "2 invalid molecule(s)" in failed.stderr
    assert "line 5" in failed.stderr and "line 9" in failed.stderr and "valence" in failed.stderr.lower()
    assert "--on-invalid skip" in failed.stderr
    assert "Traceback" not in failed.stderr
    skipped = molgen(*base, "--on-invalid", "skip", "--output", str(tmp_path / "r2"))
    assert "skipped 2 invalid" in skipped.stdout
    assert json.loads((tmp_path / "r2" / "splits.json").read_text())["invalid_rows"] == [3, 7]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--target-columns", "nope"], "available columns: ['smiles', 'logp', 'heavy']"),
        (["--model", "transformer9"], "invalid choice: 'transformer9' (choose from 'dmpnn', 'gin'"),
        (["--split", "temporal"], "invalid choice: 'temporal' (choose from 'random', 'scaffold'"),
        (
            ["--set", "model.name=transformer9"],
            "model.name must be one of dmpnn, gin, gcn, gat, attentivefp, fpmlp, cnn",
        ),
        (["--metrics", "auc"], "valid names: mae, mse, pearson, r2, rmse, spearman"),
        (["--set", "trainer.max_epoch=3"], "unknown config key 'trainer.max_epoch'; valid keys: accelerator"),
    ],
)
def test_bad_names_list_valid_ones(regression_csv: Path, tmp_path: Path, flags, expected):
    args = ["train", "--data", str(regression_csv), "--target-columns", "logp", *FAST, "--output", str(tmp_path / "r")]
    result = molgen(*args, *flags, check=False)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_unknown_dataset_lists_catalog(tmp_path: Path):
    result = molgen("train", "--data", "esoll", check=False)
    assert result.returncode == 2 and "esol" in result.stderr and "path" in result.stderr


@pytest.mark.slow
def test_truncated_model_file_is_refused(trained_run: Path, tmp_path: Path):
    weights = trained_run / "model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    (tmp_path / "in.csv").write_text("smiles\nCCO\n")
    result = molgen(
        "predict",
        "--model",
        str(trained_run),
        "--input",
        str(tmp_path / "in.csv"),
        "--output",
        str(tmp_path / "out.csv"),
        check=False,
    )
    assert result.returncode == 2
    assert "does not match its checksum" in result.stderr and "Traceback" not in result.stderr


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.slow
@pytest.mark.parametrize("where", ["weights", "file"])
def test_pickled_checkpoint_is_refused_without_running_it(trained_run: Path, tmp_path: Path, where: str):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"state_dict": _Exploit(marker)})
    target = trained_run / "model" / "model.safetensors" if where == "weights" else tmp_path / "evil.ckpt"
    target.write_bytes(payload)
    (tmp_path / "in.csv").write_text("smiles\nCCO\n")
    model_arg = str(trained_run) if where == "weights" else str(target)
    result = molgen(
        "predict",
        "--model",
        model_arg,
        "--input",
        str(tmp_path / "in.csv"),
        "--output",
        str(tmp_path / "out.csv"),
        check=False,
    )
    assert result.returncode == 2
    assert "never unpickles" in result.stderr
    assert not marker.exists()


@pytest.mark.slow
def test_classification_kfold_reports_mean_and_std(classification_csv: Path, tmp_path: Path):
    out = tmp_path / "cv"
    result = molgen(
        "train",
        "--data",
        str(classification_csv),
        "--target-columns",
        "aromatic",
        "has_n",
        "--task-type",
        "multilabel",
        "--split",
        "scaffold",
        "--n-folds",
        "3",
        *FAST,
        "--output",
        str(out),
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"roc_auc", "roc_auc_std", "pr_auc", "accuracy", "f1"} <= set(metrics["test"])
    assert len(json.loads((out / "splits.json").read_text())["folds"]) == 3
    assert "test roc_auc" in result.stdout


@pytest.mark.slow
def test_resume_continues_from_last_checkpoint(regression_csv: Path, tmp_path: Path):
    out = tmp_path / "resumable"
    args = [
        "train",
        "--data",
        str(regression_csv),
        "--target-columns",
        "logp",
        "--hidden-dim",
        "16",
        "--featurize-jobs",
        "1",
        "--patience",
        "0",
        "--output",
        str(out),
    ]
    nothing = molgen(*args, "--max-epochs", "2", "--resume", check=False)
    assert nothing.returncode == 2 and "no checkpoints/ to resume from" in nothing.stderr
    molgen(*args, "--max-epochs", "2")
    resumed = molgen(*args, "--max-epochs", "4", "--resume")
    assert f"resuming from {out / 'checkpoints' / 'last.ckpt'}" in resumed.stderr
    logged = pd.read_csv(out / "logs" / "metrics.csv")
    trained_epochs = logged.loc[logged["train/loss"].notna(), "epoch"].astype(int).tolist()
    assert max(trained_epochs) == 3  # epochs 2 and 3 were trained after resuming
    assert sorted(trained_epochs)[-2:] == [2, 3]


def test_datasets_list_and_info():
    listing = molgen("datasets", "list").stdout
    for name in (
        "esol",
        "freesolv",
        "lipophilicity",
        "bbbp",
        "bace",
        "clintox",
        "sider",
        "tox21",
        "hiv",
        "muv",
        "toxcast",
        "qm9",
    ):
        assert name in listing
    info = yaml.safe_load(molgen("datasets", "info", "bbbp").stdout)
    assert info["task_type"] == "binary" and info["default_split"] == "scaffold"
    assert molgen("datasets", "info", "nope", check=False).returncode == 2


def test_help_runs():
    for command in ("train", "predict", "datasets"):
        assert "usage" in molgen(command, "--help").stdout
