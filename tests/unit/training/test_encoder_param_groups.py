"""``optim.encoder_lr_ratio`` / ``freeze_encoder``: the encoder's own Adam parameter group, a frozen encoder in none."""

from __future__ import annotations

import torch
from torch import nn

from molgen.config import OptimConfig
from molgen.training.optim import build_optimizer, encoder_param_groups


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
        self.head = nn.Linear(4, 1)


def test_the_encoder_trains_at_its_own_rate_and_a_frozen_one_not_at_all() -> None:
    model = Model()
    one = encoder_param_groups(model, model.encoder, OptimConfig(lr=1e-3))
    assert len(one) == 1 and len(one[0]["params"]) == 6  # ratio 1: one group, as before
    groups = encoder_param_groups(model, model.encoder, OptimConfig(lr=1e-3, encoder_lr_ratio=0.1))
    optimizer = build_optimizer(groups, OptimConfig(lr=1e-3, encoder_lr_ratio=0.1, scheduler="constant"), 1, 1)
    lrs = {id(p): g["lr"] for g in optimizer["optimizer"].param_groups for p in g["params"]}
    assert all(abs(lrs[id(p)] - 1e-4) < 1e-12 for p in model.encoder.parameters())
    assert all(lrs[id(p)] == 1e-3 for p in model.head.parameters())
    model.encoder.requires_grad_(False)
    frozen = encoder_param_groups(model, model.encoder, OptimConfig(freeze_encoder=True))
    kept = {id(p) for g in frozen for p in g["params"]}
    assert kept == {id(p) for p in model.head.parameters()}


def test_a_frozen_encoder_stays_in_eval_mode_while_the_module_trains() -> None:
    from molgen.training.modules import SupervisedModule
    from molgen.training.tasks import build_task

    model = Model()
    model.encoder.requires_grad_(False)
    task = build_task("regression", ["y"], train_targets=torch.zeros(4, 1).numpy())
    module = SupervisedModule(model.encoder, model.head, task, OptimConfig())
    module.train()
    assert module.training and module.head.training and not model.encoder.training
    before = model.encoder[1].running_mean.clone()
    module(torch.randn(8, 3) + 5)
    assert torch.equal(model.encoder[1].running_mean, before)  # batch-norm statistics unchanged
