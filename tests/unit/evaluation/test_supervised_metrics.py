import math

import pytest
import torch

from molgen.evaluation.supervised import compute_metrics, higher_is_better, record_skipped, resolve_metrics
from molgen.registry import UnknownNameError


def test_regression_metrics_match_hand_computation():
    preds = torch.tensor([[1.0], [2.0], [4.0]])
    targets = torch.tensor([[1.0], [3.0], [3.0]])
    out = compute_metrics(resolve_metrics("regression", ["rmse", "mae"]), preds, targets, target_names=["y"])
    assert out["rmse"] == pytest.approx(math.sqrt(2 / 3))
    assert out["mae"] == pytest.approx(2 / 3)


def test_nan_labels_are_masked_per_target_and_averaged():
    preds = torch.tensor([[0.9, 0.2], [0.1, 0.8], [0.8, 0.3], [0.3, 0.6]])
    targets = torch.tensor([[1.0, float("nan")], [0.0, 1.0], [1.0, 0.0], [0.0, float("nan")]])
    out = compute_metrics(resolve_metrics("binary", ["roc_auc"]), preds, targets, target_names=["a", "b"])
    assert out["roc_auc"] == pytest.approx(1.0)


def test_single_class_target_is_skipped_with_warning():
    preds = torch.tensor([[0.9, 0.9], [0.1, 0.8], [0.8, 0.7]])
    targets = torch.tensor([[1.0, 1.0], [0.0, 1.0], [1.0, 1.0]])
    with pytest.warns(UserWarning, match="roc_auc skipped for target 'b' in the test split: only class 1"):
        out = compute_metrics(
            resolve_metrics("multilabel", ["roc_auc"]), preds, targets, target_names=["a", "b"], split="test"
        )
    assert out["roc_auc"] == pytest.approx(1.0)


def test_all_targets_unscorable_gives_nan_not_crash():
    with pytest.warns(UserWarning):
        out = compute_metrics(
            resolve_metrics("binary", ["roc_auc"]), torch.rand(4, 1), torch.ones(4, 1), target_names=["y"]
        )
    assert math.isnan(out["roc_auc"])


def test_multiclass_metrics():
    probs = torch.tensor([[[0.8, 0.1, 0.1]], [[0.1, 0.8, 0.1]], [[0.1, 0.1, 0.8]], [[0.7, 0.2, 0.1]]])
    labels = torch.tensor([[0.0], [1.0], [2.0], [1.0]])
    out = compute_metrics(resolve_metrics("multiclass", None), probs, labels, target_names=["c"], n_classes=3)
    assert out["accuracy"] == pytest.approx(0.75)


def test_unknown_metric_lists_valid_names():
    with pytest.raises(UnknownNameError, match="valid names: mae, mse, pearson, r2, rmse, spearman"):
        resolve_metrics("regression", ["roc_auc"])


def test_directions():
    assert not higher_is_better("regression", "rmse")
    assert higher_is_better("binary", "roc_auc")


def test_skipped_metrics_are_recorded_with_the_reason():
    preds = torch.tensor([[0.9, 0.9], [0.1, 0.8], [0.8, 0.7]])
    targets = torch.tensor([[1.0, 1.0], [0.0, 1.0], [1.0, 1.0]])
    metrics = resolve_metrics("multilabel", ["roc_auc"])
    with record_skipped() as skipped, pytest.warns(UserWarning):
        for _ in range(2):  # every epoch skips again: recorded once
            compute_metrics(metrics, preds, targets, target_names=["a", "b"], split="test")
    assert skipped == {"test": ["roc_auc for target 'b': only class 1 present"]}
    with pytest.warns(UserWarning):
        compute_metrics(metrics, preds, targets, target_names=["a", "b"], split="test")
    assert len(skipped["test"]) == 1  # outside the block nothing is recorded


def test_several_targets_get_per_target_values_and_the_pooled_mean():
    preds = torch.tensor([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0]])
    targets = torch.tensor([[1.0, 10.0], [3.0, float("nan")], [3.0, 50.0]])
    out = compute_metrics(resolve_metrics("regression", ["mae"]), preds, targets, target_names=["logS", "mw"])
    assert out["mae/logS"] == pytest.approx(2 / 3) and out["mae/mw"] == pytest.approx(5.0)  # NaN label masked
    assert out["mae"] == pytest.approx((2 / 3 + 5.0) / 2)


def test_multilabel_per_target_auc_and_nan_for_an_unscorable_target():
    preds = torch.tensor([[0.9, 0.9, 0.2], [0.1, 0.8, 0.6], [0.8, 0.7, 0.3], [0.3, 0.6, 0.9]])
    targets = torch.tensor([[1.0, 1.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]])
    with pytest.warns(UserWarning, match="target 'b'"):
        out = compute_metrics(resolve_metrics("multilabel", ["roc_auc"]), preds, targets, target_names=["a", "b", "c"])
    assert out["roc_auc/a"] == pytest.approx(1.0) and out["roc_auc/c"] == pytest.approx(0.0)
    assert math.isnan(out["roc_auc/b"]) and out["roc_auc"] == pytest.approx(0.5)  # pooled over a and c


def test_one_target_has_no_per_target_keys():
    out = compute_metrics(
        resolve_metrics("regression", ["rmse"]), torch.rand(4, 1), torch.rand(4, 1), target_names=["y"]
    )
    assert set(out) == {"rmse"}
