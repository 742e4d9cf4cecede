"""``SupervisedModule`` on a tiny real batch: step outputs and shapes, NaN-label masking, gradients."""

import numpy as np
import pytest
import torch
from tests.unit.training.helpers import make_datamodule, make_module

from molgen.training.modules import SupervisedModule

# the steps are called outside a Trainer here, where self.log only warns
pytestmark = pytest.mark.filterwarnings("ignore:You are trying to `self.log\\(\\)`:UserWarning")


def _first_batch(tiny, stage="train"):
    dm = make_datamodule(tiny)
    loader = dm.train_dataloader() if stage == "train" else dm.val_dataloader()
    return next(iter(loader))


@pytest.mark.parametrize("task_type, out_dim", [("regression", 2), ("binary", 2)])
def test_forward_step_and_predict_shapes(tiny, task_type, out_dim):
    torch.manual_seed(0)
    module = make_module(tiny, task_type)
    batch = _first_batch(tiny)
    assert batch.y.shape == (8, 2)
    outputs = module(batch)
    assert outputs.shape == (8, out_dim) and outputs.dtype == torch.float32
    loss = module.training_step(batch, 0)
    assert loss.ndim == 0 and torch.isfinite(loss) and loss.requires_grad
    preds = module.predict_step(batch, 0)
    assert preds.shape == (8, 2)
    if task_type == "binary":
        assert ((preds > 0) & (preds < 1)).all()


def test_validation_step_collects_predictions_and_scores_them(tiny):
    torch.manual_seed(0)
    module = make_module(tiny)
    module.eval()
    dm = make_datamodule(tiny)
    with torch.no_grad():
        for i, batch in enumerate(dm.val_dataloader()):
            assert module.validation_step(batch, i) is None
    preds, targets = module.collectors["val"].compute()
    assert preds.shape == targets.shape == (8, 2)
    module._log_metrics("val")
    assert "rmse" in module.results["val"] and np.isfinite(module.results["val"]["rmse"])
    assert not module.collectors["val"].update_called  # reset for the next epoch


def test_loss_ignores_nan_targets_and_gradients_stay_finite(tiny):
    torch.manual_seed(0)
    module = make_module(tiny)
    batch = _first_batch(tiny)
    labels = batch.y.clone()
    labels[:, 1] = float("nan")  # the second target unlabelled everywhere
    labels[0, 0] = float("nan")
    batch.y = labels
    loss = module.training_step(batch, 0)
    loss.backward()
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)

    # the loss is the mean over labelled entries only: changing an unlabelled output changes nothing
    with torch.no_grad():
        outputs = module(batch)
        moved = outputs.clone()
        moved[:, 1] += 100.0
        moved[0, 0] -= 50.0
        assert module.task.loss(moved, labels) == pytest.approx(module.task.loss(outputs, labels).item())
        scaled = (labels[1:, 0] - module.task.target_mean[0]) / module.task.target_std[0]
        expected = ((outputs[1:, 0] - scaled) ** 2).mean()
        assert module.task.loss(outputs, labels).item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("task_type", ["regression", "binary"])
def test_all_nan_batch_gives_zero_loss_and_zero_gradients(tiny, task_type):
    torch.manual_seed(0)
    module: SupervisedModule = make_module(tiny, task_type)
    batch = _first_batch(tiny)
    batch.y = torch.full_like(batch.y, float("nan"))
    loss = module.training_step(batch, 0)
    assert loss.item() == 0.0
    loss.backward()
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() and (g == 0).all() for g in grads)
