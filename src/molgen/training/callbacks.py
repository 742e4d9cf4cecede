"""Lightning callbacks shared by the families."""

from __future__ import annotations

import time
from typing import Any

import lightning.pytorch as L
import torch

from molgen.errors import TrainingDivergedError


class Throughput(L.Callback):
    """Training rows per second (``rows / seconds``), timed from the start of each training epoch to its
    last batch."""

    def __init__(self) -> None:
        self.seconds, self.rows, self._start = 0.0, 0, 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: L.Trainer, module: L.LightningModule, outputs: Any, batch: Any, i: int
    ) -> None:
        self.rows += len(batch)
        now = time.perf_counter()
        self.seconds += now - self._start
        self._start = now


class StopOnNonFiniteLoss(L.Callback):
    """Stops a fit whose epoch training loss (``train/loss``) is NaN or infinite with a
    :class:`~molgen.errors.TrainingDivergedError` naming the epoch, instead of training on to NaN metrics.

    Checked once per epoch on the logged mean, so it adds no per-step device synchronization."""

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        loss = trainer.callback_metrics.get("train/loss")
        if loss is None or bool(torch.isfinite(loss).all()):
            return
        raise TrainingDivergedError(
            f"training diverged: the training loss is {float(loss)} in epoch {trainer.current_epoch} (of "
            f"{trainer.max_epochs}); lower the learning rate (--lr, optim.max_lr), check the targets and "
            "descriptor columns for extreme or infinite values, or train in 32-bit (--precision 32)"
        )
