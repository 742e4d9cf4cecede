"""What a study leaves in the output folder: best_config.yaml, trials.csv and plots.

Several workers may share one output folder (the SQLite default), so every file is written to a temporary
name and renamed into place.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from molgen.config import RunConfig
from molgen.config import replace as config_replace
from molgen.tuning.objective import COUNTED_STATES, SURPLUS_ATTR
from molgen.tuning.space import SearchSpace

log = logging.getLogger("molgen")

BEST_CONFIG = "best_config.yaml"
TRIALS_CSV = "trials.csv"
PLOTS = {
    "optimization_history.png": "plot_optimization_history",
    "param_importances.png": "plot_param_importances",
    "intermediate_values.png": "plot_intermediate_values",
}


def best_config(base: RunConfig, space: SearchSpace, trial: FrozenTrial) -> RunConfig:
    """``base`` with the best trial's values; ``output`` unset so ``molgen train`` picks a new run folder."""
    values = {key: trial.params[key] for key in space.params if key in trial.params}
    return config_replace(space.apply(base, values), output=None)


def trial_counts(study: optuna.Study) -> dict[str, int]:
    """Trials per state (lower-case names); surplus trials (never run) are counted apart."""
    counts: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        name = "surplus" if trial.user_attrs.get(SURPLUS_ATTR) else trial.state.name.lower()
        counts[name] = counts.get(name, 0) + 1
    return counts


def n_counted(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=COUNTED_STATES))


def write_report(study: optuna.Study, base: RunConfig, space: SearchSpace, output: Path) -> dict[str, Path]:
    """Writes trials.csv, the plots and (once a trial completed) best_config.yaml; returns what was written."""
    output.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    trials = [t for t in study.get_trials(deepcopy=False) if not t.user_attrs.get(SURPLUS_ATTR)]
    frame = study.trials_dataframe(
        attrs=("number", "value", "state", "datetime_start", "duration", "params", "user_attrs")
    )
    if len(frame):
        frame = frame[frame["number"].isin([t.number for t in trials])]
        frame = frame.drop(columns=[c for c in frame.columns if c == f"user_attrs_{SURPLUS_ATTR}"])
    _atomic(output / TRIALS_CSV, lambda path: frame.to_csv(path, index=False))
    written["trials"] = output / TRIALS_CSV
    completed = [t for t in trials if t.state == TrialState.COMPLETE]
    if completed:
        cfg = best_config(base, space, study.best_trial)
        _atomic(output / BEST_CONFIG, cfg.save)
        written["best_config"] = output / BEST_CONFIG
    written.update(_plots(study, output, len(completed)))
    return written


def _plots(study: optuna.Study, output: Path, n_completed: int) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as optuna_plots

    written = {}
    for filename, function in PLOTS.items():
        if n_completed < 1 or (function == "plot_param_importances" and n_completed < 2):
            log.info("%s skipped: not enough completed trials yet", filename)
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the matplotlib backend is "experimental"
                axes = getattr(optuna_plots, function)(study)
            figure = getattr(axes, "figure", None) or plt.gcf()
            figure.set_size_inches(8, 5)
            figure.tight_layout()
            _atomic(output / filename, partial(figure.savefig, dpi=120, format="png"))
            plt.close(figure)
            written[filename.removesuffix(".png")] = output / filename
        except (ValueError, RuntimeError, IndexError, ZeroDivisionError) as err:
            log.warning("%s skipped: %s", filename, err)
    return written


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(handle)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
