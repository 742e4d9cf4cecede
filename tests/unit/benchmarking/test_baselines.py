"""The Chemprop baseline: the same rows and split handed to Chemprop, win/tie/loss, an environment that fails."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.unit.benchmarking.helpers import cell, record

from molgen.benchmarking.baselines import (
    BaselineUnavailable,
    _train_command,
    _write_inputs,
    chemprop_python,
    run_baselines,
)
from molgen.benchmarking.report import markdown, summarize, versus
from molgen.config import RunConfig


def test_chemprop_gets_exactly_the_rows_of_each_part_of_the_molgen_split(tmp_path: Path):
    table = pd.DataFrame({"smiles": ["C", "CC", "CCC", "CCCC", "CCO", "CCN", "c1ccccc1"], "y": [0, 1, 2, 3, 4, 5, 6]})
    table.loc[3, "y"] = None  # an unlabelled row stays missing (NaN) for Chemprop
    table.to_csv(tmp_path / "data.csv", index=False)
    run = tmp_path / "run"
    run.mkdir()
    cfg = RunConfig().with_values(
        {
            "data.name": str(tmp_path / "data.csv"),
            "data.smiles_column": "smiles",
            "data.target_columns": ["y"],
            "trainer.max_epochs": 7,
            "trainer.patience": 3,
        }
    )
    cfg.save(run / "config.yaml")
    folds = [{"train": [6, 0, 3], "val": [2], "test": [5, 1]}]
    (run / "splits.json").write_text(json.dumps({"folds": folds}))
    work = tmp_path / "chemprop"
    work.mkdir()
    job = _write_inputs(run, work)
    data = pd.read_csv(work / "data.csv")
    assert data["smiles"].tolist() == ["c1ccccc1", "C", "CCCC", "CCC", "CCN", "CC"]
    assert data["target_0"].tolist()[:2] == [6.0, 0.0] and pd.isna(data["target_0"][2])
    assert json.loads((work / "splits.json").read_text()) == [{"train": [0, 1, 2], "val": [3], "test": [4, 5]}]
    assert job["test_targets"].ravel().tolist() == [5.0, 1.0]
    assert (job["epochs"], job["seed"], job["chemprop_task"]) == (7, 0, "regression")
    command = _train_command(tmp_path / "venv" / "bin" / "python", job, work)
    assert command[command.index("--epochs") + 1] == "7" and command[command.index("--patience") + 1] == "3"
    assert "--patience" not in _train_command(tmp_path / "python", {**job, "patience": 0}, work)


def test_win_tie_loss_pairs_the_seeds_and_uses_the_spread_of_their_differences():
    assert versus([0.50, 0.52], [0.60, 0.62], higher_is_better=False) == "win"
    assert versus([0.80], [0.85], higher_is_better=True) == "loss"
    assert versus([0.60, 0.70], [0.64, 0.66], higher_is_better=False) == "tie"  # differences -0.04, +0.04
    # seeds whose splits differ in difficulty: lower on every split, by more than the differences' spread
    assert versus([0.50, 0.90, 0.70], [0.55, 0.96, 0.74], higher_is_better=False) == "win"
    assert versus([], [0.6], higher_is_better=False) == "–"


def test_results_md_puts_chemprop_on_the_same_split_next_to_molgen():
    cells = [cell("esol", "dmpnn", s, v) for s, v in enumerate([0.55, 0.57])]
    for c in cells:
        c["baseline_key"] = f"esol-seed{c['seed']}-abc"
    rec = record(cells)
    rec["baseline"] = {
        "name": "chemprop",
        "version": "2.3.1",
        "status": "ok",
        "cells": {
            "esol-seed0-abc": {"status": "ok", "value": 0.65},
            "esol-seed1-abc": {"status": "failed", "value": None, "error": "RuntimeError: x", "log": "l.log"},
        },
    }
    text = markdown(rec, summarize(rec))
    assert "| molgen (mean ± std) | chemprop (same split) | Δ per seed | vs chemprop |" in text
    # seed 1's Chemprop run failed: the pair of seed 0 alone is compared
    assert "| 0.560 ± 0.014 | 0.650 ± 0.000 | -0.100 ± 0.000 (molgen better in 1/1) | win |" in text
    assert "chemprop: RuntimeError: x (log: l.log)" in text


def test_an_environment_that_cannot_be_made_is_recorded_and_reported_as_skipped(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(BaselineUnavailable, match="cannot create a virtual environment"):
        chemprop_python(blocker / "venv")
    rec = record([cell("esol", "dmpnn", 0, 0.6)])
    lines: list[str] = []
    run_baselines(rec, tmp_path, venv_dir=blocker / "venv", progress=lines.append)
    assert rec["baseline"]["status"] == "unavailable" and "chemprop baseline skipped" in lines[-1]
    text = markdown(rec, summarize(rec))
    assert "- chemprop baseline: skipped (cannot create a virtual environment" in text
    assert "| 0.600 ± 0.000 | Chemprop D-MPNN" in text  # the molgen cells are reported as before
