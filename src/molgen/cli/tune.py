"""``molgen tune``: Optuna search over a YAML space; takes every ``molgen train`` flag as a per-trial override."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from molgen.cli.train import add_run_options, config_from_args
from molgen.config import RunConfig
from molgen.config import replace as config_replace

# Same names as molgen.tuning.objective (not imported here: Optuna loads only when tuning runs).
PRUNERS = ("median", "hyperband", "none")
DIRECTIONS = ("auto", "minimize", "maximize")

EXAMPLE = (
    "Example: molgen tune --config configs/hpo/property_dmpnn_run.yaml --space configs/hpo/property_dmpnn.yaml "
    "--n-trials 20 --max-epochs 15 --output runs/hpo-esol. Start the same command again (here or on another "
    "machine with --storage postgresql://…) to add workers to the study."
)


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "tune",
        help="search hyperparameters with Optuna (trials train like molgen train)",
        description=f"Hyperparameter search. {EXAMPLE}",
        conflict_handler="resolve",  # --output means the tuning folder here, not a run folder
    )
    add_run_options(parser)
    search = parser.add_argument_group("search")
    search.add_argument("--space", required=True, help="search space YAML: dotted config key → distribution")
    search.add_argument(
        "--n-trials",
        type=int,
        required=True,
        help="completed + pruned trials of the study in total, over all workers and sessions",
    )
    search.add_argument("--timeout", type=float, help="seconds after which this worker starts no new trial")
    search.add_argument(
        "--storage",
        help="SQLAlchemy URL shared by workers, e.g. postgresql://user:pw@host/db "
        "(default: sqlite file study.db in --output)",
    )
    search.add_argument("--study-name", help="study to create or join (default: <data>-<space file name>)")
    search.add_argument(
        "--output",
        help="folder for study.db, trials/, trials.csv, plots, best_config.yaml (default: runs/tune-<study name>)",
    )
    search.add_argument(
        "--pruner", choices=PRUNERS, default="median", help="prune unpromising trials (default: median)"
    )
    search.add_argument(
        "--direction",
        choices=DIRECTIONS,
        default="auto",
        help="default: from the monitored metric (rmse: minimize, roc_auc: maximize)",
    )
    search.add_argument(
        "--heartbeat",
        type=int,
        default=60,
        metavar="SECONDS",
        help="heartbeat interval; a trial silent for twice as long is failed and retried (default: 60)",
    )
    search.add_argument("--sampler-seed", type=int, help="seed of the TPE sampler (give each worker its own)")
    search.add_argument(
        "--retrain",
        action="store_true",
        help="when the study is done, train best_config.yaml with test metrics into <output>/best",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from molgen.tuning import TuneSettings, load_space, tune
    from molgen.tuning.search import describe
    from molgen.tuning.storage import display_url

    base = config_from_args(args)  # tune's --output replaces the run folder option: trials write under it
    if args.print_config:
        from molgen.cli.train import print_config

        print_config(base)
        return 0
    space_path = Path(args.space)
    space = load_space(space_path, base=base)
    study_name = args.study_name or f"{Path(base.data.name).stem}-{space_path.stem}"
    output = Path(args.output or Path("runs") / f"tune-{study_name}")
    settings = TuneSettings(
        n_trials=args.n_trials,
        output=output,
        storage=args.storage,
        study_name=study_name,
        timeout=args.timeout,
        pruner=args.pruner,
        direction=args.direction,
        heartbeat_interval=args.heartbeat,
        sampler_seed=args.sampler_seed,
    )
    try:
        result = tune(base, space, settings)
    except KeyboardInterrupt:
        print(f"\ninterrupted; run the same command again to resume study {study_name!r}")
        return 130
    print(describe(result))
    for name, path in result.files.items():
        print(f"{name}: {path}")
    if result.best_config is not None:
        best_file = result.files["best_config"]
        print(f"retrain the best configuration: molgen train --config {best_file}")
        if args.retrain:
            _retrain(result.best_config, output / "best", result.metric)
    else:
        print("no trial completed yet; nothing to report as best")
    print(f"browse the study: optuna-dashboard {display_url(result.storage_url)}  (pip install optuna-dashboard)")
    return 0


def _retrain(cfg: RunConfig, run_dir: Path, metric: str) -> None:
    from molgen.recipes import fit
    from molgen.training.model_card import metrics_table

    result = fit(config_replace(cfg, output=str(run_dir)), overwrite=True)  # a new retrain replaces the last one
    print(metrics_table(result.metrics))
    print(
        f"best configuration retrained: test {metric} = {result.metrics.get('test', {}).get(metric, math.nan):.4f} "
        f"(run folder: {result.run_dir})"
    )
