"""What `molgen train` reports and keeps about the data it was given: missing targets counted, an empty target
column refused, per-target metrics beside the pooled ones, and the test / out-of-fold predictions. Real
processes on tiny CSVs written here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import MOLECULES, crippen_logp

MOLGEN = str(Path(sys.executable).parent / "molgen")
FAST = ["--hidden-dim", "16", "--max-epochs", "1", "--batch-size", "16"]
FAST += ["--featurize-jobs", "1"]
UNLABELLED = [6, 21]  # data rows whose every target is missing


def molgen(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run([MOLGEN, *args], capture_output=True, text=True, env=env, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"molgen {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def messy_csv(path: Path) -> pd.DataFrame:
    """40 molecules, two targets with empty and ``NA`` cells; rows 6 and 21 have no target at all."""
    frame = pd.DataFrame({"smiles": MOLECULES})
    frame["logp"] = [f"{crippen_logp(s):.3f}" for s in MOLECULES]
    frame["heavy"] = [str(len(s)) for s in MOLECULES]
    frame.loc[[3, 6, 21, 30], "logp"] = ["", "NA", "", "NA"]
    frame.loc[[6, 9, 10, 21, 33], "heavy"] = ["NA", "", "", "", "NA"]
    frame.to_csv(path, index=False)
    return pd.read_csv(path)  # as a user reads it: empty and NA cells are NaN


@pytest.fixture(scope="module")
def messy_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, subprocess.CompletedProcess]:
    tmp = tmp_path_factory.mktemp("messy")
    frame = messy_csv(tmp / "messy.csv")
    out = tmp / "run"
    args = ["--data", str(tmp / "messy.csv"), "--target-columns", "logp", "heavy", "--ensemble-size", "2"]
    result = molgen("train", *args, *FAST, "--output", str(out))
    return out, frame, result


@pytest.mark.slow
def test_missing_targets_are_counted_per_split_and_unlabelled_rows_left_out(messy_run):
    out, frame, result = messy_run
    splits = json.loads((out / "splits.json").read_text())
    fold = splits["folds"][0]
    assert splits["unlabelled_rows"] == UNLABELLED and "no target value" in splits["unlabelled_reason"]
    assert sorted(fold["train"] + fold["val"] + fold["test"]) == sorted(set(range(40)) - set(UNLABELLED))
    missing = json.loads((out / "metrics.json").read_text())["missing_targets"]
    assert missing["rows_without_targets"] == 2
    for part in ("train", "val", "test"):
        expected = {t: int(frame.loc[fold[part], t].isna().sum()) for t in ("logp", "heavy")}
        assert missing[part] == expected, part
    assert sum(missing[p]["logp"] for p in ("train", "val", "test")) == 2  # rows 3 and 30
    assert sum(missing[p]["heavy"] for p in ("train", "val", "test")) == 3  # rows 9, 10, 33
    log = result.stderr
    assert "2 row(s) of" in log and "have no target value" in log and "messy.csv line 8, messy.csv line 23" in log
    assert "missing target values" in log and "heavy" in log


@pytest.mark.slow
def test_two_targets_get_per_target_metrics_and_the_pooled_value(messy_run):
    out, _, result = messy_run
    metrics = json.loads((out / "metrics.json").read_text())
    for section in ("val", "test", "test_ensemble"):
        assert {"rmse", "rmse/logp", "rmse/heavy", "r2/logp", "mae/heavy"} <= set(metrics[section]), section
    test = metrics["test"]
    assert test["rmse"] == pytest.approx((test["rmse/logp"] + test["rmse/heavy"]) / 2)
    assert "rmse/logp_std" in test  # two members
    assert metrics["targets"] == ["logp", "heavy"] and "mean of its per-target values" in metrics["pooled"]
    assert "| rmse (pooled: mean of 2 targets) |" in result.stdout and "| rmse/heavy |" in result.stdout
    assert "test rmse (pooled: mean of 2 targets):" in result.stdout
    assert "rmse/logp" in (out / "model" / "README.md").read_text()


@pytest.mark.slow
def test_test_predictions_are_kept_one_row_per_test_row(messy_run):
    out, frame, _ = messy_run
    test_rows = json.loads((out / "splits.json").read_text())["folds"][0]["test"]
    kept = pd.read_csv(out / "predictions" / "test.csv")
    assert list(kept.columns) == [
        "row",
        "smiles",
        "logp",
        "logp_pred",
        "logp_std",
        "heavy",
        "heavy_pred",
        "heavy_std",
        "train_similarity",
        "in_domain",
    ]
    assert kept["row"].tolist() == test_rows
    assert kept["smiles"].tolist() == frame.loc[test_rows, "smiles"].tolist()
    np.testing.assert_allclose(kept["heavy"], frame.loc[test_rows, "heavy"].to_numpy())  # NaN where missing
    assert kept[["logp_pred", "heavy_pred", "logp_std"]].notna().all().all()


@pytest.mark.slow  # no training, but a process start and featurization
def test_an_empty_target_column_is_refused_before_training(tmp_path: Path):
    frame = messy_csv(tmp_path / "messy.csv")
    frame["pic50"] = np.nan
    frame.to_csv(tmp_path / "empty.csv", index=False, na_rep="NA")
    out = tmp_path / "run"
    args = ["--data", str(tmp_path / "empty.csv"), "--target-columns", "logp", "pic50", "--output", str(out)]
    result = molgen("train", *args, *FAST, check=False)
    assert result.returncode == 2, result.stderr
    assert "empty.csv" in result.stderr and "'pic50' have no value" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


@pytest.mark.slow
def test_kfold_oof_predictions_cover_every_valid_row_once(classification_csv: Path, tmp_path: Path):
    frame = pd.read_csv(classification_csv)
    frame.loc[4, "smiles"] = "C1CC"  # invalid: skipped
    frame.loc[12, ["aromatic", "has_n"]] = np.nan  # unlabelled: left out
    frame.to_csv(tmp_path / "cls.csv", index=False)
    out = tmp_path / "cv"
    args = ["--data", str(tmp_path / "cls.csv"), "--target-columns", "aromatic", "has_n", "--task-type", "multilabel"]
    molgen("train", *args, "--n-folds", "3", "--on-invalid", "skip", *FAST, "--output", str(out))
    oof = pd.read_csv(out / "predictions" / "oof.csv")
    expected = sorted(set(range(40)) - {4, 12})
    assert oof["row"].tolist() == expected  # every valid, labelled row exactly once
    folds = json.loads((out / "splits.json").read_text())["folds"]
    assert all(oof.loc[oof["row"].isin(fold["test"]), "fold"].eq(k).all() for k, fold in enumerate(folds))
    assert (
        oof["aromatic_pred"].between(0, 1).all()
        and oof["aromatic"].tolist() == frame.loc[expected, "aromatic"].tolist()
    )
    assert sorted(pd.read_csv(out / "predictions" / "test.csv")["row"]) == expected
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"roc_auc", "roc_auc/aromatic", "roc_auc/has_n", "roc_auc/has_n_std"} <= set(metrics["test"])
    assert len(metrics["missing_targets"]["folds"]) == 3 and metrics["missing_targets"]["rows_without_targets"] == 1
