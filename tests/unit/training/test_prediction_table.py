"""The one prediction table of the supervised families: one row per input row, invalid rows with reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from molgen.training.artifacts import ModelSpec
from molgen.training.prediction_tables import output_table


def _spec() -> ModelSpec:
    return ModelSpec.model_validate({"family": "property", "task": {"type": "regression", "targets": ["y"]}})


def test_a_non_finite_prediction_is_an_invalid_row_with_its_reason() -> None:
    frame = pd.DataFrame({"smiles": ["CCO", "xx", "CCN", "CCC"]})
    preds = np.array([[[1.0], [np.nan], [2.0]], [[1.5], [0.5], [np.inf]]])  # [M=2, N=3 valid rows, T=1]
    out = output_table(_spec(), frame, preds, np.array([0, 2, 3]), {1: "invalid SMILES: 'xx'"})
    assert len(out) == 4 and out["valid"].tolist() == [True, False, False, False]
    assert out["y"].iloc[0] == 1.25 and out["y"].iloc[1:].isna().all()
    assert out["invalid_reason"].iloc[1] == "invalid SMILES: 'xx'"
    assert out["invalid_reason"].iloc[2].startswith("non-finite prediction")
    assert out["invalid_reason"].iloc[3].startswith("non-finite prediction")


def test_no_valid_row_still_gives_one_row_per_input_row() -> None:
    frame = pd.DataFrame({"smiles": ["", "??"]})
    out = output_table(_spec(), frame, None, np.array([], dtype=np.int64), {0: "empty SMILES", 1: "bad"})
    assert out["valid"].tolist() == [False, False] and out["invalid_reason"].tolist() == ["empty SMILES", "bad"]
