"""Class names travel with the task (model.yaml) and come out of prediction; prediction columns are named
after their targets, and an input column of that name is kept as ``<target>_input``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from molgen.errors import InvalidInputError
from molgen.training.artifacts import TaskSpec
from molgen.training.tasks import add_columns, build_task, prediction_columns


def test_classes_are_described_and_restored():
    task = build_task("binary", ["BBB"], classes={"BBB": ["BBB-", "BBB+"]}, train_targets=np.array([[0.0], [1.0]]))
    values = task.describe()
    assert values["classes"] == {"BBB": ["BBB-", "BBB+"]}
    again = build_task("binary", ["BBB"], state=TaskSpec.model_validate(values).state())
    assert again.classes == {"BBB": ["BBB-", "BBB+"]}
    assert "classes" not in build_task("binary", ["y"]).describe()  # numeric labels: as before
    multi = build_task("multiclass", ["kind"], classes={"kind": ["a", "b", "c"]})
    assert multi.n_classes == 3


def test_a_binary_task_needs_two_class_names():
    with pytest.raises(InvalidInputError, match=r"target 'x' has 3 class label\(s\) \(a, b, c\).*multiclass"):
        build_task("binary", ["x"], classes={"x": ["a", "b", "c"]})


def test_prediction_columns_write_class_names_and_probabilities():
    binary = prediction_columns(
        "binary", ["BBB"], np.array([[[0.9], [0.2]]]), np.array([0, 2]), 3, classes={"BBB": ["BBB-", "BBB+"]}
    )
    assert list(binary) == ["BBB", "BBB_prob_BBB-", "BBB_prob_BBB+"]
    assert binary["BBB"].tolist() == ["BBB+", None, "BBB-"]
    np.testing.assert_allclose(binary["BBB_prob_BBB+"], [0.9, np.nan, 0.2])
    probs = np.array([[[[0.1, 0.7, 0.2]], [[0.5, 0.3, 0.2]]]])
    multi = prediction_columns("multiclass", ["kind"], probs, np.array([0, 1]), 2, classes={"kind": ["a", "b", "c"]})
    assert list(multi) == ["kind", "kind_prob_a", "kind_prob_b", "kind_prob_c"] and multi["kind"].tolist() == ["b", "a"]
    numeric = prediction_columns("regression", ["y"], np.array([[[1.0]], [[3.0]]]), np.array([0]), 1)
    assert list(numeric) == ["y", "y_std"]  # named after the target even when the input has a column 'y'


def test_add_columns_keeps_a_clashing_input_column():
    frame = pd.DataFrame({"smiles": ["C"], "y": [1.0]})
    out = add_columns(frame, {"y": np.array([2.0]), "valid": np.array([True])})
    assert list(out.columns) == ["smiles", "y_input", "y", "valid"] and out["y_input"].tolist() == [1.0]
    assert list(frame.columns) == ["smiles", "y"]
