"""The applicability domain of a trained property model: threshold, exported fingerprints, and the
``train_similarity`` / ``in_domain`` columns of predict, screen and ``predictions/test.csv``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator
from tests.conftest import MOLECULES, crippen_logp

from molgen.analysis.prediction import load_model, predict_frame
from molgen.config import RunConfig
from molgen.errors import ModelFormatError
from molgen.recipes import fit
from molgen.training.artifacts import file_sha256

FORMAT1_MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "models_format1" / "property"
FINGERPRINTS = "train_fingerprints.safetensors"
# Cyclo-octaselenium: no atom environment in common with the training molecules (similarity 0).
FAR = "[Se]1[Se][Se][Se][Se][Se][Se][Se]1"


def rdkit_nearest(queries: list[str], reference: list[str]) -> np.ndarray:
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    reference_fps = [generator.GetFingerprint(Chem.MolFromSmiles(s)) for s in reference]
    return np.array(
        [
            max(DataStructs.BulkTanimotoSimilarity(generator.GetFingerprint(Chem.MolFromSmiles(s)), reference_fps))
            for s in queries
        ]
    )


def train(tmp: Path, **values: object) -> Path:
    frame = pd.DataFrame({"smiles": MOLECULES, "logp": [crippen_logp(s) for s in MOLECULES]})
    frame.to_csv(tmp / "tiny.csv", index=False)
    cfg = RunConfig().with_values(
        {
            "data.name": str(tmp / "tiny.csv"),
            "data.target_columns": ["logp"],
            "data.split_sizes": [0.5, 0.1, 0.4],
            "data.featurize_jobs": 1,
            "data.cache": False,
            "model.name": "dmpnn",
            "model.hidden_dim": 16,
            "model.depth": 1,
            "trainer.max_epochs": 1,
            "output": str(tmp / "run"),
            **values,
        }
    )
    return fit(cfg).run_dir


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train(tmp_path_factory.mktemp("ad"))


@pytest.mark.slow
def test_threshold_is_the_5th_percentile_of_test_to_train_similarities(run_dir: Path) -> None:
    fold = json.loads((run_dir / "splits.json").read_text())["folds"][0]
    train_smiles = [MOLECULES[i] for i in fold["train"]]
    expected = rdkit_nearest([MOLECULES[i] for i in fold["test"]], train_smiles)
    threshold = float(np.percentile(expected, 5))

    spec = yaml.safe_load((run_dir / "model" / "model.yaml").read_text())
    domain = spec["applicability_domain"]
    assert domain == {"radius": 2, "n_bits": 2048, "threshold": pytest.approx(threshold), "n_train": len(fold["train"])}
    assert spec["sha256"][FINGERPRINTS] == file_sha256(run_dir / "model" / FINGERPRINTS)

    record = json.loads((run_dir / "metrics.json").read_text())["applicability_domain"]
    assert record["threshold"] == pytest.approx(threshold)
    summary = record["test_similarity"]
    assert summary["min"] == pytest.approx(expected.min()) and summary["max"] == pytest.approx(expected.max())
    assert summary["p05"] == pytest.approx(threshold) and summary["median"] == pytest.approx(np.median(expected))

    kept = pd.read_csv(run_dir / "predictions" / "test.csv")
    assert kept["row"].tolist() == fold["test"]
    np.testing.assert_allclose(kept["train_similarity"], expected, atol=1e-12)
    assert kept["in_domain"].tolist() == (expected >= threshold).tolist()
    assert 0 < (~kept["in_domain"]).sum() < len(kept)  # the 5th percentile leaves some test rows out


@pytest.mark.slow
def test_predict_adds_similarity_and_flags_a_far_molecule(run_dir: Path) -> None:
    fold = json.loads((run_dir / "splits.json").read_text())["folds"][0]
    trained = MOLECULES[fold["train"][0]]
    model = load_model(run_dir)
    out = predict_frame(model, pd.DataFrame({"smiles": [trained, "not a smiles", FAR]}))
    assert list(out.columns) == ["smiles", "logp", "train_similarity", "in_domain", "valid", "invalid_reason"]
    assert out["train_similarity"].iloc[0] == 1.0 and bool(out["in_domain"].iloc[0])
    assert np.isnan(out["train_similarity"].iloc[1]) and not out["in_domain"].iloc[1]  # invalid: empty, False
    far = rdkit_nearest([FAR], [MOLECULES[i] for i in fold["train"]])[0]
    assert out["train_similarity"].iloc[2] == pytest.approx(far) and far < model.domain.threshold
    assert not out["in_domain"].iloc[2]
    off = predict_frame(model, pd.DataFrame({"smiles": [trained]}), domain=False)
    assert "train_similarity" not in off.columns and "in_domain" not in off.columns
    np.testing.assert_allclose(off["logp"], out["logp"].iloc[:1])


@pytest.mark.slow
def test_predict_cli_writes_the_columns_and_no_domain_drops_them(run_dir: Path, tmp_path: Path) -> None:
    trained = MOLECULES[json.loads((run_dir / "splits.json").read_text())["folds"][0]["train"][0]]
    (tmp_path / "in.csv").write_text(f"smiles\n{trained}\nxyz\n{FAR}\n")
    for flags, has_columns in (([], True), (["--no-domain"], False)):
        output = tmp_path / f"out{len(flags)}.csv"
        command = [sys.executable, "-m", "molgen", "predict", "--model", str(run_dir), "--input"]
        subprocess.run([*command, str(tmp_path / "in.csv"), "--output", str(output), *flags], check=True)
        out = pd.read_csv(output, keep_default_na=False)
        assert ("train_similarity" in out.columns) is has_columns and ("in_domain" in out.columns) is has_columns
    out = pd.read_csv(tmp_path / "out0.csv", keep_default_na=False)
    assert out["train_similarity"].iloc[1] == "" and out["in_domain"].tolist() == [True, False, False]


@pytest.mark.slow
def test_screen_adds_the_domain_columns(run_dir: Path, tmp_path: Path) -> None:
    from molgen.screening import screen

    (tmp_path / "lib.smi").write_text(f"CCO a\nxyz b\n{FAR} c\n")
    screen([run_dir], tmp_path / "lib.smi", tmp_path / "on", workers=0)
    shards = pd.concat(pd.read_parquet(p) for p in sorted((tmp_path / "on" / "shards").glob("*.parquet")))
    assert shards["valid"].tolist() == [True, False, True]
    similarity = shards["train_similarity"].to_numpy()
    assert similarity[0] > 0 and np.isnan(similarity[1]) and similarity[2] < load_model(run_dir).domain.threshold
    assert shards["in_domain"].tolist() == [similarity[0] >= load_model(run_dir).domain.threshold, False, False]
    screen([run_dir], tmp_path / "lib.smi", tmp_path / "off", workers=0, domain=False)
    off = pd.read_parquet(next((tmp_path / "off" / "shards").glob("*.parquet")))
    assert "train_similarity" not in off.columns and "in_domain" not in off.columns


@pytest.mark.slow
def test_changed_fingerprints_are_refused(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(run_dir / "model", copy)
    data = bytearray((copy / FINGERPRINTS).read_bytes())
    data[-1] ^= 0xFF
    (copy / FINGERPRINTS).write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match="checksum"):
        load_model(copy)
    (copy / FINGERPRINTS).unlink()
    with pytest.raises(ModelFormatError, match="not found"):
        load_model(copy)


@pytest.mark.slow
def test_k_fold_domain_uses_each_folds_training_rows(tmp_path: Path) -> None:
    run = train(tmp_path, **{"data.n_folds": 2})
    folds = json.loads((run / "splits.json").read_text())["folds"]
    expected = np.concatenate(
        [rdkit_nearest([MOLECULES[i] for i in f["test"]], [MOLECULES[i] for i in f["train"]]) for f in folds]
    )
    spec = yaml.safe_load((run / "model" / "model.yaml").read_text())["applicability_domain"]
    assert spec["n_train"] == len(set(folds[0]["train"]) | set(folds[1]["train"]))
    assert spec["threshold"] == pytest.approx(np.percentile(expected, 5))
    oof = pd.read_csv(run / "predictions" / "test.csv")
    np.testing.assert_allclose(oof["train_similarity"], expected, atol=1e-12)


def test_a_model_without_fingerprints_predicts_without_domain_columns() -> None:
    model = load_model(FORMAT1_MODEL)
    assert model.domain is None
    out = predict_frame(model, pd.DataFrame({"smiles": ["CCO", "xyz"]}))
    assert "train_similarity" not in out.columns and out["valid"].tolist() == [True, False]
