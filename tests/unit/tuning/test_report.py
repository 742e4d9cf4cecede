"""best_config.yaml retrains the best trial: it loads strictly and holds the best trial's values."""

from __future__ import annotations

import optuna
import pandas as pd
from tests.unit.tuning.test_objective import FakeFit

from molgen.config import RunConfig, load_config
from molgen.tuning.objective import Objective
from molgen.tuning.report import write_report
from molgen.tuning.space import parse_space

SPACE = parse_space(
    {
        "params": {
            "optim.lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
            "model.depth": {"type": "int", "low": 2, "high": 5},
            "model.name": {"type": "categorical", "choices": ["dmpnn", "gin"]},
        }
    }
)


def test_best_config_reproduces_the_best_trial(tmp_path):
    base = RunConfig().with_values({"data.name": "my.csv", "trainer.max_epochs": 7, "model.hidden_dim": 32})
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(
        Objective(base, SPACE, tmp_path, n_trials=6, metric="rmse", prune=False, fit_fn=FakeFit()), n_trials=6
    )
    files = write_report(study, base, SPACE, tmp_path)
    cfg = load_config(files["best_config"])
    best = study.best_trial
    assert best.value == min(t.value for t in study.trials)
    assert {key: getattr(getattr(cfg, key.split(".")[0]), key.split(".")[1]) for key in SPACE.params} == best.params
    # everything else comes from the base config (command-line overrides included); no fixed run folder
    assert (cfg.data.name, cfg.trainer.max_epochs, cfg.model.hidden_dim, cfg.output) == ("my.csv", 7, 32, None)
    trials = pd.read_csv(files["trials"])
    assert len(trials) == 6 and {"value", "state", "params_optim.lr", "user_attrs_run_dir"} <= set(trials.columns)
    for name in ("optimization_history", "param_importances"):
        assert files[name].read_bytes()[:4] == b"\x89PNG"


def test_no_best_config_before_a_trial_completes(tmp_path):
    study = optuna.create_study()
    files = write_report(study, RunConfig(), SPACE, tmp_path)
    assert "best_config" not in files and files["trials"].exists()
