"""Optimizer and learning-rate schedule shared by every model family."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch

from molgen.config import OptimConfig

SCHEDULERS = ("noam", "constant")


def noam_lambda(step: int, *, warmup_steps: int, total_steps: int, init_ratio: float, final_ratio: float) -> float:
    """Chemprop's schedule as a multiplier of the peak rate: linear warm-up from ``init_ratio`` to 1 over
    ``warmup_steps``, then exponential decay to ``final_ratio`` at ``total_steps``."""
    if step < warmup_steps:
        return init_ratio + (1.0 - init_ratio) * step / max(warmup_steps, 1)
    decay_steps = max(total_steps - warmup_steps, 1)
    progress = min(step - warmup_steps, decay_steps) / decay_steps
    return math.exp(math.log(final_ratio) * progress)


def encoder_param_groups(module: torch.nn.Module, encoder: torch.nn.Module, cfg: OptimConfig) -> list[dict[str, Any]]:
    """Adam parameter groups: the encoder's trainable parameters at ``lr * encoder_lr_ratio``, the others at ``lr``
    (frozen parameters, ``requires_grad=False``, and a ratio of 0 leave the encoder out). The schedule scales both
    groups alike. Ratio 1 with nothing frozen: one group of every parameter."""
    if cfg.encoder_lr_ratio == 1.0 and all(p.requires_grad for p in module.parameters()):
        return [{"params": list(module.parameters())}]  # one group, as before the ratio existed (resumable)
    own = {id(p) for p in encoder.parameters()}
    rest = [p for p in module.parameters() if id(p) not in own and p.requires_grad]
    trainable = [p for p in encoder.parameters() if p.requires_grad]
    groups: list[dict[str, Any]] = [{"params": rest}]
    if trainable and cfg.encoder_lr_ratio > 0:
        groups.append({"params": trainable, "lr": cfg.lr * cfg.encoder_lr_ratio})
    return groups


def build_optimizer(
    parameters: Iterable[torch.nn.Parameter] | Iterable[dict[str, Any]],
    cfg: OptimConfig,
    steps_per_epoch: float,
    max_epochs: int,
) -> dict[str, Any]:
    """Adam (over parameters or parameter groups) plus a per-step schedule, in the form Lightning's
    ``configure_optimizers`` returns."""
    if cfg.scheduler not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {cfg.scheduler!r}; valid names: {', '.join(SCHEDULERS)}")
    optimizer = torch.optim.Adam(parameters, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.scheduler == "constant":
        return {"optimizer": optimizer}
    steps_per_epoch = max(math.ceil(steps_per_epoch), 1)
    warmup = int(cfg.warmup_epochs * steps_per_epoch)
    total = max_epochs * steps_per_epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: noam_lambda(
            step, warmup_steps=warmup, total_steps=total, init_ratio=cfg.init_lr_ratio, final_ratio=cfg.final_lr_ratio
        ),
    )
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
