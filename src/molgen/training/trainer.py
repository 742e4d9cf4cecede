"""``build_trainer(cfg)`` and ``run(module, datamodule, ...)``: the Lightning side of every fit.

The trainer early-stops on the monitored validation metric, keeps the best checkpoint and ``last.ckpt``
(written after every epoch, for resuming; its stored paths resolve inside the run folder), logs to CSV
(and TensorBoard when installed), and hides the progress bar off a terminal (logging one line per epoch
instead). After fitting, ``run`` logs why training stopped, restores the best weights and scores them on
validation and test data.
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
from molgen.training.callbacks import StopOnNonFiniteLoss
from molgen.training.checkpoint_io import AtomicCheckpointIO
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
    privacy: dict[str, Any] | None = None
    """DP-SGD runs: the spent ε and its parameters (:meth:`molgen.training.privacy.PrivateTraining.record`)."""


_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning.pytorch.utilities.rank_zero")
_HARMLESS_WARNINGS = (
    ".*does not have many workers.*",
    ".*LeafSpec.*",
    ".*smaller than the logging interval.*",
    ".*torch.jit.script.*is deprecated.*",
    ".*is an invalid default value.*",
    # DP-SGD (Opacus): its per-sample hooks, and the schedule re-pointed at Opacus's optimizer (molgen.training.privacy)
    ".*Secure RNG turned off.*",
    ".*Optimal order is the largest alpha.*",  # the RDP bound is then conservative (docs/privacy.md)
    ".*Full backward hook is firing when gradients are computed with respect to module outputs.*",
    ".*optimizer.step\\(\\)` has been overridden after learning rate scheduler initialization.*",
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
    callbacks: list[L.Callback] = [*(extra_callbacks or []), StopOnNonFiniteLoss()]
    if enable_checkpointing:
        # best.ckpt on improvement, then last.ckpt at the end of every epoch (so it also holds this epoch's
        # best-checkpoint state); Lightning's save_last=True writes last.ckpt only on improvement
        callbacks.append(
            FolderCheckpoint(
                dirpath=checkpoint_dir,
                filename="best",
                monitor=monitor,
                mode=mode,
                save_top_k=1,
                enable_version_counter=False,
            )
        )
        callbacks.append(
            FolderCheckpoint(
                dirpath=checkpoint_dir,
                filename=Path(LAST_CHECKPOINT).stem,
                monitor=None,
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
        plugins=[AtomicCheckpointIO()],  # no truncated checkpoint on a full disk
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
            epoch = torch.load(last, map_location="cpu", weights_only=True).get("epoch")
            log.info("resuming from %s (after epoch %s)", last, epoch)
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
    """The checkpoint callback that keeps the best model (the first one with a monitor)."""
    checkpoints = [c for c in trainer.callbacks if isinstance(c, ModelCheckpoint)]  # type: ignore[attr-defined]
    return next((c for c in checkpoints if c.monitor is not None), checkpoints[0] if checkpoints else None)


class FolderCheckpoint(ModelCheckpoint):
    """A ``ModelCheckpoint`` whose resumed paths resolve inside its own folder.

    Lightning stores absolute paths (``best_model_path`` …) in a checkpoint and, when the folder has moved,
    keeps the old ``best_model_path``: resuming a copied run folder would restore the original run's best
    weights. Here every stored path is re-rooted from the saved ``dirpath`` to this callback's ``dirpath``;
    a path outside the saved folder is refused.
    """

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        assert self.dirpath is not None  # molgen always passes dirpath
        super().load_state_dict(relocate_state(state_dict, Path(self.dirpath), where="last.ckpt"))


_PATH_KEYS = ("best_model_path", "kth_best_model_path", "last_model_path")


def relocate_state(state: dict[str, Any], dirpath: Path, *, where: str) -> dict[str, Any]:
    """A ``ModelCheckpoint`` state with its paths moved from its saved ``dirpath`` to ``dirpath``.

    Raises:
        ModelFormatError: a stored path lies outside the saved checkpoint folder.
    """
    from molgen.errors import ModelFormatError

    saved = Path(state.get("dirpath") or dirpath)

    def move(path: str) -> str:
        if not path:
            return path
        try:
            return str(dirpath / Path(path).relative_to(saved))
        except ValueError:
            raise ModelFormatError(
                f"{where}: checkpoint path {path} lies outside the checkpoint folder {saved} it was saved in; "
                "refusing to resume from another run's files (start a new run instead)"
            ) from None

    moved = {**state, "dirpath": str(dirpath)}
    for key in _PATH_KEYS:
        if key in state:
            moved[key] = move(state[key])
    if isinstance(state.get("best_k_models"), dict):
        moved["best_k_models"] = {move(k): v for k, v in state["best_k_models"].items()}
    return moved


def check_resumable(checkpoints: Path) -> list[Path]:
    """Checks every ``last.ckpt`` under ``checkpoints`` before a resume and returns them.

    Each checkpoint's best-model paths must lie in the folder that holds it (after re-rooting a copied
    run folder) and the best checkpoint they name must exist there.

    Raises:
        ModelFormatError: a path points elsewhere, or the best checkpoint it names is missing.
    """
    from molgen.errors import ModelFormatError

    lasts = sorted(checkpoints.rglob(LAST_CHECKPOINT))
    for last in lasts:
        try:
            saved = torch.load(last, map_location="cpu", weights_only=True)
        except Exception as err:  # a truncated or foreign file: refuse before anything is rewritten
            raise ModelFormatError(f"{last}: not a readable checkpoint ({err})") from None
        for key, state in (saved.get("callbacks") or {}).items():
            if not str(key).startswith("ModelCheckpoint") or not isinstance(state, dict):
                continue
            best = relocate_state(state, last.parent.resolve(), where=str(last)).get("best_model_path")
            if best and not Path(best).is_file():
                raise ModelFormatError(f"{last}: its best checkpoint {best} is missing; cannot resume exactly")
    return lasts


def seed_everything(seed: int) -> None:
    """Seeds Python, numpy and torch (and dataloader workers)."""
    L.seed_everything(seed, workers=True, verbose=False)
