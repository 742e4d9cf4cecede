"""`molgen train` on a user's .smi file, then `molgen generate` (plain and with an objective) and `molgen tune`
for generators, as a user runs them: real processes, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from tests.conftest import MOLECULES

MOLGEN = str(Path(sys.executable).parent / "molgen")
CONFIGS = Path(__file__).parents[2] / "configs" / "generation"
TINY = [
    "--hidden-dim",
    "32",
    "--depth",
    "1",
    "--max-epochs",
    "2",
    "--batch-size",
    "16",
    "--max-rows",
    "1000",
    "--set",
    "model.sample_size=30",
    "--set",
    "model.embedding_dim=16",
    "--set",
    "trainer.log_every_n_steps=1",
]


def molgen(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([MOLGEN, *args], capture_output=True, text=True, env=env, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"molgen {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def smi_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 molecules, one line with a name after the SMILES, one unparseable line (line 13) and a blank line."""
    lines = [*MOLECULES[:12], "C1CC(N", "", *MOLECULES[12:]]
    lines[0] += " ethanol"
    path = tmp_path_factory.mktemp("data") / "mine.smi"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def charrnn_run(smi_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("runs") / "charrnn"
    result = molgen(
        "train", "--config", str(CONFIGS / "charrnn_moses.yaml"), "--data", str(smi_file), "--output", str(out), *TINY
    )
    return out, result


@pytest.fixture(scope="module")
def vae_run(smi_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "vae"
    molgen(
        "train",
        "--data",
        str(smi_file),
        "--model",
        "vae",
        "--on-invalid",
        "skip",
        "--output",
        str(out),
        *TINY,
        "--set",
        "model.latent_dim=8",
        "--set",
        "model.encoder_hidden_dim=16",
    )
    return out


def test_train_counts_and_reports_the_invalid_line(charrnn_run: tuple[Path, subprocess.CompletedProcess]) -> None:
    out, result = charrnn_run
    assert "skipped 1 invalid input row(s)" in result.stdout
    assert "mine.smi line 13: 'C1CC(N'" in result.stderr
    for name in (
        "config.yaml",
        "splits.json",
        "metrics.json",
        "samples.smi",
        "model/model.safetensors",
        "model/model.yaml",
        "model/README.md",
    ):
        assert (out / name).exists(), name
    splits = json.loads((out / "splits.json").read_text())
    fold = splits["folds"][0]
    assert splits["invalid_rows"] == [12]
    assert sorted(fold["train"] + fold["val"]) == [i for i in range(41) if i != 12]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["val"]["loss"] > 0
    assert {"valid", "unique@1000", "Novelty"} <= set(metrics["test"])
    assert len((out / "samples.smi").read_text().splitlines()) == 30
    spec = yaml.safe_load((out / "model" / "model.yaml").read_text())
    assert spec["family"] == "generation" and spec["generator"] == "charrnn"
    assert spec["tokenizer"]["tokens"][:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]


@pytest.mark.slow
def test_invalid_training_rows_are_an_error_by_default(smi_file: Path, tmp_path: Path) -> None:
    result = molgen(
        "train", "--data", str(smi_file), "--model", "charrnn", "--output", str(tmp_path / "r"), *TINY, check=False
    )
    assert result.returncode == 2
    assert (
        "1 invalid molecule(s)" in result.stderr and "line 13" in result.stderr and "--on-invalid skip" in result.stderr
    )


def test_generate_writes_n_molecules_reproducibly(
    charrnn_run: tuple[Path, subprocess.CompletedProcess], tmp_path: Path
) -> None:
    out, _ = charrnn_run
    first, second, other = tmp_path / "a.smi", tmp_path / "b.smi", tmp_path / "c.smi"
    result = molgen(
        "generate",
        "--model",
        str(out / "model"),
        "-n",
        "70",
        "--output",
        str(first),
        "--seed",
        "5",
        "--batch-size",
        "32",
    )
    molgen("generate", "--model", str(out), "-n", "70", "--output", str(second), "--seed", "5", "--batch-size", "32")
    molgen("generate", "--model", str(out), "-n", "70", "--output", str(other), "--seed", "6", "--batch-size", "32")
    lines = first.read_text().split("\n")[:-1]
    assert len(lines) == 70
    assert first.read_text() == second.read_text() != other.read_text()
    assert "wrote 70 molecules" in result.stdout and "invalid" in result.stdout


@pytest.mark.slow
def test_generate_with_objective_reports_before_and_after(vae_run: Path, tmp_path: Path) -> None:
    output = tmp_path / "opt.smi"
    result = molgen(
        "generate",
        "--model",
        str(vae_run),
        "-n",
        "5",
        "--output",
        str(output),
        "--objective",
        "qed",
        "--rounds",
        "2",
        "--population",
        "64",
        "--seed",
        "0",
    )
    assert "before (plain samples)" in result.stdout and "after (optimized)" in result.stdout
    stats = json.loads((tmp_path / "opt.objective.json").read_text())
    assert stats["objective"] == "qed" and stats["direction"] == "maximize"
    assert set(stats["before"]) >= {"mean", "median", "p90", "valid"}
    rows = [line.split("\t") for line in output.read_text().splitlines()]
    assert len(rows) == stats["n_written"] <= 5
    scores = [float(score) for _, score in rows]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)


@pytest.mark.slow
def test_objective_errors_are_clear(
    charrnn_run: tuple[Path, subprocess.CompletedProcess], vae_run: Path, tmp_path: Path
) -> None:
    out, _ = charrnn_run
    result = molgen(
        "generate",
        "--model",
        str(out),
        "-n",
        "5",
        "--output",
        str(tmp_path / "x.smi"),
        "--objective",
        "qed",
        check=False,
    )
    assert result.returncode == 2 and "latent space" in result.stderr
    result = molgen(
        "generate",
        "--model",
        str(vae_run),
        "-n",
        "5",
        "--output",
        str(tmp_path / "x.smi"),
        "--objective",
        "potency",
        check=False,
    )
    assert result.returncode == 2 and "qed" in result.stderr and "MODEL_DIR" in result.stderr


@pytest.mark.slow
def test_tune_a_generator(smi_file: Path, tmp_path: Path) -> None:
    """Two trials of the example CharRNN space; each trial's value is its best val/loss."""
    out = tmp_path / "tune"
    space = Path(__file__).parents[2] / "configs" / "hpo" / "generator_charrnn.yaml"
    molgen(
        "tune",
        "--data",
        str(smi_file),
        "--model",
        "charrnn",
        "--on-invalid",
        "skip",
        "--space",
        str(space),
        "--n-trials",
        "2",
        "--pruner",
        "none",
        "--output",
        str(out),
        "--max-epochs",
        "1",
        "--batch-size",
        "16",
    )
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 2 and set(trials["state"]) == {"COMPLETE"}
    assert (trials["value"] > 0).all()
    best = yaml.safe_load((out / "best_config.yaml").read_text())
    assert best["family"] == "generation" and best["model"]["name"] == "charrnn"
