"""A user's own files through `molgen predict`, `screen` and `train`: cells kept whole, one output row per input
line (file line numbers in messages), .smi and header-less inputs, BOMs, class names, standardization.

Prediction and screening use small real model folders with untrained weights (built here in a second, so the
suite stays fast); the tests that train are marked slow."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import MOLECULES

from molgen.cli.main import main

FAST = ["--hidden-dim", "16", "--max-epochs", "2", "--batch-size", "16", "--featurize-jobs", "1", "--patience", "0"]


def export_untrained(out: Path, standardize: str = "none", target: str = "y") -> Path:
    """A property model folder (regression, one target) with seeded untrained weights."""
    import torch

    from molgen.chem.featurize.graphs import FeaturizerSpec
    from molgen.config import GraphModelConfig
    from molgen.families.property import build_predictor
    from molgen.training.artifacts import ModelSpec, export_model
    from molgen.training.tasks import build_task

    torch.manual_seed(0)
    task = build_task("regression", [target])
    model = GraphModelConfig(name="dmpnn", hidden_dim=16, depth=2, ffn_hidden_dim=16)
    featurizer = FeaturizerSpec(standardize=standardize)
    spec = ModelSpec(
        family="property",
        input={"kind": "smiles", "column": "smiles"},
        featurizer=featurizer.to_dict(),
        model=model.model_dump(),
        task=task.describe(),
    )
    return export_model(out, [build_predictor(model, featurizer, task)], spec, "untrained test model")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {"plain": export_untrained(root / "plain"), "standard": export_untrained(root / "standard", "basic")}


@pytest.fixture(autouse=True)
def molgen_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="molgen")
    return caplog


def predict(model: Path, path: Path, capsys, *extra: str) -> tuple[pd.DataFrame, str]:
    """Runs `molgen predict`; the output table (empty cells as "") and what went to stderr."""
    out = path.with_name(path.name + ".out.csv")
    assert main(["predict", "--model", str(model), "--input", str(path), "--output", str(out), *extra]) == 0
    frame = pd.read_csv(out, keep_default_na=False, dtype={"smiles": str, "id": str, "name": str})
    frame = frame.apply(lambda column: pd.to_numeric(column) if column.name in ("y", "y_input") else column)
    return frame, capsys.readouterr().err


def test_predict_flags_whitespace_inside_a_smiles_cell(models, tmp_path, capsys):
    path = tmp_path / "messy.csv"
    path.write_text('smiles,id\nCCO,a\nCC O,b\nc1ccccc1 benzene,c\n"c1ccccc1\textra",d\n c1ccccc1 ,e\n')
    out, err = predict(models["plain"], path, capsys)
    assert out["id"].tolist() == list("abcde")
    assert out["valid"].tolist() == [True, False, False, False, True]
    assert out.loc[1:3, "invalid_reason"].str.startswith("whitespace inside SMILES").all()
    assert out.loc[1:3, "y"].isna().all()
    assert "messy.csv line 3: whitespace inside SMILES" in err and "messy.csv line 5:" in err


def test_predict_keeps_one_row_per_line_with_file_line_numbers(models, tmp_path, capsys):
    path = tmp_path / "gaps.csv"
    path.write_text("smiles,id\nCCO,a\n\nc1ccccc1,b\nC1CC,c\n\n\nCCN,d\n")
    out, err = predict(models["plain"], path, capsys)
    assert len(out) == 7  # every data line, blank ones included
    assert out["id"].tolist() == ["a", "", "b", "c", "", "", "d"]
    assert out["valid"].tolist() == [True, False, True, False, False, False, True]
    assert out.loc[1, "invalid_reason"] == "empty SMILES: ''"
    assert "gaps.csv line 3: empty SMILES" in err and "gaps.csv line 5: SMILES syntax error" in err


def test_predict_reads_smi_files_smiles_then_name(models, tmp_path, capsys):
    path = tmp_path / "library.smi"
    path.write_text("CCO ethanol\nc1ccccc1\tbenzene ring\n\nCC(=O)O\n")
    out, err = predict(models["plain"], path, capsys)
    assert out["smiles"].tolist() == ["CCO", "c1ccccc1", "", "CC(=O)O"]
    assert out["name"].tolist() == ["ethanol", "benzene ring", "", ""]
    assert out["valid"].tolist() == [True, True, False, True]
    assert "library.smi line 3: empty SMILES" in err


def test_predict_headerless_text_keeps_its_first_molecule(models, tmp_path, capsys, molgen_log):
    path = tmp_path / "list.txt"
    path.write_text("CCO\nc1ccccc1\nCCN\n")
    out, _ = predict(models["plain"], path, capsys)
    assert out["smiles"].tolist() == ["CCO", "c1ccccc1", "CCN"] and out["valid"].all()
    assert "list.txt has no header line" in molgen_log.text


def test_bom_is_dropped_once(models, tmp_path, capsys):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffsmiles\nCCO\n".encode())
    out, _ = predict(models["plain"], path, capsys)
    assert out["smiles"].tolist() == ["CCO"] and out["valid"].all()
    headerless = tmp_path / "bom.smi"
    headerless.write_bytes("\ufeffCCO first\nCCN\n".encode())
    out, _ = predict(models["plain"], headerless, capsys)
    assert out["smiles"].tolist() == ["CCO", "CCN"] and out["valid"].all()


def test_prediction_column_is_the_target_and_an_input_column_is_renamed(models, tmp_path, capsys, molgen_log):
    path = tmp_path / "measured.csv"
    pd.DataFrame({"smiles": ["CCO", "CCN"], "y": [1.5, 2.5]}).to_csv(path, index=False)
    out, _ = predict(models["plain"], path, capsys)
    assert list(out.columns) == ["smiles", "y_input", "y", "valid", "invalid_reason"]  # exported without a domain
    assert out["y_input"].tolist() == [1.5, 2.5] and not np.allclose(out["y"], [1.5, 2.5])
    assert "the input has a column 'y': kept as 'y_input'" in molgen_log.text


def test_standardization_predicts_salts_and_charges_as_the_parent(models, tmp_path, capsys):
    path = tmp_path / "salts.csv"
    pd.DataFrame({"smiles": ["CC(=O)[O-].[Na+]", "CC(=O)[O-]", "CC(=O)O", "[Na+].[Cl-]"]}).to_csv(path, index=False)
    plain, _ = predict(models["plain"], path, capsys)
    assert not np.isclose(plain.loc[0, "y"], plain.loc[2, "y"], rtol=1e-4, atol=0)  # as given: three molecules
    out, _ = predict(models["standard"], path, capsys)
    assert out["smiles"].tolist()[:3] == ["CC(=O)[O-].[Na+]", "CC(=O)[O-]", "CC(=O)O"]  # the input, kept
    assert out["smiles_standardized"].tolist()[:3] == ["CC(=O)O"] * 3
    assert np.allclose(out.loc[:2, "y"], out.loc[2, "y"], rtol=1e-5, atol=0)
    assert not out.loc[3, "valid"] and out.loc[3, "invalid_reason"].startswith("standardization left no organic")


def screen(model: Path, library: Path, out: Path) -> pd.DataFrame:
    assert (
        main(["screen", "--model", str(model), "--library", str(library), "--output", str(out), "--workers", "1"]) == 0
    )
    return pd.read_parquet(out / "shards").sort_values(["source", "row"]).reset_index(drop=True)


def test_screen_drops_a_bom_and_flags_whitespace_inside_a_cell(models, tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    (library / "a.smi").write_bytes("\ufeffCCO ethanol\nCCN\n".encode())
    (library / "b.csv").write_text("smiles,id\nCC O,x\nCCO,y\n")
    rows = screen(models["plain"], library, tmp_path / "out")
    assert rows["smiles"].tolist() == ["CCO", "CCN", "CC O", "CCO"]
    assert rows["valid"].tolist() == [True, True, False, True]
    assert rows.loc[2, "invalid_reason"].startswith("whitespace inside SMILES")


def test_screen_applies_the_models_standardization(models, tmp_path):
    library = tmp_path / "salts.smi"
    library.write_text("CC(=O)[O-].[Na+] salt\nCC(=O)O acid\n[Na+].[Cl-]\n")
    rows = screen(models["standard"], library, tmp_path / "out")
    assert rows["valid"].tolist() == [True, True, False]
    assert np.isclose(rows.loc[0, "y"], rows.loc[1, "y"], rtol=1e-5, atol=0)


def test_train_refuses_text_regression_targets_saying_what_to_pass(tmp_path, capsys):
    path = tmp_path / "bbb.csv"
    pd.DataFrame({"smiles": MOLECULES[:10], "BBB": ["BBB+", "BBB-"] * 5}).to_csv(path, index=False)
    args = ["train", "--data", str(path), "--target-columns", "BBB", "--output", str(tmp_path / "run"), *FAST]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "column 'BBB' holds text ('BBB+', 'BBB-')" in err and "--task-type binary" in err
    assert "finite number" not in err


@pytest.mark.slow
def test_train_flags_whitespace_inside_a_training_smiles(regression_csv, tmp_path, capsys):
    frame = pd.read_csv(regression_csv)
    frame.loc[4, "smiles"] = "c1ccccc1 benzene"
    path = tmp_path / "messy.csv"
    frame.to_csv(path, index=False)
    args = ["train", "--data", str(path), "--target-columns", "logp", "--output", str(tmp_path / "run"), *FAST]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "messy.csv line 6: 'c1ccccc1 benzene': whitespace inside SMILES" in err


@pytest.mark.slow
def test_string_class_labels_train_and_predict_class_names(tmp_path, capsys, molgen_log):
    import yaml

    path = tmp_path / "bbb.csv"
    labels = ["BBB+" if "c" in s else "BBB-" for s in MOLECULES]
    labels[3] = ""
    pd.DataFrame({"smiles": MOLECULES, "BBB": labels}).to_csv(path, index=False)
    run = tmp_path / "run"
    args = ["train", "--data", str(path), "--target-columns", "BBB", "--task-type", "binary", *FAST]
    assert main([*args, "--positive-class", "BBB+", "--output", str(run)]) == 0
    assert "target 'BBB': class labels 'BBB-' → 0, 'BBB+' → 1" in molgen_log.text
    task = yaml.safe_load((run / "model" / "model.yaml").read_text())["task"]
    assert task["classes"] == {"BBB": ["BBB-", "BBB+"]}
    queries = tmp_path / "q.smi"
    queries.write_text("c1ccccc1O phenol\nCCO\n")
    out, _ = predict(run, queries, capsys)
    assert list(out.columns) == [
        *["smiles", "name", "BBB", "BBB_prob_BBB-", "BBB_prob_BBB+"],
        *["train_similarity", "in_domain", "valid", "invalid_reason"],
    ]
    assert set(out["BBB"]) <= {"BBB+", "BBB-"}
    assert np.allclose(out["BBB_prob_BBB-"] + out["BBB_prob_BBB+"], 1.0)
    assert (out["BBB"] == np.where(out["BBB_prob_BBB+"] >= 0.5, "BBB+", "BBB-")).all()
