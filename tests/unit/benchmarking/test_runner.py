"""Runner: real fit() on a tiny table; a failed cell is recorded and the suite goes on; resume skips done cells."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from molgen.benchmarking import SuiteError, load_suite, run_suite
from molgen.recipes import fit

FAST = {
    "model.hidden_dim": 16,
    "model.ffn_hidden_dim": 16,
    "trainer.max_epochs": 1,
    "data.batch_size": 16,
    "data.featurize_jobs": 1,
    "trainer.progress_bar": False,
}


def tiny_suite(folder: Path, csv: Path, models: list[str]) -> Path:
    values = {
        "name": "tiny",
        "datasets": [
            {
                "name": csv.name,
                "metric": "rmse",
                "set": {"data.smiles_column": "smiles", "data.target_columns": ["logp"]},
            }
        ],
        "models": models,
        "profiles": {"ci": {"seeds": [0, 1], "set": FAST}, "full": {"seeds": [0, 1, 2], "set": FAST}},
    }
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return path


class CountingFit:
    """The real fit(), counting the cells it trains."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def __call__(self, cfg):
        self.keys.append(f"{cfg.model.name}/seed{cfg.trainer.seed}")
        return fit(cfg)


def test_failed_cell_recorded_then_resume_skips_finished_cells(regression_csv: Path, tmp_path: Path):
    suite = load_suite(tiny_suite(regression_csv.parent, regression_csv, ["dmpnn", "cnn"]))
    out = tmp_path / "bench"
    first = CountingFit()
    record = run_suite(suite, "ci", out, fit=first)
    assert first.keys == ["dmpnn/seed0", "dmpnn/seed1", "cnn/seed0", "cnn/seed1"]
    cells = {c["key"]: c for c in json.loads((out / "results.json").read_text())["cells"]}
    ok = cells["tiny/dmpnn/seed0"]
    assert ok["status"] == "ok" and ok["metric"] == "rmse" and ok["value"] == ok["metrics"]["test"]["rmse"]
    assert (
        ok["wall_s"] > 0
        and (out / ok["run_dir"] / "metrics.json").is_file()
        and ok["run_dir"] == "cells/tiny-dmpnn-seed0"
    )
    failed = cells["tiny/cnn/seed1"]  # a DNA model on a SMILES table
    assert failed["status"] == "failed" and failed["error"]
    assert record["versions"]["torch"] and record["machine"]["cpu_count"] and record["finished"]

    second = CountingFit()
    run_suite(suite, "ci", out, fit=second)
    assert second.keys == ["cnn/seed0", "cnn/seed1"]  # finished cells are skipped
    assert json.loads((out / "results.json").read_text())["resumed"] == 1

    changed = load_suite(tiny_suite(regression_csv.parent, regression_csv, ["dmpnn"]))
    third = CountingFit()
    run_suite(changed, "ci", out, only=["tiny/dmpnn"], fit=third)
    assert third.keys == []


def test_unknown_model_fails_when_the_suite_loads(regression_csv: Path):
    with pytest.raises(SuiteError, match="model.name must be one of dmpnn.*got 'no_such_model'"):
        load_suite(tiny_suite(regression_csv.parent, regression_csv, ["dmpnn", "no_such_model"]))


def test_another_suite_in_the_same_folder_is_refused(regression_csv: Path, tmp_path: Path):
    suite = load_suite(tiny_suite(regression_csv.parent, regression_csv, ["cnn"]))
    run_suite(suite, "ci", tmp_path)
    with pytest.raises(SuiteError, match="holds suite 'tiny' profile 'ci', not 'tiny' profile 'full'"):
        run_suite(suite, "full", tmp_path)
