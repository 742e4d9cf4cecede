"""``build_trainer(cfg)`` and ``run(module, datamodule, ...)``: the Lightning side of every fit.

The trainer early-stops on the monitored validation metric, keeps the best checkpoint (and ``last.ckpt``
for resuming), logs to CSV (and TensorBoard when installed), and hides the progress bar off a terminal
(logging one line per epoch instead). After fitting, ``run`` logs why training stopped, restores the best
weights and scores them on validation and test data.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import lightning.pytorch as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from molgen.config import TrainerConfig
from molgen.training.progress import EpochLog, stop_reason

LAST_CHECKPOINT = "last.ckpt"
log = logging.getLogger("molgen")


@dataclass
class FitOutcome:
    """What one trained model achieved: metrics at its best epoch and where its checkpoints are."""

    val: dict[str, float] = field(default_factory=dict)
    test: dict[str, float] = field(default_factory=dict)
    best_checkpoint: str = ""
    epochs: int = 0
    stopped: dict[str, Any] = field(default_factory=dict)
    """Why training ended (:func:`molgen.training.progress.stop_reason`): ``reason``, ``epochs``, ``text`` …"""


_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning.pytorch.utilities.rank_zero")
_HARMLESS_WARNINGS = (
    ".*does not have many workers.*",
    ".*LeafSpec.*",
    ".*smaller than the logging interval.*",
    ".*torch.jit.script.*is deprecated.*",
    ".*is an invalid default value.*",
)


@contextmanager
def quiet_lightning() -> Iterator[None]:
    """Within the block, Lightning's info banners (GPU available, model summary) and known-harmless
    warnings are hidden; logger levels and warning filters are restored on exit (no global change).
    :func:`build_trainer` and :func:`run` use it themselves, so callers need not."""
    loggers = [logging.getLogger(name) for name in _LIGHTNING_LOGGERS]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        for message in _HARMLESS_WARNINGS:
            warnings.filterwarnings("ignore", message=message)
        try:
            for logger in loggers:
                if logger.getEffectiveLevel() < logging.WARNING:
                    logger.setLevel(logging.WARNING)
            yield
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)


def build_trainer(
    cfg: TrainerConfig,
    run_dir: str | Path,
    *,
    monitor: str,
    mode: str,
    extra_callbacks: list[L.Callback] | None = None,
    enable_checkpointing: bool = True,
    tag: str = "",
) -> L.Trainer:
    """A Lightning trainer for one model.

    Args:
        cfg: trainer options (epochs, patience, devices, precision, …).
        run_dir: folder for ``checkpoints/`` and ``logs/``.
        monitor: logged metric to early-stop and checkpoint on, e.g. ``"val/rmse"``.
        mode: ``"min"`` or ``"max"``.
        extra_callbacks: e.g. an Optuna pruning callback.
        tag: sub-folder for one of several models in a run (``fold_0/member_1``).
    """
    run_dir = Path(run_dir)
    checkpoint_dir = run_dir / "checkpoints" / tag if tag else run_dir / "checkpoints"
    log_dir = run_dir / "logs" / tag if tag else run_dir / "logs"
    callbacks: list[L.Callback] = list(extra_callbacks or [])
    if enable_checkpointing:
        callbacks.append(
            ModelCheckpoint(
                dirpath=checkpoint_dir,
                filename="best",
                monitor=monitor,
                mode=mode,
                save_last=True,
                save_top_k=1,
                enable_version_counter=False,
            )
        )
    if cfg.patience > 0:
        callbacks.append(EarlyStopping(monitor=monitor, mode=mode, patience=cfg.patience, check_finite=False))
    loggers: list[Any] = [CSVLogger(log_dir, name="", version="")]
    if importlib.util.find_spec("tensorboard") is not None:
        loggers.append(TensorBoardLogger(log_dir, name="", version="tensorboard", default_hp_metric=False))
    progress = sys.stderr.isatty() if cfg.progress_bar is None else cfg.progress_bar
    if not progress:  # no bar (e.g. stderr is a log file): one line per epoch instead
        callbacks.append(EpochLog(monitor, tag))
    with quiet_lightning():
        return _trainer(cfg, run_dir, callbacks, loggers, enable_checkpointing, progress)


def _trainer(
    cfg: TrainerConfig,
    run_dir: Path,
    callbacks: list[L.Callback],
    loggers: list[Any],
    enable_checkpointing: bool,
    progress: bool,
) -> L.Trainer:
    return L.Trainer(
        max_epochs=cfg.max_epochs,
        max_time=None if cfg.max_minutes is None else timedelta(minutes=cfg.max_minutes),
        accelerator=cfg.accelerator,
        devices=cfg.devices,
        strategy=cfg.strategy,
        num_nodes=cfg.num_nodes,
        # a free-form config string; Lightning validates it at runtime and lists the accepted values
        precision=cfg.precision,  # type: ignore[arg-type]
        deterministic=cfg.deterministic,
        gradient_clip_val=cfg.gradient_clip_val,
        callbacks=callbacks,
        logger=loggers,
        enable_checkpointing=enable_checkpointing,
        enable_progress_bar=progress,
        enable_model_summary=False,
        log_every_n_steps=cfg.log_every_n_steps,
        default_root_dir=run_dir,
    )


def run(
    module: L.LightningModule,
    datamodule: L.LightningDataModule,
    trainer: L.Trainer,
    *,
    resume: bool = False,
    test: bool = True,
) -> FitOutcome:
    """Fits ``module``, restores its best weights, then validates and (optionally) tests them.

    Args:
        module: a molgen Lightning module; its ``results`` dict holds the last validation/test metrics.
        resume: continue from ``checkpoints/last.ckpt`` when it exists.
    """
    with quiet_lightning():
        return _run(module, datamodule, trainer, resume=resume, test=test)


def _run(
    module: L.LightningModule, datamodule: L.LightningDataModule, trainer: L.Trainer, *, resume: bool, test: bool
) -> FitOutcome:
    checkpoint = _checkpoint_callback(trainer)
    ckpt_path = None
    if resume and checkpoint is not None and checkpoint.dirpath:
        last = Path(checkpoint.dirpath) / LAST_CHECKPOINT
        if last.is_file():
            ckpt_path = str(last)
            log.info("resuming from %s", last)
        else:
            log.warning("no %s to resume from; training this model from the start", last)
    trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
    outcome = FitOutcome(epochs=trainer.current_epoch, stopped=stop_reason(trainer))
    if trainer.is_global_zero:
        log.info("%straining stopped: %s", f"[{tag}] " if (tag := _tag(trainer)) else "", outcome.stopped["text"])
    if checkpoint is not None and checkpoint.best_model_path:
        outcome.best_checkpoint = checkpoint.best_model_path
        state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
        module.load_state_dict(state["state_dict"])
    trainer.validate(module, datamodule=datamodule, verbose=False)
    # molgen modules keep their last metrics in ``results``; nn.Module.__getattr__ hides the attribute's type
    results = cast("dict[str, dict[str, float]]", module.results)
    outcome.val = dict(results.get("val", {}))
    if test:
        trainer.test(module, datamodule=datamodule, verbose=False)
        outcome.test = dict(results.get("test", {}))
    return outcome


def _tag(trainer: L.Trainer) -> str:
    """The ``fold_0/member_1`` of a model of several (as given to :func:`build_trainer`), else ``""``."""
    for callback in trainer.callbacks:  # type: ignore[attr-defined]  # set by Lightning's callback connector
        if isinstance(callback, EpochLog):
            return callback.tag
    return ""


def _checkpoint_callback(trainer: L.Trainer) -> ModelCheckpoint | None:
    for callback in trainer.callbacks:  # type: ignore[attr-defined]  # set by Lightning's callback connector
        if isinstance(callback, ModelCheckpoint):
            return callback
    return None


def seed_everything(seed: int) -> None:
    """Seeds Python, numpy and torch (and dataloader workers)."""
    L.seed_everything(seed, workers=True, verbose=False)
