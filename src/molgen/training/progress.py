"""Progress without a progress bar, and why a fit ended.

:class:`EpochLog` writes one log line per epoch (epoch, train/val loss, the monitored metric, seconds)
when no progress bar is shown, e.g. when stderr goes to a log file. :func:`stop_reason` says why
``trainer.fit`` returned: ``max_epochs``, ``early_stopping``, ``time_budget`` or ``interrupted``.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import lightning.pytorch as L
from lightning.pytorch.callbacks import EarlyStopping, Timer

log = logging.getLogger("molgen")

MAX_EPOCHS, EARLY_STOPPING, TIME_BUDGET, INTERRUPTED, CALLBACK = (
    "max_epochs",
    "early_stopping",
    "time_budget",
    "interrupted",
    "callback",
)


class EpochLog(L.Callback):
    """Logs ``epoch k/N: train loss …, val loss …, val <metric> …, S s`` at the end of every epoch (rank 0).

    Args:
        monitor: the headline metric as logged, e.g. ``"val/rmse"``.
        tag: which model of a run this is (``fold_0/member_1``), shown in the line when set.
    """

    def __init__(self, monitor: str, tag: str = "") -> None:
        self.monitor, self.tag = monitor, tag
        self._start = time.perf_counter()

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:  # validation has run by now: callback_metrics hold this epoch's values
            log.info("%s", self.line(trainer.current_epoch + 1, trainer.max_epochs, trainer.callback_metrics))

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        if trainer.is_global_zero and isinstance(exception, KeyboardInterrupt):
            log.warning(
                "%straining interrupted in epoch %d: no metrics.json or model/ written; `molgen train --resume` "
                "continues from the last checkpoint",
                self._prefix(),
                trainer.current_epoch + 1,
            )

    def line(self, epoch: int, max_epochs: int | None, metrics: dict[str, Any]) -> str:
        """The line for one finished epoch; metrics missing from ``metrics`` are left out."""
        parts = []
        for name in dict.fromkeys(("train/loss", "val/loss", self.monitor)):
            value = _number(metrics.get(name))
            if value is not None:
                parts.append(f"{name.replace('/', ' ')} {value:.4g}")
        total = f"/{max_epochs}" if max_epochs is not None and max_epochs > 0 else ""
        seconds = time.perf_counter() - self._start
        return f"{self._prefix()}epoch {epoch}{total}: {', '.join([*parts, f'{seconds:.1f} s'])}"

    def _prefix(self) -> str:
        return f"[{self.tag}] " if self.tag else ""


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def stop_reason(trainer: L.Trainer) -> dict[str, Any]:
    """Why ``trainer.fit`` returned, as primitives for ``metrics.json`` and the model card.

    Keys: ``reason`` (one of ``max_epochs``, ``early_stopping``, ``time_budget``, ``interrupted``, ``callback``:
    another callback, e.g. a pruner, stopped it), ``epochs`` (epochs completed), ``max_epochs``, ``text``
    (one phrase), and ``patience`` / ``max_minutes`` where they apply.
    """
    callbacks = list(trainer.callbacks)  # type: ignore[attr-defined]  # set by Lightning's callback connector
    epochs, max_epochs = int(trainer.current_epoch), trainer.max_epochs
    record: dict[str, Any] = {"epochs": epochs, "max_epochs": max_epochs}
    stopper = next((c for c in callbacks if isinstance(c, EarlyStopping) and c.stopped_epoch > 0), None)
    timer = next((c for c in callbacks if isinstance(c, Timer)), None)
    remaining = timer.time_remaining() if timer is not None else None
    if trainer.interrupted:
        record.update(reason=INTERRUPTED, text=f"interrupted in epoch {epochs + 1}")
    elif stopper is not None:
        epoch = stopper.stopped_epoch + 1
        record.update(
            reason=EARLY_STOPPING,
            epoch=epoch,
            patience=stopper.patience,
            text=f"early stopping at epoch {epoch} (patience {stopper.patience})",
        )
    elif timer is not None and remaining is not None and remaining <= 0:
        minutes = (timer._duration or 0.0) / 60  # Timer keeps the budget only privately
        record.update(
            reason=TIME_BUDGET,
            max_minutes=minutes,
            text=f"time budget of {minutes:g} min (max_minutes) reached after {epochs} epoch(s)",
        )
    elif max_epochs is not None and max_epochs > 0 and epochs >= max_epochs:
        record.update(reason=MAX_EPOCHS, text=f"max_epochs ({max_epochs}) reached")
    else:
        record.update(reason=CALLBACK, text=f"stopped by a callback after {epochs} epoch(s)")
    return record
