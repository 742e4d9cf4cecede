import numpy as np
import pytest
import torch

from molgen.training.tasks import BinaryTask, MulticlassTask, RegressionTask, build_task


def test_regression_scaling_roundtrip_and_loss_on_scaled_targets():
    targets = np.array([[1.0, 10.0], [3.0, np.nan], [5.0, 30.0]], dtype=np.float32)
    task = build_task("regression", ["a", "b"], train_targets=targets)
    assert isinstance(task, RegressionTask)
    assert task.target_mean.tolist() == pytest.approx([3.0, 20.0])
    scaled = (torch.as_tensor(np.nan_to_num(targets)) - task.target_mean) / task.target_std
    assert task.loss(scaled, torch.as_tensor(targets)).item() == pytest.approx(0.0, abs=1e-6)
    assert task.predict(scaled)[0].tolist() == pytest.approx([1.0, 10.0])


def test_all_nan_batch_gives_finite_zero_loss_with_gradient():
    for task in (RegressionTask(["a"]), BinaryTask(["a", "b"]), MulticlassTask(["a"], n_classes=3)):
        outputs = torch.randn(4, task.output_dim, requires_grad=True)
        loss = task.loss(outputs, torch.full((4, task.n_targets), float("nan")))
        assert torch.isfinite(loss) and loss.item() == 0.0
        loss.backward()
        assert outputs.grad is not None


def test_binary_loss_ignores_missing_labels():
    task = BinaryTask(["a", "b"])
    outputs = torch.tensor([[10.0, -123.0]])
    with_nan = task.loss(outputs, torch.tensor([[1.0, float("nan")]]))
    assert with_nan.item() == pytest.approx(torch.nn.functional.softplus(torch.tensor(-10.0)).item(), rel=1e-4)
    assert task.kind == "multilabel"


def test_multiclass_shapes_and_n_classes_inferred():
    task = build_task("multiclass", ["c"], train_targets=np.array([[0.0], [2.0], [1.0]]))
    assert task.n_classes == 3 and task.output_dim == 3
    probs = task.predict(torch.zeros(2, 3))
    assert probs.shape == (2, 1, 3) and torch.allclose(probs.sum(-1), torch.ones(2, 1))


def test_continuous_labels_refused_for_classification():
    with pytest.raises(ValueError, match="target 'y' has label.*--task-type regression"):
        build_task("binary", ["y"], train_targets=np.array([[0.5], [1.0]]))


def test_unknown_task_type_lists_valid():
    with pytest.raises(ValueError, match="valid types: regression, binary, multilabel, multiclass"):
        build_task("ranking", ["y"])
