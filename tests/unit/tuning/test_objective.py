"""The objective: direction from the metric, the best validation value returned, pruning wired to val/<metric>."""

from __future__ import annotations

import math
from pathlib import Path

import optuna
import pytest

from molgen.config import ConfigError, RunConfig
from molgen.recipes import RunResult
from molgen.tuning.objective import Objective, build_pruner, check_single_device, study_direction, trial_config
from molgen.tuning.space import parse_space

SPACE = parse_space(
    {
        "params": {
            "optim.lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
            "model.depth": {"type": "int", "low": 2, "high": 5},
        }
    }
)


@pytest.mark.parametrize(
    ("task_type", "metric", "expected"),
    [
        ("regression", "rmse", "minimize"),
        ("regression", "mae", "minimize"),
        ("regression", "r2", "maximize"),
        ("binary", "roc_auc", "maximize"),
        ("multilabel", "pr_auc", "maximize"),
        ("binary", "loss", "minimize"),
    ],
)
def test_direction_follows_the_metric(task_type, metric, expected):
    assert study_direction(task_type, metric) == expected


def test_requested_direction_wins_and_unknown_is_an_error():
    assert study_direction("regression", "rmse", "maximize") == "maximize"
    with pytest.raises(ValueError, match="valid directions: auto, minimize, maximize"):
        study_direction("regression", "rmse", "up")


def test_pruners():
    assert isinstance(build_pruner("median", 10), optuna.pruners.MedianPruner)
    assert isinstance(build_pruner("hyperband", 10), optuna.pruners.HyperbandPruner)
    assert isinstance(build_pruner("none", 10), optuna.pruners.NopPruner)
    with pytest.raises(ValueError, match="valid pruners"):
        build_pruner("asha", 10)


class FakeFit:
    """Stands in for recipes.fit: records calls, returns a best-val metric that depends on the config."""

    def __init__(self):
        self.calls = []

    def __call__(self, cfg, **kwargs):
        self.calls.append((cfg, kwargs))
        value = abs(math.log10(cfg.optim.lr) + 3) + 0.1 * cfg.model.depth
        return RunResult(
            run_dir=Path(cfg.output), metrics={"val": {"rmse": value, "mae": 9.0}}, config=cfg, details={"epochs": [3]}
        )


def test_objective_returns_the_best_val_metric_and_passes_fit_options(tmp_path):
    fake = FakeFit()
    objective = Objective(RunConfig(), SPACE, tmp_path, n_trials=3, metric="rmse", fit_fn=fake)
    study = optuna.create_study(direction="minimize")
    study.optimize(objective, n_trials=3)
    assert len(fake.calls) == 3
    for trial, (cfg, kwargs) in zip(study.trials, fake.calls, strict=True):
        assert trial.value == pytest.approx(abs(math.log10(cfg.optim.lr) + 3) + 0.1 * cfg.model.depth)
        assert cfg.optim.lr == trial.params["optim.lr"] and cfg.model.depth == trial.params["model.depth"]
        assert cfg.output == str(tmp_path / "trials" / f"trial_{trial.number}")
        assert cfg.trainer.devices == 1
        assert kwargs["export"] is False and kwargs["test"] is False and kwargs["overwrite"] is True
        (callback,) = kwargs["extra_callbacks"]
        assert callback.monitor == "val/rmse"
        assert type(callback).__module__.startswith("optuna_integration")


def test_objective_without_pruning_and_trials_beyond_the_total(tmp_path):
    fake = FakeFit()
    objective = Objective(RunConfig(), SPACE, tmp_path, n_trials=2, metric="rmse", prune=False, fit_fn=fake)
    study = optuna.create_study()
    study.optimize(objective, n_trials=3)  # the third is surplus: not trained, FAIL, marked
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2 + [optuna.trial.TrialState.FAIL]
    assert study.trials[2].user_attrs["surplus"] is True
    assert len(fake.calls) == 2 and fake.calls[0][1]["extra_callbacks"] == []


def test_trial_config_and_single_device():
    cfg = trial_config(RunConfig(), SPACE, {"optim.lr": 1e-3, "model.depth": 4}, Path("out/trials/trial_0"))
    assert (cfg.optim.lr, cfg.model.depth, cfg.output) == (1e-3, 4, "out/trials/trial_0")
    check_single_device(cfg)
    with pytest.raises(ConfigError, match="one worker per GPU"):
        check_single_device(RunConfig().with_values({"trainer.devices": 4}))
    with pytest.raises(ConfigError, match="one worker per GPU"):
        check_single_device(RunConfig().with_values({"trainer.strategy": "ddp"}))
