"""Missing targets: counted per split part, unlabelled rows left out, untrainable targets refused."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from molgen.data.labels import check_and_split
from molgen.data.splits import Split
from molgen.errors import InvalidInputError

NAN = np.nan


def _check(targets, splits, names=("a", "b")):
    return check_and_split(
        np.asarray(targets, dtype=np.float32), list(names), splits, source="x.csv", describe_row=lambda i: f"row {i}"
    )


def test_unlabelled_rows_leave_the_splits_and_gaps_are_counted_per_part(caplog):
    targets = [[1, 2], [NAN, 3], [NAN, NAN], [4, NAN], [5, 6], [NAN, NAN]]
    with caplog.at_level(logging.INFO, logger="molgen"):
        labels = _check(targets, [Split([0, 1, 2], [3, 5], [4])])
    split = labels.splits[0]
    assert split.train.tolist() == [0, 1] and split.val.tolist() == [3] and split.test.tolist() == [4]
    assert labels.unlabelled.tolist() == [2, 5]
    assert labels.missing == {
        "rows_without_targets": 2,
        "train": {"a": 1, "b": 0},
        "val": {"a": 0, "b": 1},
        "test": {"a": 0, "b": 0},
    }
    assert "2 row(s) of x.csv have no target value" in caplog.text and "row 2, row 5" in caplog.text
    assert "train: a 1; val: b 1" in caplog.text


def test_folds_are_counted_one_by_one():
    targets = [[1, NAN], [2, 2], [3, 3], [4, 4]]
    labels = _check(targets, [Split([1, 2], [], [0, 3]), Split([0, 3], [], [1, 2])])
    assert labels.missing["folds"][0]["test"] == {"a": 0, "b": 1}
    assert labels.missing["folds"][1]["train"] == {"a": 0, "b": 1}


def test_an_all_empty_target_column_is_refused_by_name():
    with pytest.raises(InvalidInputError, match=r"x.csv: target column\(s\) 'b' have no value in any of the 3"):
        _check([[1, NAN], [2, NAN], [3, NAN]], [Split([0, 1], [], [2])])


def test_a_target_without_labelled_training_rows_is_refused():
    with pytest.raises(InvalidInputError, match=r"'b' have no labelled row in fold 1's training split"):
        _check([[1, 1], [2, NAN], [3, NAN]], [Split([0, 1], [], [2]), Split([1, 2], [], [0])])
