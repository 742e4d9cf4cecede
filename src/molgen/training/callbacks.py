"""Lightning callbacks shared by the families."""

from __future__ import annotations

import time
from typing import Any

import lightning.pytorch as L


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
