"""The objective: a trial is a config passed to the same ``fit()`` as ``molgen train``.

The value of a trial is the monitored validation metric of its **best** checkpoint (``fit`` restores the
best weights and re-validates them), not the last epoch's. Pruning reports ``val/<metric>`` after every
validation epoch through ``optuna_integration``'s Lightning callback.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import TrialState

from molgen.config import ConfigError, RunConfig
from molgen.config import replace as config_replace
from molgen.config import resolved as config_resolved
from molgen.errors import UnknownNameError
from molgen.tuning.space import SearchSpace

if TYPE_CHECKING:
    from molgen.recipes import RunResult

log = logging.getLogger("molgen")

DIRECTIONS = ("auto", "minimize", "maximize")
PRUNERS = ("median", "hyperband", "none")
# Trials that take (or will take) one of the study's n_trials places. A FAIL does not: a worker that died
# leaves a FAIL whose retry (WAITING) takes its place; a trial that errors or returns NaN is replaced.
COUNTED_STATES = (TrialState.COMPLETE, TrialState.PRUNED)
PLACE_STATES = (*COUNTED_STATES, TrialState.RUNNING, TrialState.WAITING)
SURPLUS_ATTR = "surplus"
WORKER_ATTR = "worker"
RUN_DIR_ATTR = "run_dir"


def resolve_objective(cfg: RunConfig) -> tuple[str, str]:
    """``(task type, monitored metric)`` of a run config, filled from the catalog like ``fit`` does."""
    from molgen.recipes import FAMILIES, resolve_family

    cfg = resolve_family(cfg)  # e.g. --data x.smi --model charrnn: the generation family, whose monitor is loss
    module = FAMILIES.get(config_resolved(cfg.family, "family"))  # resolve_family sets it
    resolved = module.resolve_config(cfg)[0] if hasattr(module, "resolve_config") else cfg
    if not resolved.task.monitor or not resolved.task.type:
        raise ConfigError(
            f"cannot tell which validation metric to optimize for family {cfg.family!r}; set task.monitor"
        )
    return resolved.task.type, resolved.task.monitor


def study_direction(task_type: str, metric: str, requested: str = "auto") -> str:
    """``minimize`` or ``maximize``: the metric's own direction unless one is requested."""
    if requested not in DIRECTIONS:
        raise UnknownNameError(f"unknown direction {requested!r}; valid directions: {', '.join(DIRECTIONS)}")
    if requested != "auto":
        return requested
    from molgen.evaluation.supervised import higher_is_better

    return "maximize" if higher_is_better(task_type, metric) else "minimize"


def build_pruner(name: str, max_epochs: int) -> optuna.pruners.BasePruner:
    """median (after 5 trials and 3 epochs) | hyperband (1 … max_epochs epochs) | none."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=min(3, max(max_epochs - 1, 0)))
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(max_epochs, 1), reduction_factor=3)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise UnknownNameError(f"unknown pruner {name!r}; valid pruners: {', '.join(PRUNERS)}")


def trial_config(base: RunConfig, space: SearchSpace, values: dict[str, Any], run_dir: Path) -> RunConfig:
    """The run config of one trial: base + the trial's values, written to ``run_dir``, on one device."""
    cfg = space.apply(base, values)
    trainer = cfg.trainer
    if trainer.devices == "auto":  # one trial per process; several GPUs = several workers
        trainer = config_replace(trainer, devices=1)
    return config_replace(cfg, output=str(run_dir), trainer=trainer)


def check_single_device(cfg: RunConfig) -> None:
    """Trials run in this process; distributed training would re-launch the whole tuning command."""
    devices, trainer = cfg.trainer.devices, cfg.trainer
    many = (isinstance(devices, int) and devices > 1) or (isinstance(devices, list | tuple) and len(devices) > 1)
    if many or trainer.num_nodes > 1 or "ddp" in str(trainer.strategy):
        raise ConfigError(
            "molgen tune trains each trial on one device; to use several GPUs start one worker per GPU "
            "(e.g. CUDA_VISIBLE_DEVICES=0 molgen tune … & CUDA_VISIBLE_DEVICES=1 molgen tune …) on a shared --storage"
        )


class Objective:
    """Callable for ``study.optimize``: config → ``fit`` → best validation metric.

    Args:
        base: the run config every trial starts from (command-line overrides applied).
        space: the search space.
        output: the tuning output folder; trial ``n`` trains in ``<output>/trials/trial_<n>``.
        n_trials: the study's total; a trial started after the total was reached is marked surplus
            and ends without training (two workers can both start "the last" trial).
        metric: the monitored validation metric (``rmse`` …), logged as ``val/<metric>``.
        prune: add the Lightning pruning callback.
        fit_fn: the fit to call (``molgen.recipes.fit``).
    """

    def __init__(
        self,
        base: RunConfig,
        space: SearchSpace,
        output: Path,
        *,
        n_trials: int,
        metric: str,
        prune: bool = True,
        fit_fn: Callable[..., RunResult] | None = None,
    ) -> None:
        self.base, self.space, self.output = base, space, Path(output)
        self.n_trials, self.metric, self.prune = n_trials, metric, prune
        if fit_fn is None:
            from molgen.recipes import fit

            fit_fn = fit
        self.fit_fn = fit_fn
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def __call__(self, trial: optuna.Trial) -> float:
        trial.set_user_attr(WORKER_ATTR, self.worker)
        if self._is_surplus(trial):
            trial.set_user_attr(SURPLUS_ATTR, True)
            trial.study.stop()
            log.info("trial %d not run: the study already has its %d trials", trial.number, self.n_trials)
            return math.nan  # recorded as FAIL, marked surplus, not counted
        retried = self._retried_trial(trial)
        if retried is not None:
            log.info("trial %d retries trial %d, whose worker stopped sending heartbeats", trial.number, retried)
        values = self.space.suggest(trial)
        run_dir = self.output / "trials" / f"trial_{trial.number}"
        trial.set_user_attr(RUN_DIR_ATTR, str(run_dir))
        cfg = trial_config(self.base, self.space, values, run_dir)
        callbacks = []
        pruning = None
        if self.prune:
            from optuna_integration import PyTorchLightningPruningCallback

            pruning = PyTorchLightningPruningCallback(trial, monitor=f"val/{self.metric}")
            callbacks.append(pruning)
        log.info("trial %d: %s", trial.number, ", ".join(f"{k}={v}" for k, v in self.space.tidy(values).items()))
        try:
            # the trial's folder is its own: a leftover of an earlier study's trial with this number is replaced
            result = self.fit_fn(cfg, extra_callbacks=callbacks, export=False, test=False, overwrite=True)
        except SystemExit as err:
            # Lightning turns Ctrl-C into sys.exit(1); Optuna records a KeyboardInterrupt as FAIL (a SystemExit
            # would leave the trial RUNNING until its heartbeat goes stale).
            if isinstance(err.__context__, KeyboardInterrupt):
                raise KeyboardInterrupt from None
            raise
        if pruning is not None:
            pruning.check_pruned()
        value = result.metrics.get("val", {}).get(self.metric, math.nan)
        trial.set_user_attr("epochs", result.details.get("epochs"))
        return float(value)  # NaN → Optuna marks the trial FAIL and samples a replacement

    @staticmethod
    def _retried_trial(trial: optuna.Trial) -> int | None:
        running = trial.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        frozen = next((t for t in running if t.number == trial.number), None)
        return None if frozen is None else frozen.system_attrs.get("failed_trial")

    def _is_surplus(self, trial: optuna.Trial) -> bool:
        """True when ``n_trials`` earlier trials already hold a place (done, running or queued)."""
        earlier = trial.study.get_trials(deepcopy=False, states=PLACE_STATES)
        taken = sum(1 for t in earlier if t.number < trial.number and not t.user_attrs.get(SURPLUS_ATTR))
        return taken >= self.n_trials
