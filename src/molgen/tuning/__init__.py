"""Optuna hyperparameter search around the same ``fit()`` as ``molgen train``.

A search space (YAML: dotted config key → distribution) turns each trial into a run config; the trial's
value is the monitored validation metric of its best checkpoint. Studies live in an RDB storage: an
SQLite file by default, PostgreSQL for many workers on many machines.

    from molgen.config import load_config
    from molgen.tuning import TuneSettings, load_space, tune

    result = tune(load_config("configs/hpo/property_dmpnn_run.yaml"),
                  load_space("configs/hpo/property_dmpnn.yaml"),
                  TuneSettings(n_trials=20, output=Path("runs/hpo-esol")))
"""

from molgen.tuning.objective import Objective, build_pruner, study_direction
from molgen.tuning.report import best_config, write_report
from molgen.tuning.search import TuneResult, TuneSettings, tune
from molgen.tuning.space import SearchSpace, load_space, parse_space

__all__ = [
    "Objective",
    "SearchSpace",
    "TuneResult",
    "TuneSettings",
    "best_config",
    "build_pruner",
    "load_space",
    "parse_space",
    "study_direction",
    "tune",
    "write_report",
]
