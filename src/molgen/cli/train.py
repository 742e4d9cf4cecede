"""``molgen train``: from flags alone (Chemprop-style) or from ``--config FILE.yaml`` with flag overrides."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml

from molgen.cli.options import add_config_options, config_from_args
from molgen.config import RunConfig, replace

__all__ = ["add_parser", "add_run_options", "config_from_args", "run"]


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options shared by ``train`` and ``tune`` (every one overrides the config file); generated from the
    config schema, see :mod:`molgen.cli.options`."""
    add_config_options(parser)
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the resolved run config as YAML and exit (no training)",
    )


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train",
        help="train a model and write a run folder",
        description="Train a model. Example: molgen train --data esol --model dmpnn --split random --seed 0",
    )
    add_run_options(parser)
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --output from its checkpoints/last.ckpt (refused when the settings differ)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run in --output: delete its files first (else a non-empty --output is refused)",
    )
    parser.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="do not write RUN_DIR/report.html at the end (molgen report RUN_DIR writes it later)",
    )
    parser.set_defaults(run=run)


def print_config(cfg: RunConfig) -> None:
    """The run config as YAML, with the family resolved from the data and the model."""
    from molgen.recipes import resolve_family

    print(yaml.safe_dump(resolve_family(cfg).to_dict(), sort_keys=False), end="")


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    if args.print_config:
        print_config(cfg)
        return 0
    from molgen.recipes import fit, resolve_family
    from molgen.training.model_card import count_targets, metrics_table, pooled_label
    from molgen.training.run_folder import default_output, is_rank_zero

    cfg = resolve_family(cfg)
    if not cfg.output:
        # Fix the run folder before any DDP worker starts: workers re-run this command line, so it
        # travels to them as --output and they all write into one folder.
        cfg = replace(cfg, output=str(default_output(cfg)))
        if sys.argv[1:2] == ["train"] and "--output" not in sys.argv:
            sys.argv += ["--output", cfg.output]
    result = fit(cfg, resume=args.resume, overwrite=args.overwrite)
    if not is_rank_zero():
        return 0
    if result.n_invalid:
        print(f"skipped {result.n_invalid} invalid input row(s)")
    print(metrics_table(result.metrics))
    monitor = result.config.task.monitor
    # generators: test holds sampled-molecule metrics, not the loss
    if monitor in result.metrics.get("test", {}):
        n_targets = count_targets(result.metrics["test"])
        label = f" ({pooled_label(n_targets)})" if n_targets else ""
        print(f"test {monitor}{label}: {result.metrics['test'][monitor]:.4f}")
    print(f"run folder: {result.run_dir}  (model: {result.run_dir / 'model'})")
    if args.report:
        write_run_report(result.run_dir, debug=bool(getattr(args, "debug", False) or os.environ.get("MOLGEN_DEBUG")))
    return 0


def write_run_report(run_dir: Path, *, debug: bool = False) -> None:
    """Writes ``run_dir/report.html`` after the run is complete. A failure does not fail the run (the model
    and metrics are already written): one warning line on stderr says how to retry (``--debug``: raise)."""
    from molgen.report import write_report

    try:
        path = write_report(run_dir)
    except Exception as err:
        if debug:
            raise
        print(
            f"molgen train: warning: the report was not written ({type(err).__name__}: {err}); the run is complete; "
            f"retry with: molgen report {run_dir}",
            file=sys.stderr,
        )
        return
    print(f"report: {path}")
