"""molgen predict of a graph model: featurizing in worker processes while predicting gives the output of
featurizing first, then predicting (rows, order, invalid rows and reasons, columns, values)."""

from __future__ import annotations

import functools
import hashlib
import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from molgen.analysis import prediction as prediction_module
from molgen.analysis.prediction import load_model, predict_file, predict_model_file
from molgen.chem import domain as domain_module
from molgen.chem.featurize import chunks as chunks_module
from molgen.chem.featurize.graphs import FeaturizerSpec
from molgen.threads import beside_workers

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "models_format1" / "property"
MOLECULES = ["CCO", "c1ccccc1", "CC(=O)Oc1ccccc1C(=O)O", "c1ccc2[nH]ccc2c1", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "CCN(CC)CC"]


def _input_file(tmp_path: Path) -> Path:
    rows = [MOLECULES[i % len(MOLECULES)] + "C" * (i % 4) for i in range(37)]
    rows[5], rows[18], rows[30] = "xyz", "CC O", "C1CC"  # invalid: syntax, whitespace, unclosed ring
    path = tmp_path / "molecules.csv"
    path.write_text("smiles,name\n" + "".join(f"{s},m{i}\n" for i, s in enumerate(rows)) + ",blank\n")
    return path


def _model_folder(tmp_path: Path, kind: str = "dmpnn") -> Path:
    """The format-1 fixture as an ensemble of two members with an applicability domain; ``kind`` ``mc``: with MC
    dropout, ``fpmlp``: a fingerprint MLP (random weights, seeded) in place of the D-MPNN."""
    from safetensors.numpy import save_file as save_arrays
    from safetensors.torch import load_file, save_file

    folder = tmp_path / f"model-{kind}"
    shutil.copytree(FIXTURE, folder)
    spec = yaml.safe_load((folder / "model.yaml").read_text())
    spec["ensemble_size"] = 2
    spec["applicability_domain"] = {"radius": 2, "n_bits": 2048, "threshold": 0.3, "n_train": 3}
    if kind == "mc":
        spec["uncertainty"] = {"method": "dropout", "coverage": 0.9, "mc_samples": 3}
    if kind == "fpmlp":
        spec["model"] = {"name": "fpmlp", "hidden_dims": [16], "dropout": 0.0, "n_bits": 512, "ffn_layers": 1}
    (folder / "model.yaml").write_text(yaml.safe_dump(spec))
    if kind == "fpmlp":
        weights = {f"members.0.{key}": value for key, value in _random_member(folder).items()}
    else:
        weights = load_file(str(folder / "model.safetensors"))
    weights.update({key.replace("members.0.", "members.1."): value.clone() for key, value in weights.items()})
    save_file(weights, str(folder / "model.safetensors"))
    train = domain_module.molecule_fingerprints(MOLECULES[:3], FeaturizerSpec())
    save_arrays({"fingerprints": train}, str(folder / domain_module.FILE))
    spec["sha256"] = {domain_module.FILE: hashlib.sha256((folder / domain_module.FILE).read_bytes()).hexdigest()}
    (folder / "model.yaml").write_text(yaml.safe_dump(spec))
    return folder


def _random_member(folder: Path) -> dict:
    import torch

    from molgen.families import FAMILIES
    from molgen.training.artifacts import read_spec
    from molgen.training.tasks import build_task

    spec = read_spec(folder)
    task_spec = spec.section("task")
    task = build_task(task_spec.type, task_spec.targets, metrics=task_spec.metrics, state=task_spec.state())
    torch.manual_seed(0)
    return FAMILIES.get("property").build_from_spec(spec, task).state_dict()


@pytest.mark.parametrize(
    ("kind", "caller_takes_chunks"), [("dmpnn", True), ("dmpnn", False), ("mc", True), ("fpmlp", True)]
)
def test_overlapped_prediction_equals_featurize_then_predict(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    caller_takes_chunks: bool,
):
    folder, path = _model_folder(tmp_path, kind), _input_file(tmp_path)
    model = load_model(folder)
    assert len(model.members) == 2 and model.domain is not None
    simple = predict_file(model, path, tmp_path / "simple.csv", n_jobs=1, batch_size=4)
    monkeypatch.setattr(chunks_module, "OVERLAP_MIN_ROWS", 10)
    monkeypatch.setattr(chunks_module, "CHUNK_SIZE", 7)  # 6 chunks; batches of 4 straddle chunk ends
    if not caller_takes_chunks:  # every chunk from the worker process
        monkeypatch.setattr(
            chunks_module, "ChunksAhead", functools.partial(chunks_module.ChunksAhead, caller_takes_chunks=False)
        )
    calls: list[str] = []  # molgen predict's order: the workers start, then the model loads
    start, load = chunks_module.featurize_ahead, prediction_module.load_model
    monkeypatch.setattr(chunks_module, "featurize_ahead", lambda *a, **k: calls.append("ahead") or start(*a, **k))
    monkeypatch.setattr(prediction_module, "load_model", lambda *a: calls.append("load") or load(*a))
    with caplog.at_level(logging.INFO, logger="molgen"):
        overlapped = predict_model_file(folder, path, tmp_path / "overlapped.csv", n_jobs=2, batch_size=4)
    message = " while predicting" if kind == "dmpnn" else ", then predicting"
    assert calls == ["ahead", "load"] and f"1 worker process(es){message}" in caplog.text
    assert overlapped.invalid == simple.invalid and len(simple.invalid) == 4
    expected, got = pd.read_csv(tmp_path / "simple.csv"), pd.read_csv(tmp_path / "overlapped.csv")
    assert list(got.columns) == list(expected.columns) and len(got) == 38
    assert {"y", "y_std", "train_similarity", "in_domain", "valid", "invalid_reason"} <= set(got.columns)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-6, atol=1e-7)
    assert got["valid"].tolist().count(False) == 4 and "whitespace inside SMILES" in got["invalid_reason"].iloc[18]
    assert got["in_domain"].any() and not got["in_domain"].all()


def test_predict_frame_starts_the_workers_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from molgen.analysis.prediction import predict_frame

    model = load_model(_model_folder(tmp_path))
    frame = pd.DataFrame({"smiles": [*MOLECULES, "xyz", *MOLECULES]})
    expected = predict_frame(model, frame, n_jobs=1, batch_size=4)
    monkeypatch.setattr(chunks_module, "OVERLAP_MIN_ROWS", 10)
    monkeypatch.setattr(chunks_module, "CHUNK_SIZE", 5)
    got = predict_frame(model, frame, n_jobs=2, batch_size=4)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-6, atol=1e-7)
    no_domain = predict_frame(model, frame, n_jobs=2, batch_size=4, domain=False)
    assert "train_similarity" not in no_domain.columns
    pd.testing.assert_series_equal(no_domain["y"], expected["y"], check_exact=False, rtol=1e-6, atol=1e-7)


def test_beside_workers_lowers_and_restores_torch_threads():
    import torch

    before = torch.get_num_threads()
    with beside_workers(before + 3) as threads:
        assert threads.threads == torch.get_num_threads() == 1
        threads.restore()
        assert torch.get_num_threads() == before
    assert torch.get_num_threads() == before
