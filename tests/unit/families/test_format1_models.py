"""Model folders written by molgen before model.yaml had ``format_version`` (format 1) still load and predict.

The folders under ``tests/fixtures/models_format1`` were exported by ``molgen train`` at commit 1ca56e1
(a 1-epoch dmpnn on 30 molecules, a 1-epoch cnn on 30 random 20-nt sequences); the expected numbers
are what that version predicted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from molgen.analysis.prediction import load_model, predict_frame

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models_format1"


def test_property_model_of_format_1_predicts_as_before() -> None:
    model = load_model(FIXTURES / "property")
    out = predict_frame(model, pd.DataFrame({"smiles": ["CCO", "c1ccccc1", "not a smiles"]}))
    assert model.targets == ["y"]
    np.testing.assert_allclose(out["y"].to_numpy()[:2], [0.530738115310669, 0.5280528664588928], rtol=1e-5)
    assert np.isnan(out["y"].iloc[2])
    assert out["valid"].tolist() == [True, True, False]
    assert "SMILES" in out["invalid_reason"].iloc[2]


def test_expression_model_of_format_1_predicts_as_before() -> None:
    model = load_model(FIXTURES / "expression")
    out = predict_frame(model, pd.DataFrame({"sequence": ["ACGTACGTACGTACGTACGT", "ACGT", "ACGTXX"]}))
    np.testing.assert_allclose(out["y"].to_numpy()[:2], [0.5047909617424011, 0.4892255961894989], rtol=1e-5)
    assert out["valid"].tolist() == [True, True, False]
    assert "'X' at position 5" in out["invalid_reason"].iloc[2]


def test_format_1_spec_is_read_as_format_2() -> None:
    model = load_model(FIXTURES / "expression")
    assert model.spec.format_version == 2 and model.spec.family == "expression"
    assert model.spec.input is not None and model.spec.input.length == 20
