"""`molgen serve --precision`: bfloat16 predictions for molecule models, float32 for the others."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import MOLECULES

from molgen.analysis.prediction import predict_frame
from molgen.errors import ConfigError
from molgen.serving.models import load_served, predict_items
from molgen.serving.settings import build_settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models_format1"


def test_a_bf16_served_molecule_model_answers_as_molgen_predict_with_bf16():
    served = load_served("esol", FIXTURES / "property", precision="bf16-mixed")
    assert served.precision == "bf16-mixed"
    smiles = [*MOLECULES[:20], "C1CC"]
    items = predict_items(served, smiles)
    local = predict_frame(served.predictor, pd.DataFrame({"smiles": smiles}), n_jobs=1, precision="bf16-mixed")
    assert [item["valid"] for item in items] == local["valid"].tolist() and not items[-1]["valid"]
    got = np.array([np.nan if item["y"] is None else item["y"] for item in items])
    np.testing.assert_allclose(got, local["y"].to_numpy(), rtol=1e-6, equal_nan=True)
    float32 = predict_items(load_served("esol", FIXTURES / "property"), smiles)
    assert any(a["y"] != b["y"] for a, b in zip(items, float32) if a["valid"])  # it did compute in bfloat16


def test_other_models_are_served_in_float32_and_a_bad_precision_is_refused():
    assert load_served("dna", FIXTURES / "expression", precision="bf16-mixed").precision == "32"
    with pytest.raises(ConfigError, match="--precision"):
        build_settings(models={"esol": str(FIXTURES / "property")}, precision="16")
