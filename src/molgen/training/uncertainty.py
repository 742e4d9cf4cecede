"""Uncertainty heads as regression tasks, and sampling predictions with dropout kept on.

Each task owns its raw outputs and loss, so :class:`~molgen.training.modules.SupervisedModule` trains them like
any other task; :meth:`~molgen.training.tasks.Task.predict` gives the mean in user units and ``predict_dist`` adds:

- :class:`MVETask` (mean-variance estimation, Nix & Weigend 1994): outputs ``[B, 2T]`` (mean, log-variance),
  Gaussian NLL; ``var`` = the predicted variance.
- :class:`EvidentialTask` (deep evidential regression, Amini et al. 2020): outputs ``[B, 4T]`` → the
  Normal-Inverse-Gamma parameters γ, ν > 0, α > 1, β > 0; loss = NIG NLL + ``weight`` · |y − γ| · (2ν + α);
  ``var`` = aleatoric β/(α−1) + epistemic β/(ν(α−1)) (the total variance).
- :class:`QuantileTask` (for conformalized quantile regression): outputs ``[B, 3T]`` (mean, lower and upper
  quantile at ``(1−coverage)/2`` and ``(1+coverage)/2``), squared error + pinball losses; adds ``lower``/``upper``.

All losses are computed on standardized targets (as :class:`RegressionTask` does); variances are returned in
user units squared.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from molgen.training.tasks import RegressionTask, masked_mean

HEADS = ("mve", "evidential", "quantile")


class MVETask(RegressionTask):
    """Gaussian mean and log-variance per target (see the module docstring)."""

    head = "mve"

    @property
    def output_dim(self) -> int:
        return 2 * self.n_targets

    def _split(self, outputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = outputs.float().split(self.n_targets, dim=1)
        return mean, log_var.clamp(-20.0, 20.0)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        mask = ~torch.isnan(targets)
        mean, log_var = self._split(outputs)
        scaled = (torch.nan_to_num(targets) - self.target_mean) / self.target_std
        return masked_mean(0.5 * (log_var + (scaled - mean) ** 2 / log_var.exp()), mask)

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return self._split(outputs)[0] * self.target_std + self.target_mean

    def predict_dist(self, outputs: torch.Tensor) -> dict[str, torch.Tensor]:
        mean, log_var = self._split(outputs)
        return {"mean": mean * self.target_std + self.target_mean, "var": log_var.exp() * self.target_std**2}


class EvidentialTask(RegressionTask):
    """Normal-Inverse-Gamma evidential regression (see the module docstring).

    Args:
        evidential_weight: λ, the coefficient of the evidence regularizer |y − γ| · (2ν + α).
    """

    head = "evidential"

    def __init__(self, *args: Any, evidential_weight: float = 0.2, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.evidential_weight = float(evidential_weight)

    @property
    def output_dim(self) -> int:
        return 4 * self.n_targets

    def _nig(self, outputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        gamma, nu, alpha, beta = outputs.float().split(self.n_targets, dim=1)
        return gamma, F.softplus(nu) + 1e-6, F.softplus(alpha) + 1.0 + 1e-6, F.softplus(beta) + 1e-6

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        mask = ~torch.isnan(targets)
        gamma, nu, alpha, beta = self._nig(outputs)
        y = (torch.nan_to_num(targets) - self.target_mean) / self.target_std
        omega = 2 * beta * (1 + nu)
        nll = (
            0.5 * torch.log(math.pi / nu)
            - alpha * torch.log(omega)
            + (alpha + 0.5) * torch.log(nu * (y - gamma) ** 2 + omega)
            + torch.lgamma(alpha)
            - torch.lgamma(alpha + 0.5)
        )
        regularizer = (y - gamma).abs() * (2 * nu + alpha)
        return masked_mean(nll + self.evidential_weight * regularizer, mask)

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return self._nig(outputs)[0] * self.target_std + self.target_mean

    def predict_dist(self, outputs: torch.Tensor) -> dict[str, torch.Tensor]:
        gamma, nu, alpha, beta = self._nig(outputs)
        var = beta / (alpha - 1) * (1 + 1 / nu)  # aleatoric + epistemic
        return {"mean": gamma * self.target_std + self.target_mean, "var": var * self.target_std**2}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "evidential_weight": self.evidential_weight}


class QuantileTask(RegressionTask):
    """Mean (squared error) plus the ``(1−coverage)/2`` and ``(1+coverage)/2`` quantiles (pinball loss)."""

    head = "quantile"

    def __init__(self, *args: Any, coverage: float = 0.9, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.coverage = float(coverage)

    @property
    def output_dim(self) -> int:
        return 3 * self.n_targets

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        mask = ~torch.isnan(targets)
        mean, lower, upper = outputs.float().split(self.n_targets, dim=1)
        y = (torch.nan_to_num(targets) - self.target_mean) / self.target_std
        loss = (mean - y) ** 2
        for quantile, pred in ((0.5 - self.coverage / 2, lower), (0.5 + self.coverage / 2, upper)):
            diff = y - pred
            loss = loss + torch.maximum(quantile * diff, (quantile - 1) * diff)
        return masked_mean(loss, mask)

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs.float()[:, : self.n_targets] * self.target_std + self.target_mean

    def predict_dist(self, outputs: torch.Tensor) -> dict[str, torch.Tensor]:
        mean, lower, upper = (o * self.target_std + self.target_mean for o in outputs.float().split(self.n_targets, 1))
        return {"mean": mean, "lower": torch.minimum(lower, upper), "upper": torch.maximum(lower, upper)}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "coverage": self.coverage}


def regression_head_task(
    head: str, target_names: Sequence[str], state: dict[str, Any], **kwargs: Any
) -> RegressionTask:
    """The task of an uncertainty ``head`` (``mve`` | ``evidential`` | ``quantile``); ``state`` holds its options
    (``evidential_weight``, ``coverage``) and ``kwargs`` the regression scaling."""
    if head == "mve":
        return MVETask(target_names, **kwargs)
    if head == "evidential":
        return EvidentialTask(target_names, evidential_weight=state.get("evidential_weight", 0.2), **kwargs)
    if head == "quantile":
        return QuantileTask(target_names, coverage=state.get("coverage", 0.9), **kwargs)
    raise ValueError(f"unknown uncertainty head {head!r}; valid: {', '.join(HEADS)}")


@contextmanager
def dropout_on(model: nn.Module) -> Iterator[None]:
    """Model in train mode (dropout active) with every batch norm kept in eval mode; restored afterwards."""
    was_training = model.training
    model.train()
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()
    try:
        yield
    finally:
        model.train(was_training)
