"""`molgen train --uncertainty … --calibration …` and `molgen predict` as a user runs them, and their clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from tests.cli.test_expression_cli import dna_files  # noqa: F401 (a fixture)
from tests.cli.test_train_predict import molgen
from tests.conftest import crippen_logp

from molgen.cli.main import main

FAST = ["--hidden-dim", "32", "--max-epochs", "3", "--batch-size", "32", "--featurize-jobs", "1"]


def molecules() -> list[str]:
    """240 small molecules: a head group, an alkyl chain and a tail group."""
    heads, tails = ["", "O", "N", "Cl", "c1ccccc1"], ["", "O", "N", "F", "C(=O)O", "C#N"]
    return [h + "C" * n + t for h in heads for n in range(1, 9) for t in tails]


@pytest.fixture
def logp_csv(tmp_path: Path) -> Path:
    smiles = molecules()
    path = tmp_path / "logp.csv"
    pd.DataFrame({"smiles": smiles, "logp": [crippen_logp(s) for s in smiles]}).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_mve_with_conformal_intervals_through_train_and_predict(logp_csv: Path, tmp_path: Path):
    run = tmp_path / "run"
    molgen(
        "train", "--data", str(logp_csv), "--target-columns", "logp", "--uncertainty", "mve",
        "--calibration", "conformal", "--coverage", "0.9", "--calibration-fraction", "0.15",
        "--output", str(run), *FAST,
    )  # fmt: skip
    splits = json.loads((run / "splits.json").read_text())
    held, fold = splits["calibration"], splits["folds"][0]
    assert len(held) == round(0.15 * 192) and fold["calibration"] == held
    assert not set(held) & set(fold["train"] + fold["val"] + fold["test"])
    assert sorted(held + fold["train"] + fold["val"] + fold["test"]) == list(range(240))
    spec = yaml.safe_load((run / "model" / "model.yaml").read_text())
    assert spec["task"]["head"] == "mve" and spec["uncertainty"]["method"] == "mve"
    params = spec["calibration"]["targets"]["logp"]
    assert spec["calibration"]["method"] == "conformal" and spec["calibration"]["n_rows"] == len(held)
    assert isinstance(params["q"], float) and params["q"] > 0 and params["normalized"] is True
    test = json.loads((run / "metrics.json").read_text())["test"]
    for name in ("nll", "miscalibration_area", "spearman_error_std", "coverage", "interval_width"):
        assert np.isfinite(test[name]), name
    kept = pd.read_csv(run / "predictions" / "test.csv")
    assert {"logp_pred", "logp_std", "logp_lower", "logp_upper"} <= set(kept.columns)
    assert ((kept.logp >= kept.logp_lower) & (kept.logp <= kept.logp_upper)).mean() == pytest.approx(test["coverage"])
    query = tmp_path / "query.csv"
    pd.DataFrame({"smiles": ["CCO", "not a smiles", "c1ccccc1CCN"]}).to_csv(query, index=False)
    out = tmp_path / "out.csv"
    molgen("predict", "--model", str(run / "model"), "--input", str(query), "--output", str(out))
    frame = pd.read_csv(out)
    assert frame["valid"].tolist() == [True, False, True]
    valid = frame[frame.valid]
    assert (valid.logp_std > 0).all()
    # normalized conformal: the half-width is q · std
    assert np.allclose(valid.logp_upper - valid.logp, params["q"] * valid.logp_std, rtol=1e-4)
    assert np.allclose(valid.logp - valid.logp_lower, params["q"] * valid.logp_std, rtol=1e-4)
    assert frame.loc[1, ["logp_std", "logp_lower", "logp_upper"]].isna().all()


def test_a_calibration_split_under_20_molecules_is_refused(regression_csv: Path, tmp_path: Path, capsys):
    code = main(
        ["train", "--data", str(regression_csv), "--target-columns", "logp", "--uncertainty", "mve",
         "--calibration", "zscale", "--output", str(tmp_path / "run"), *FAST]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "the calibration split would have 3 molecules (0.1 of 32 training rows)" in err and "at least 20" in err
    assert not (tmp_path / "run" / "model").exists()


def test_regression_only_methods_and_wrong_calibrations_are_refused(classification_csv: Path, tmp_path: Path, capsys):
    args = ["train", "--data", str(classification_csv), "--task-type", "binary", "--output", str(tmp_path / "r")]
    assert main([*args, "--uncertainty", "mve", *FAST]) == 2
    assert "--uncertainty mve is for regression; a binary task supports: ensemble, dropout" in capsys.readouterr().err
    assert main([*args, "--calibration", "zscale", *FAST]) == 2
    assert "--calibration zscale does not fit a binary task; use platt | isotonic | conformal" in (
        capsys.readouterr().err
    )


def test_uncertainty_of_the_kmer_baseline_is_refused(dna_files: Path, capsys):  # noqa: F811
    args = ["train", "--data", str(dna_files / "train.csv"), "--sequence-column", "seq", "--target-columns", "motifs"]
    code = main([*args, "--model", "kmer", "--uncertainty", "dropout", "--output", str(dna_files / "k")])
    assert code == 2
    assert "--uncertainty dropout: the kmer expression model supports: none" in capsys.readouterr().err
    assert main([*args, "--model", "cnn", "--uncertainty", "mve", "--output", str(dna_files / "c")]) == 2
    assert "--uncertainty mve: the cnn expression model supports: ensemble" in capsys.readouterr().err
