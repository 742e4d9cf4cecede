"""`molgen benchmark` as a user runs it: a tiny suite YAML, a tiny CSV, 1 epoch, 2 seeds, real processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests.cli.test_train_predict import molgen

FAST = {
    "model.hidden_dim": 16,
    "model.ffn_hidden_dim": 16,
    "trainer.max_epochs": 1,
    "data.batch_size": 16,
    "data.featurize_jobs": 1,
    "trainer.progress_bar": False,
}


def write_suite(path: Path, csv: Path, threshold: dict, models: tuple[str, ...] = ("dmpnn",)) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "name": "tiny",
                "datasets": [
                    {
                        "name": str(csv),
                        "metric": "rmse",
                        "set": {"data.smiles_column": "smiles", "data.target_columns": ["logp"]},
                    }
                ],
                "models": list(models),
                "profiles": {
                    "full": {"seeds": [0, 1, 2], "set": FAST},
                    "ci": {"seeds": [0, 1], "set": FAST, "thresholds": {"tiny/dmpnn": threshold}},
                },
            },
            sort_keys=False,
        )
    )
    return path


@pytest.mark.slow
def test_benchmark_runs_reports_and_gates(regression_csv: Path, tmp_path: Path):
    out = tmp_path / "bench"
    suite = write_suite(
        tmp_path / "suite.yaml", regression_csv, {"max": 100.0, "measured": 2.0, "measured_on": "2026-11-23"}
    )
    result = molgen("benchmark", str(suite), "--profile", "ci", "--output", str(out), "--check")
    assert "[1/2] tiny/dmpnn/seed0: rmse" in result.stdout and "**PASSED**" in result.stdout
    record = json.loads((out / "results.json").read_text())
    assert [c["seed"] for c in record["cells"]] == [0, 1] and all(c["status"] == "ok" for c in record["cells"])
    summary = record["summary"][0]
    assert summary["n_seeds"] == 2 and summary["mean"] == sum(c["value"] for c in record["cells"]) / 2
    table = (out / "results.md").read_text()
    assert f"| tiny | random | dmpnn | rmse ↓ | 2 | {summary['mean']:.3f} ± {summary['std']:.3f} | – | – |" in table
    assert (out / "tiny.png").is_file() and (
        out / "cells" / "tiny-dmpnn-seed1" / "model" / "model.safetensors"
    ).is_file()

    # The same cells under a threshold no model can meet: resumed (nothing retrained), and the gate fails.
    strict = write_suite(
        tmp_path / "strict.yaml", regression_csv, {"max": 1e-6, "measured": 2.0, "measured_on": "2026-11-23"}
    )
    result = molgen("benchmark", str(strict), "--profile", "ci", "--output", str(out), "--check", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "done earlier" in result.stdout and "benchmark check FAILED" in result.stdout and "> max 1e-06" in result.stdout
    )
    # Without --check the same results exit 0.
    assert molgen("benchmark", str(strict), "--profile", "ci", "--output", str(out)).returncode == 0


@pytest.mark.slow
def test_failed_cell_is_reported_and_fails_the_check(regression_csv: Path, tmp_path: Path):
    # a DNA model on a table of SMILES: the config is valid, the cell fails when it runs
    suite = write_suite(tmp_path / "suite.yaml", regression_csv, {"max": 100.0}, models=("dmpnn", "cnn"))
    out = tmp_path / "bench"
    result = molgen(
        "benchmark",
        str(suite),
        "--profile",
        "ci",
        "--output",
        str(out),
        "--check",
        "--only",
        "tiny/cnn",
        check=False,
    )
    assert result.returncode == 1
    assert "tiny/cnn/seed0: FAILED" in result.stdout and "## Failed cells" in (out / "results.md").read_text()
    assert "`tiny/dmpnn`: not run (--only)" in (out / "results.md").read_text()


def test_unknown_suite_lists_the_committed_ones(tmp_path: Path):
    result = molgen("benchmark", "nope", "--profile", "ci", "--output", str(tmp_path), check=False)
    assert result.returncode == 2 and "unknown suite 'nope'" in result.stderr and "moleculenet" in result.stderr
