"""The printed metrics table (``molgen train`` and the model card): pooled rows labelled, per-target rows."""

from __future__ import annotations

from molgen.training.model_card import count_targets, metrics_table


def test_pooled_rows_are_labelled_and_followed_by_each_target():
    metrics = {
        "val": {
            "rmse": 1.0,
            "rmse_std": 0.1,
            "rmse/logS": 0.5,
            "rmse/mw": 1.5,
            "r2": 0.2,
            "r2/logS": 0.3,
            "r2/mw": 0.1,
        },
        "test": {"rmse": 2.0, "rmse/logS": 1.0, "rmse/mw": 3.0, "r2": 0.1, "r2/logS": 0.1, "r2/mw": 0.1},
    }
    lines = metrics_table(metrics).splitlines()
    labels = [line.split("|")[1].strip() for line in lines[2:]]
    pooled = "(pooled: mean of 2 targets)"
    assert labels == [f"rmse {pooled}", "rmse/logS", "rmse/mw", f"r2 {pooled}", "r2/logS", "r2/mw"]
    assert "1.0000 ± 0.1000" in lines[2]


def test_many_targets_print_only_pooled_rows_and_say_where_the_rest_is():
    section = {"roc_auc": 0.7, **{f"roc_auc/task{i}": 0.7 for i in range(20)}}
    table = metrics_table({"test": section})
    assert table.count("\n| ") == 1  # the pooled row only
    assert "20 targets are in metrics.json" in table and "roc_auc (pooled: mean of 20 targets)" in table


def test_one_target_and_generator_tables_are_unchanged():
    assert metrics_table({"test": {"rmse": 1.0}}) == "| metric | test |\n|---|---|\n| rmse | 1.0000 |"
    assert "| valid | 0.9000 |" in metrics_table({"test": {"valid": 0.9, "unique@1000": 1.0}})
    assert count_targets({"rmse": 1.0, "rmse/x_std": 1.0, "rmse/x_std_std": 0.1}) == 1  # a target named x_std
