"""`molgen screen` as a user runs it: a real process on a local Dask cluster, then (in-process, to keep the
suite fast: `molgen` start-up costs seconds) resume, clear errors and the help text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from tests.unit.screening.helpers import INVALID, library_frame, tiny_models

from molgen.cli.main import main

MOLGEN = str(Path(sys.executable).parent / "molgen")


def molgen(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([MOLGEN, *args], capture_output=True, text=True, env=env, timeout=600, check=False)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict:
    ensemble, single = tiny_models(tmp_path_factory)
    folder = tmp_path_factory.mktemp("library")
    frame = library_frame(100)
    frame.iloc[:60].to_csv(folder / "part1.csv.gz", index=False)
    frame.iloc[60:].to_csv(folder / "part2.csv", index=False)
    return {"ensemble": str(ensemble), "single": str(single), "library": str(folder)}


@pytest.mark.slow
def test_screen_a_folder_on_two_local_workers_then_resume(setup, tmp_path, capsys):
    out = tmp_path / "out"
    args = [
        "screen",
        "--model",
        setup["ensemble"],
        "--model",
        setup["single"],
        "--library",
        setup["library"],
        "--output",
        str(out),
        "--chunk-size",
        "25",
        "--top-k",
        "5",
        "--acquisition",
        "ucb",
        "--kappa",
        "0.5",
        "--filters",
        "lipinski",
    ]
    first = molgen(*args, "--workers", "2")
    assert first.returncode == 0, first.stderr
    assert "screened 100 rows in 5 shards (5 scored now, 0 reused; dask (2 local workers))" in first.stdout
    assert f"{len(INVALID)} invalid" in first.stdout
    shards = pd.read_parquet(out / "shards")
    assert len(shards) == 100 and sorted(shards["source"].unique()) == ["part1.csv.gz", "part2.csv"]
    assert shards.groupby("source")["row"].max().to_dict() == {"part1.csv.gz": 59, "part2.csv": 39}
    top = pd.read_csv(out / "top_k.csv")
    assert len(top) == 5 and (top["score"] - top["logp"] - 0.5 * top["logp_std"]).abs().max() < 1e-9

    assert main([*args, "--workers", "1"]) == 0  # same job, in-process: everything is reused
    assert "(0 scored now, 5 reused; this process)" in capsys.readouterr().out
    assert pd.read_csv(out / "top_k.csv").equals(top)
    assert [len(run["computed"]) for run in json.loads((out / "manifest.json").read_text())["runs"]] == [5, 0]

    assert main([*[a if a != "lipinski" else "lipinski,pains" for a in args], "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "molgen screen: error:" in err and "different parameters (filters" in err

    assert main([*args, "--workers", "1", "--precision", "bf16-mixed"]) == 2  # a resume keeps the precision
    assert "different parameters (precision" in capsys.readouterr().err
    assert main([*args, "--workers", "1", "--precision", "bf16-mixed", "--output", str(tmp_path / "bf16")]) == 0
    low = pd.read_parquet(tmp_path / "bf16" / "shards").sort_values(["source", "row"]).reset_index(drop=True)
    full = shards.sort_values(["source", "row"]).reset_index(drop=True)
    assert low["valid"].tolist() == full["valid"].tolist()
    assert (low["logp"] - full["logp"]).abs().max() <= 0.02 * full["logp"].abs().max()


def test_user_errors_exit_2_with_the_valid_choices(setup, tmp_path, capsys):
    base = ["screen", "--model", setup["single"], "--library", setup["library"], "--output", str(tmp_path / "o")]
    assert main([*base, "--filters", "lipinski,ro5"]) == 2
    assert "unknown filter 'ro5'; valid names: brenk, lipinski, pains, veber" in capsys.readouterr().err
    assert main([*base, "--sort-by", "solubility", "--workers", "1"]) == 2
    assert "cannot sort by 'solubility'; the models predict: logp" in capsys.readouterr().err
    assert main([*base[:-4], "--library", str(tmp_path / "nothing.smi"), "--output", str(tmp_path / "o")]) == 2
    assert "library not found" in capsys.readouterr().err


def test_help_says_which_way_ucb_ranks(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["screen", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "mean + KAPPA·std" in text and "--ascending" in text and "--scheduler" in text
