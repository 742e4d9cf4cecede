"""molgen predict of a graph model: featurizing in worker processes while predicting gives the output of
featurizing first, then predicting (rows, order, invalid rows and reasons, columns, values)."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import pandas as pd
import pytest

from molgen.analysis.prediction import load_model, predict_file
from molgen.chem import domain as domain_module
from molgen.chem.featurize import chunks as chunks_module
from molgen.chem.featurize.graphs import FeaturizerSpec
from molgen.chem.similarity import ReferenceFingerprints
from molgen.families import property as property_family
from molgen.threads import beside_workers

MODEL = Path(__file__).resolve().parents[2] / "fixtures" / "models_format1" / "property"
MOLECULES = ["CCO", "c1ccccc1", "CC(=O)Oc1ccccc1C(=O)O", "c1ccc2[nH]ccc2c1", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "CCN(CC)CC"]


def _input_file(tmp_path: Path) -> Path:
    rows = [MOLECULES[i % len(MOLECULES)] + "C" * (i % 4) for i in range(37)]
    rows[5], rows[18], rows[30] = "xyz", "CC O", "C1CC"  # invalid: syntax, whitespace, unclosed ring
    path = tmp_path / "molecules.csv"
    path.write_text("smiles,name\n" + "".join(f"{s},m{i}\n" for i, s in enumerate(rows)) + ",blank\n")
    return path


def _model_with_domain():
    model = load_model(MODEL)
    model.members = [*model.members, *load_model(MODEL).members]  # an ensemble of two
    train = domain_module.molecule_fingerprints(MOLECULES[:3], FeaturizerSpec())
    model.domain = domain_module.Domain(ReferenceFingerprints(train), 0.3, domain_module.RADIUS, domain_module.N_BITS)
    return model


@pytest.mark.parametrize("caller_takes_chunks", [True, False])
def test_overlapped_prediction_equals_featurize_then_predict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, caller_takes_chunks: bool
):
    model, path = _model_with_domain(), _input_file(tmp_path)
    simple = predict_file(model, path, tmp_path / "simple.csv", n_jobs=1, batch_size=4)
    monkeypatch.setattr(property_family, "OVERLAP_MIN_ROWS", 10)
    monkeypatch.setattr(chunks_module, "CHUNK_SIZE", 7)  # 6 chunks; batches of 4 straddle chunk ends
    if not caller_takes_chunks:  # every chunk from the worker process
        featurize = functools.partial(chunks_module.featurize_chunks, caller_takes_chunks=False)
        monkeypatch.setattr(chunks_module, "featurize_chunks", featurize)
    with caplog.at_level(logging.INFO, logger="molgen"):
        overlapped = predict_file(model, path, tmp_path / "overlapped.csv", n_jobs=2, batch_size=4)
    assert "1 worker process(es) while predicting" in caplog.text
    assert overlapped.invalid == simple.invalid and len(simple.invalid) == 4
    expected, got = pd.read_csv(tmp_path / "simple.csv"), pd.read_csv(tmp_path / "overlapped.csv")
    assert list(got.columns) == list(expected.columns) and len(got) == 38
    assert {"y", "y_std", "train_similarity", "in_domain", "valid", "invalid_reason"} <= set(got.columns)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-6, atol=1e-7)
    assert got["valid"].tolist().count(False) == 4 and "whitespace inside SMILES" in got["invalid_reason"].iloc[18]


def test_small_inputs_and_fingerprint_models_featurize_first(monkeypatch: pytest.MonkeyPatch):
    graph_model = property_family._model_section(load_model(MODEL).spec.model or {})
    assert property_family.overlap_workers(-1, property_family.OVERLAP_MIN_ROWS - 1, graph_model, 0) == 0
    assert property_family.overlap_workers(1, 10**6, graph_model, 0) == 0
    assert property_family.overlap_workers(3, 10**6, graph_model, 0) == 2
    assert property_family.overlap_workers(3, 10**6, graph_model, 5) == 0  # MC dropout


def test_beside_workers_lowers_and_restores_torch_threads():
    import torch

    before = torch.get_num_threads()
    with beside_workers(before + 3) as threads:
        assert threads == torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
