"""``tune(base, space, settings)``: one worker of a (possibly shared) study, until it has its trials.

Any number of workers (processes, machines) may run ``tune`` on one storage and study name. Together
they finish ``n_trials`` completed-or-pruned trials: a worker stops starting trials when the places are
taken (``MaxTrialsCallback`` over done, running and queued trials), then waits for the other workers'
running trials; if one of those workers died, its trial goes stale, is failed by heartbeat and queued
again, and a waiting worker runs it.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import optuna
from optuna.study import MaxTrialsCallback
from optuna.trial import TrialState

from molgen.config import RunConfig
from molgen.errors import ConfigError
from molgen.tuning import report
from molgen.tuning.objective import (
    PLACE_STATES,
    Objective,
    build_pruner,
    check_single_device,
    resolve_objective,
    study_direction,
)
from molgen.tuning.space import SearchSpace
from molgen.tuning.storage import (
    create_or_load_study,
    default_storage_url,
    display_url,
    open_storage,
)

log = logging.getLogger("molgen")


@dataclasses.dataclass
class TuneSettings:
    """How one worker takes part in a study.

    Attributes:
        n_trials: the study's total of completed + pruned trials, over all workers and sessions
            (resuming a finished study needs a larger total).
        output: folder for the SQLite study (default storage), trials/, trials.csv, plots, best_config.yaml.
        storage: an SQLAlchemy URL (``postgresql://user:pass@host/db``); default SQLite in ``output``.
        study_name: the study to create or join.
        timeout: seconds after which this worker starts no new trial.
        pruner: median | hyperband | none.
        direction: auto (from the metric) | minimize | maximize.
        heartbeat_interval: seconds between heartbeats; a trial silent for twice that is failed and retried.
        max_retry: times a trial whose worker died is queued again.
        sampler_seed: seed of the TPE sampler (None: random; give each worker its own seed).
    """

    n_trials: int
    output: Path
    storage: str | None = None
    study_name: str = "molgen"
    timeout: float | None = None
    pruner: str = "median"
    direction: str = "auto"
    heartbeat_interval: int = 60
    max_retry: int = 2
    sampler_seed: int | None = None


@dataclasses.dataclass
class TuneResult:
    study: optuna.Study
    storage_url: str
    metric: str
    direction: str
    counts: dict[str, int]
    files: dict[str, Path]
    best_config: RunConfig | None
    best_params: dict[str, Any] = dataclasses.field(default_factory=dict)


def tune(base: RunConfig, space: SearchSpace, settings: TuneSettings, *, fit_fn: Any = None) -> TuneResult:
    """Runs trials of the study until it holds ``n_trials`` done trials (or ``timeout``), then reports."""
    if settings.n_trials < 1:
        raise ConfigError(f"n_trials must be at least 1, got {settings.n_trials}")
    from molgen.recipes import resolve_family

    base = resolve_family(base)  # best_config.yaml names the family its trials ran as (e.g. expression)
    check_single_device(base)
    space.apply(base, {})  # the base config itself must be valid
    output = Path(settings.output)
    output.mkdir(parents=True, exist_ok=True)
    task_type, metric = resolve_objective(base)
    direction = study_direction(task_type, metric, settings.direction)
    url = settings.storage or default_storage_url(output)
    storage = open_storage(url, heartbeat_interval=settings.heartbeat_interval, max_retry=settings.max_retry)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(constant_liar=True, seed=settings.sampler_seed)
    study = create_or_load_study(
        storage,
        settings.study_name,
        direction=direction,
        sampler=sampler,
        pruner=build_pruner(settings.pruner, base.trainer.max_epochs),
        attrs={"space": space.to_json(), "metric": f"val/{metric}", "family": base.family},
    )
    log.info(
        "study %r in %s: %s val/%s, %d trials in total",
        settings.study_name,
        display_url(url),
        direction,
        metric,
        settings.n_trials,
    )
    objective = Objective(
        base, space, output, n_trials=settings.n_trials, metric=metric, prune=settings.pruner != "none", fit_fn=fit_fn
    )
    _work(study, objective, settings)
    files = report.write_report(study, base, space, output)
    best, params = None, {}
    if "best_config" in files:
        best, params = report.best_config(base, space, study.best_trial), space.tidy(study.best_trial.params)
    return TuneResult(study, url, metric, direction, report.trial_counts(study), files, best, params)


def _work(study: optuna.Study, objective: Objective, settings: TuneSettings) -> None:
    """Runs trials while places are free; then waits for other workers' running trials to settle."""
    start = time.monotonic()
    cap = MaxTrialsCallback(settings.n_trials, states=PLACE_STATES)
    while True:
        _fail_stale(study)  # a dead worker's trial → FAIL → its retry is queued (WAITING)
        if report.n_counted(study) >= settings.n_trials:
            return
        failed = report.trial_counts(study).get("fail", 0)
        if failed >= max(10, settings.n_trials):
            log.error("stopping: %d trials failed (see the log above and trials.csv)", failed)
            return
        left = None if settings.timeout is None else settings.timeout - (time.monotonic() - start)
        if left is not None and left <= 0:
            log.info("timeout reached; %d of %d trials done", report.n_counted(study), settings.n_trials)
            return
        trials = study.get_trials(deepcopy=False, states=PLACE_STATES)
        queued = any(t.state == TrialState.WAITING for t in trials)
        if queued or len(trials) < settings.n_trials:
            try:
                study.optimize(objective, timeout=left, callbacks=[cap], catch=_catchable(), gc_after_trial=True)
            except optuna.exceptions.UpdateFinishedTrialError as err:
                # This worker was silent too long and another one failed its trial; carry on.
                log.warning("a trial of this worker was failed by another worker (missed heartbeats): %s", err)
        else:
            time.sleep(max(1.0, settings.heartbeat_interval / 2))  # other workers' trials are running


def _fail_stale(study: optuna.Study) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def _catchable() -> tuple[type[Exception], ...]:
    """Errors that end one trial (FAIL) but not the worker: running out of accelerator memory."""
    import torch

    return (torch.OutOfMemoryError,)


def describe(result: TuneResult) -> str:
    """A few lines for the terminal: counts, best value and parameters."""
    counts = ", ".join(f"{n} {state}" for state, n in sorted(result.counts.items()))
    lines = [f"trials: {counts or 'none'}"]
    completed = result.counts.get("complete", 0)
    if completed:
        best = result.study.best_trial
        lines.append(f"best trial {best.number}: val/{result.metric} = {best.value:.4f} ({result.direction})")
        lines.extend(f"  {key}: {value}" for key, value in result.best_params.items())
    return "\n".join(lines)
