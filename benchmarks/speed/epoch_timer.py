"""A Lightning callback timing the training batches of each epoch (validation excluded).

Imported by compare_chemprop.py (molgen's venv) and chemprop_worker.py (Chemprop's venv), so both
frameworks are timed by the same code. It imports only ``lightning``.
"""

from __future__ import annotations

import time

from lightning.pytorch.callbacks import Callback


class EpochTimer(Callback):
    """``seconds[i]``: wall time from the start of training epoch i to the end of its last batch;
    ``cpu_seconds[i]``: this process's CPU time over the same span (all its threads: with one torch thread it
    is the work done, much less disturbed than wall time by other processes on a shared machine);
    ``samples[i]``: molecules (or sequences) seen in those batches."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.cpu_seconds: list[float] = []
        self.samples: list[int] = []
        self._start = self._last = self._cpu_start = self._cpu_last = 0.0
        self._count = 0

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._start = self._last = time.perf_counter()
        self._cpu_start = self._cpu_last = time.process_time()
        self._count = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._last = time.perf_counter()
        self._cpu_last = time.process_time()
        self._count += _batch_size(batch)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.seconds.append(self._last - self._start)
        self.cpu_seconds.append(self._cpu_last - self._cpu_start)
        self.samples.append(self._count)

    def steady_rate(self) -> float:
        """Samples per second over the epochs after the first (the first pays for caches and warm-up)."""
        seconds = self.seconds[1:] or self.seconds
        samples = self.samples[1:] or self.samples
        return sum(samples) / sum(seconds)

    def steady_cpu_rate(self) -> float:
        """Samples per CPU second of this process over the epochs after the first."""
        seconds = self.cpu_seconds[1:] or self.cpu_seconds
        samples = self.samples[1:] or self.samples
        return sum(samples) / sum(seconds)


def _batch_size(batch) -> int:
    """Number of examples in a molgen or Chemprop batch (both carry their targets)."""
    for name in ("Y", "y", "targets"):
        value = getattr(batch, name, None)
        if value is not None:
            return len(value)
    if isinstance(batch, (tuple, list)):
        for item in batch:
            if hasattr(item, "shape") and len(item.shape) >= 1:
                return int(item.shape[0])
            size = getattr(item, "num_graphs", None) or getattr(item, "n_graphs", None)
            if size:
                return int(size)
    raise TypeError(f"cannot tell the size of a {type(batch).__name__} batch")
