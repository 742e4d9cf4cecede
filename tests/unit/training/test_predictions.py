"""The prediction tables of a run (predictions/test.csv, oof.csv)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from molgen.training.prediction_tables import FoldPredictions, kept_table, write_predictions


def test_test_table_has_rows_inputs_truth_prediction_and_member_std(tmp_path):
    preds = np.array([[[1.0, 0.0], [3.0, 0.0]], [[3.0, 2.0], [5.0, 2.0]]])  # 2 members, 2 rows, 2 targets
    table = kept_table(
        [FoldPredictions(np.array([1, 2]), preds)],
        rows=np.array([0, 4, 7]),
        targets=np.array([[0.0, 0.0], [1.0, np.nan], [2.0, 3.0]]),
        target_names=["y", "z"],
        task_type="regression",
        inputs=("smiles", ["C", "CC", "CCC"]),
    )
    assert list(table.columns) == ["row", "smiles", "y", "y_pred", "y_std", "z", "z_pred", "z_std"]
    assert table["row"].tolist() == [4, 7] and table["smiles"].tolist() == ["CC", "CCC"]
    assert table["y_pred"].tolist() == [2.0, 4.0] and table["y_std"].tolist() == [1.0, 1.0]
    assert np.isnan(table["z"].iloc[0]) and table["z"].iloc[1] == 3.0
    write_predictions(tmp_path, table, k_fold=False)
    assert pd.read_csv(tmp_path / "test.csv").shape == (2, 8) and not (tmp_path / "oof.csv").exists()


def test_folds_give_an_oof_table_sorted_by_row_and_multiclass_probabilities(tmp_path):
    probs = np.array([[[[0.2, 0.8]], [[0.9, 0.1]]]])  # 1 member, 2 rows, 1 target, 2 classes
    folds = [FoldPredictions(np.array([1, 2]), probs), FoldPredictions(np.array([0]), probs[:, :1])]
    table = kept_table(
        folds, rows=np.arange(3), targets=np.array([[1.0], [1.0], [0.0]]), target_names=["c"], task_type="multiclass"
    )
    assert list(table.columns) == ["row", "fold", "c", "c_pred", "c_prob_0", "c_prob_1"]
    assert table["fold"].tolist() == [0, 0, 1] and table["c_pred"].tolist() == [1, 0, 1]
    write_predictions(tmp_path, table, k_fold=True)
    oof = pd.read_csv(tmp_path / "oof.csv")
    assert oof["row"].tolist() == [0, 1, 2] and oof["fold"].tolist() == [1, 0, 0]
