"""`molgen train --config configs/generation/molgan_qm9.yaml` on a user's file with a tiny budget, then
`molgen generate`, as a user runs them: real processes, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

MOLGEN = str(Path(sys.executable).parent / "molgen")
CONFIGS = Path(__file__).parents[2] / "configs" / "generation"
SMALL = [
    "CCO",
    "CC(=O)O",
    "c1ccoc1",
    "CC#N",
    "OCC(O)CO",
    "CN(C)C",
    "C1CC1O",
    "NC(=O)N",
    "CC(C)=O",
    "FC(F)F",
    "c1cc[nH]c1",
    "C#CCO",
    "CCCCCCCCCCCC",
    "C1CC(N",
]


def molgen(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([MOLGEN, *args], check=False, capture_output=True, text=True, env=env, timeout=600)
    if result.returncode != 0:
        raise AssertionError(f"molgen {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.mark.slow
def test_train_molgan_from_its_config_then_generate(tmp_path: Path) -> None:
    data = tmp_path / "small.smi"
    data.write_text("\n".join(SMALL * 3) + "\n")
    out = tmp_path / "molgan"
    molgen(
        "train",
        "--config",
        str(CONFIGS / "molgan_qm9.yaml"),
        "--data",
        str(data),
        "--output",
        str(out),
        "--on-invalid",
        "skip",
        "--max-rows",
        "1000",
        "--hidden-dim",
        "64",
        "--depth",
        "2",
        "--max-epochs",
        "2",
        "--set",
        "model.sample_size=20",
        "--set",
        "model.val_sample_size=16",
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"validity", "valid_unique", "wasserstein"} <= set(metrics["val"])
    assert {"valid", "unique@1000", "Novelty"} <= set(metrics["test"])
    spec = yaml.safe_load((out / "model" / "model.yaml").read_text())
    assert spec["generator"] == "molgan" and spec["graphs"]["atom_types"] == ["C", "N", "O", "F"]
    samples = tmp_path / "samples.smi"
    result = molgen("generate", "--model", str(out), "-n", "50", "--output", str(samples), "--seed", "0")
    assert len(samples.read_text().split("\n")[:-1]) == 50
    assert "wrote 50 molecules" in result.stdout
