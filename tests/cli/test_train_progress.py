"""`molgen train` writing to a pipe: one progress line per epoch, and why training stopped (log,
metrics.json, model card), for a single split and for a k-fold run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from molgen import __version__

MOLGEN = str(Path(sys.executable).parent / "molgen")
TINY = ["--hidden-dim", "16", "--batch-size", "16", "--featurize-jobs", "1", "--split", "random", "--seed", "0"]


def train(data: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    """A real `molgen train` whose stdout and stderr are pipes (not a terminal)."""
    command = [MOLGEN, "train", "--data", str(data), "--smiles-column", "smiles", "--target-columns", "logp"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [*command, "--output", str(out), *TINY, *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.slow
def test_piped_run_logs_each_epoch_and_the_max_epochs_stop(regression_csv: Path, tmp_path: Path):
    out = tmp_path / "single"
    result = train(regression_csv, out, "--max-epochs", "2", "--patience", "5")
    lines = [line for line in result.stderr.splitlines() if ": epoch " in line or line.startswith("molgen: epoch ")]
    assert len(lines) == 2, result.stderr
    for k, line in enumerate(lines, start=1):
        assert f"epoch {k}/2:" in line and "train loss" in line and "val loss" in line and "val rmse" in line
        assert line.rstrip().endswith(" s")
    assert "training stopped: max_epochs (2) reached" in result.stderr
    stopped = json.loads((out / "metrics.json").read_text())["stopped"]
    assert [(s["fold"], s["member"], s["reason"], s["epochs"]) for s in stopped] == [(0, 0, "max_epochs", 2)]
    card = (out / "model" / "README.md").read_text()
    assert f"molgen {__version__};" in card
    assert "max_epochs (2) reached" in card
    assert "one random split" in card and "cross-validation" not in card


@pytest.mark.slow
def test_fold_run_records_early_stopping_per_fold_and_its_protocol(regression_csv: Path, tmp_path: Path):
    out = tmp_path / "folds"
    # lr 0: the validation metric never improves, so patience 1 stops every fold after its 2nd epoch
    result = train(regression_csv, out, "--n-folds", "2", "--max-epochs", "50", "--patience", "1", "--lr", "0")
    assert result.stderr.count("training stopped: early stopping at epoch 2 (patience 1)") == 2
    assert "[fold_1/member_0] epoch 2/50:" in result.stderr
    stopped = json.loads((out / "metrics.json").read_text())["stopped"]
    assert [(s["fold"], s["reason"], s["epoch"], s["patience"]) for s in stopped] == [
        (0, "early_stopping", 2, 1),
        (1, "early_stopping", 2, 1),
    ]
    card = (out / "model" / "README.md").read_text()
    assert "2-fold cross-validation (random folds" in card
    assert "one random split" not in card and "Test metrics come from 2-fold random cross-validation" in card
    assert "early stopping at epoch 2 (patience 1) (×2 models)" in card
    assert "50 max epochs" not in card and "(limit 50 epochs)" in card
    assert f"molgen {__version__};" in card


@pytest.mark.slow
def test_ctrl_c_is_logged_as_the_stop_reason(regression_csv: Path, tmp_path: Path):
    command = [MOLGEN, "train", "--data", str(regression_csv), "--smiles-column", "smiles", "--target-columns", "logp"]
    command += ["--output", str(tmp_path / "run"), *TINY, "--max-epochs", "500", "--patience", "0"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stderr is not None
    for line in process.stderr:
        if "epoch 2/500:" in line:
            process.send_signal(signal.SIGINT)  # what Ctrl-C sends
            break
    rest = process.stderr.read()
    assert process.wait(timeout=120) != 0
    assert "training interrupted in epoch" in rest and "--resume" in rest
    assert not (tmp_path / "run" / "metrics.json").exists()
