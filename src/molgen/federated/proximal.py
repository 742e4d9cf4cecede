"""FedProx's local objective (Li et al. 2020, https://arxiv.org/abs/1812.06127) on the supervised module."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from molgen.config import OptimConfig
from molgen.training.modules import SupervisedModule
from molgen.training.tasks import Task


class ProximalModule(SupervisedModule):
    """:class:`SupervisedModule` whose training loss adds ``mu / 2 · Σ ‖w − w₀‖²`` over the encoder's parameters,
    ``w₀`` being the global trunk the round started from (``mu = 0``: the plain loss, i.e. FedAvg)."""

    def __init__(self, encoder: nn.Module, head: nn.Module, task: Task, optim: OptimConfig, mu: float = 0.0) -> None:
        super().__init__(encoder, head, task, optim)
        self.mu = mu
        self._anchor = [p.detach().clone() for p in encoder.parameters()]

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss = super().training_step(batch, batch_idx)
        if self.mu > 0:
            distance = sum(((p - w0.to(p.device)) ** 2).sum() for p, w0 in zip(self.encoder.parameters(), self._anchor))
            loss = loss + 0.5 * self.mu * distance
        return loss
