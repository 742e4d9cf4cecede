"""`molgen evaluate-generation` as a user runs it: a real process on tiny generated and reference files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MOLGEN = str(Path(sys.executable).parent / "molgen")
REFERENCE = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "CC(=O)Nc1ccc(O)cc1",
    "c1ccc2c(c1)CCN2C(=O)c1ccccc1",
    "CCOC(=O)c1ccc(N)cc1",
    "Cc1ccc(-c2ccccn2)cc1",
    "O=C(O)c1ccc2ccccc2c1",
    "CCN(CC)C(=O)c1ccccc1",
]


def molgen(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([MOLGEN, *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture
def files(tmp_path: Path, data_mirror) -> tuple[Path, Path]:
    generated = tmp_path / "generated.smi"
    generated.write_text("CC(=O)Nc1ccc(O)cc1\nCCO\n\nC1CC(\nc1ccc2ccccc2c1\nCC[NH3+]\nCC(=O)Nc1ccc(O)cc1\n")
    reference = tmp_path / "reference.csv"
    reference.write_text("SMILES\n" + "\n".join(REFERENCE) + "\n")
    return generated, reference


def test_writes_moses_keys_report_and_plots(files, tmp_path):
    generated, reference = files
    out = tmp_path / "eval"
    result = molgen(
        "evaluate-generation",
        str(generated),
        "--reference",
        str(reference),
        "--output",
        str(out),
        "--train",
        str(reference),
        "--n-jobs",
        "1",
    )
    assert result.returncode == 0, result.stderr
    assert "7 generated, 5 valid, 2 invalid" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics) == [
        "valid",
        "unique@1000",
        "unique@10000",
        "FCD/Test",
        "SNN/Test",
        "Frag/Test",
        "Scaf/Test",
        "IntDiv",
        "IntDiv2",
        "Filters",
        "logP",
        "SA",
        "QED",
        "weight",
        "Novelty",
    ]
    assert metrics["valid"] == pytest.approx(5 / 7)
    assert metrics["unique@1000"] == pytest.approx(4 / 5)
    assert metrics["Filters"] == pytest.approx(4 / 5)
    assert metrics["Novelty"] == pytest.approx(3 / 4)  # paracetamol is in the "train" file
    report = (out / "metrics.md").read_text()
    assert "TestSF metrics are omitted" in report and "record 3: `` (empty SMILES)" in report
    assert (out / "properties.png").is_file() and (out / "molecules.png").is_file()


def test_empty_file_gives_a_report_not_a_crash(files, tmp_path):
    _, reference = files
    empty = tmp_path / "empty.smi"
    empty.write_text("")
    result = molgen("evaluate-generation", str(empty), "--reference", str(reference), "--output", str(tmp_path / "e"))
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert metrics["valid"] == 0.0 and metrics["FCD/Test"] is None
    assert "empty" in (tmp_path / "e" / "metrics.md").read_text()


def test_missing_reference_is_a_clear_error(files, tmp_path):
    generated, _ = files
    result = molgen(
        "evaluate-generation",
        str(generated),
        "--reference",
        str(tmp_path / "nope.smi"),
        "--output",
        str(tmp_path / "x"),
    )
    assert result.returncode == 2
    assert "SMILES file not found" in result.stderr and "nope.smi" in result.stderr


def test_first_use_cost_is_said_first_and_only_once(files, tmp_path):
    generated, reference = files
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "MOLGEN_CACHE_DIR": str(tmp_path / "cache")}
    args = [MOLGEN, "evaluate-generation", str(generated), "--reference", str(reference), "--n-jobs", "1"]
    first = subprocess.run([*args, "--output", str(tmp_path / "a")], capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr
    line = first.stderr.splitlines()[0]
    assert line.startswith("first use of reference.csv: their statistics are computed once (under a minute")
    assert str(tmp_path / "cache") in line and "later runs take seconds" in line
    again = subprocess.run([*args, "--output", str(tmp_path / "b")], capture_output=True, text=True, env=env)
    assert again.returncode == 0 and "first use" not in again.stderr  # read from the cache
    helptext = subprocess.run([MOLGEN, "evaluate-generation", "--help"], capture_output=True, text=True, env=env)
    assert "about 40 minutes on 2 CPU cores" in " ".join(helptext.stdout.split())
