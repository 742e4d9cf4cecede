"""Uncertainty heads: output sizes, losses against hand / scipy values, state round trip, MC dropout."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from molgen.training.predictor import Predictor
from molgen.training.tasks import build_task
from molgen.training.uncertainty import EvidentialTask, MVETask, QuantileTask, dropout_on


def scaled_task(cls, **options):
    return cls(["y"], target_mean=[1.0], target_std=[2.0], **options)


def test_mve_loss_is_the_gaussian_nll_on_standardized_targets():
    task = scaled_task(MVETask)
    assert task.output_dim == 2
    outputs = torch.tensor([[0.5, math.log(0.25)]])  # scaled mean 0.5, variance 0.25
    y = torch.tensor([[3.0]])  # scaled: (3 − 1) / 2 = 1
    expected = 0.5 * (math.log(0.25) + (1 - 0.5) ** 2 / 0.25)
    assert task.loss(outputs, y).item() == pytest.approx(expected)
    dist = task.predict_dist(outputs)
    assert dist["mean"].item() == pytest.approx(0.5 * 2 + 1) and dist["var"].item() == pytest.approx(0.25 * 4)
    assert task.loss(outputs, torch.tensor([[float("nan")]])).item() == 0.0


def test_evidential_nll_is_the_student_t_marginal_and_var_is_total():
    task = scaled_task(EvidentialTask, evidential_weight=0.0)
    assert task.output_dim == 4
    outputs = torch.tensor([[0.3, 0.2, 0.7, -0.4]])
    gamma, nu, alpha, beta = (v.item() for v in task._nig(outputs))
    y_scaled = 0.9
    scale = math.sqrt(beta * (1 + nu) / (nu * alpha))
    expected = -stats.t.logpdf(y_scaled, df=2 * alpha, loc=gamma, scale=scale)
    assert task.loss(outputs, torch.tensor([[y_scaled * 2 + 1]])).item() == pytest.approx(expected, rel=1e-5)
    var = beta / (alpha - 1) * (1 + 1 / nu) * 4  # aleatoric + epistemic, user units²
    assert task.predict_dist(outputs)["var"].item() == pytest.approx(var, rel=1e-5)
    regularized = scaled_task(EvidentialTask, evidential_weight=0.5)
    extra = 0.5 * abs(y_scaled - gamma) * (2 * nu + alpha)
    assert regularized.loss(outputs, torch.tensor([[y_scaled * 2 + 1]])).item() == pytest.approx(
        expected + extra, rel=1e-5
    )


def test_quantile_head_pinball_loss_and_ordered_bounds():
    task = scaled_task(QuantileTask, coverage=0.8)
    assert task.output_dim == 3
    outputs = torch.tensor([[0.0, 0.5, -0.5]])  # a crossed pair: reported as [−0.5, 0.5]
    y = torch.tensor([[1.0 + 2.0 * 1.0]])  # scaled 1
    pinball = lambda q, pred: max(q * (1 - pred), (q - 1) * (1 - pred))  # noqa: E731
    expected = 1.0 + pinball(0.1, 0.5) + pinball(0.9, -0.5)
    assert task.loss(outputs, y).item() == pytest.approx(expected)
    dist = task.predict_dist(outputs)
    assert dist["lower"].item() == pytest.approx(0.0) and dist["upper"].item() == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("head", "cls", "option"), [("mve", MVETask, None), ("evidential", EvidentialTask, "evidential_weight"),
                                ("quantile", QuantileTask, "coverage")]
)  # fmt: skip
def test_build_task_round_trips_the_head_through_model_yaml_state(head, cls, option):
    train = np.array([[1.0], [3.0], [5.0]])
    task = build_task(
        "regression", ["y"], train_targets=train, head={"head": head, "evidential_weight": 0.3, "coverage": 0.8}
    )
    assert type(task) is cls and task.target_mean.item() == pytest.approx(3.0)
    state = task.describe()
    assert state["head"] == head
    again = build_task("regression", ["y"], state=state)
    assert type(again) is cls and again.target_std.item() == pytest.approx(task.target_std.item())
    if option:
        assert getattr(again, option) == pytest.approx(0.3 if option == "evidential_weight" else 0.8)
    with pytest.raises(ValueError, match="for regression, not binary"):
        build_task("binary", ["y"], head={"head": head})


def test_mve_learns_which_inputs_are_noisy():
    torch.manual_seed(0)
    x = torch.rand(500, 1) * 2 - 1
    y = 3 * x + torch.randn(500, 1) * (0.05 + x.abs())  # noise grows with |x|
    task = MVETask(["y"])
    model = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = torch.optim.Adam(model.parameters(), lr=2e-2)
    for _ in range(200):
        opt.zero_grad()
        task.loss(model(x), y).backward()
        opt.step()
    std = task.predict_dist(model(x))["var"].sqrt().detach().squeeze()
    true_std = 0.05 + x.abs().squeeze()
    assert stats.spearmanr(std.numpy(), true_std.numpy()).statistic > 0.9


class Batch:
    def __init__(self, x):
        self.x = x


class Encoder(nn.Module):
    out_dim = 8

    def __init__(self):
        super().__init__()
        self.linear, self.norm, self.drop = nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Dropout(0.5)

    def forward(self, batch):
        return self.drop(self.norm(self.linear(batch.x)))


def test_mc_dropout_samples_vary_and_leave_batch_norm_alone():
    torch.manual_seed(0)
    predictor = Predictor(Encoder(), nn.Linear(8, 1), build_task("regression", ["y"]))
    data = torch.randn(10, 3)
    collate = lambda rows: Batch(data[rows])  # noqa: E731
    running = predictor.encoder.norm.running_mean.clone()
    plain = predictor.predict_samples(collate, np.arange(10))
    assert plain["mean"].shape == (1, 10, 1)
    assert torch.equal(plain["mean"][0], predictor.predict_rows(collate, np.arange(10)))
    mc = predictor.predict_samples(collate, np.arange(10), mc_samples=7)
    assert mc["mean"].shape == (7, 10, 1) and mc["mean"].std(0).min() > 0
    assert torch.equal(predictor.predict_samples(collate, np.arange(10), mc_samples=7)["mean"], mc["mean"])
    assert torch.equal(predictor.encoder.norm.running_mean, running) and not predictor.training
    with dropout_on(predictor):
        assert predictor.encoder.drop.training and not predictor.encoder.norm.training
