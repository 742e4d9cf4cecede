"""``molgen train``: from flags alone (Chemprop-style) or from ``--config FILE.yaml`` with flag overrides."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml

from molgen.config import RunConfig, load_config, replace

# flag destination → dotted config key. Every flag defaults to None so that only given flags override.
FLAG_KEYS = {
    "family": "family",
    "data": "data.name",
    "smiles_column": "data.smiles_column",
    "target_columns": "data.target_columns",
    "split": "data.split",
    "split_sizes": "data.split_sizes",
    "split_column": "data.split_column",
    "n_folds": "data.n_folds",
    "on_invalid": "data.on_invalid",
    "descriptors": "data.descriptors",
    "batch_size": "data.batch_size",
    "max_rows": "data.max_rows",
    "featurize_jobs": "data.featurize_jobs",
    "sequence_column": "data.sequence_column",
    "labels": "data.labels",
    "reference": "data.reference",
    "seq_length": "data.seq_length",
    "rc_augment": "data.rc_augment",
    "model": "model.name",
    "hidden_dim": "model.hidden_dim",
    "depth": "model.depth",
    "dropout": "model.dropout",
    "readout": "model.readout",
    "task_type": "task.type",
    "metrics": "task.metrics",
    "monitor": "task.monitor",
    "lr": "optim.lr",
    "max_epochs": "trainer.max_epochs",
    "max_minutes": "trainer.max_minutes",
    "patience": "trainer.patience",
    "seed": "trainer.seed",
    "ensemble_size": "trainer.ensemble_size",
    "accelerator": "trainer.accelerator",
    "devices": "trainer.devices",
    "strategy": "trainer.strategy",
    "precision": "trainer.precision",
    "deterministic": "trainer.deterministic",
    "output": "output",
}


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options shared by ``train`` and ``tune`` (every one overrides the config file)."""
    parser.add_argument("--config", help="YAML run config; flags given here override it")
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data", help="catalog dataset name (molgen datasets list) or a CSV/TSV/SDF/Parquet (DNA: also FASTA/BED) path"
    )
    data.add_argument("--smiles-column")
    data.add_argument("--target-columns", nargs="+")
    data.add_argument("--split", help="random | scaffold | stratified | predefined")
    data.add_argument("--split-sizes", nargs=3, type=float, metavar=("TRAIN", "VAL", "TEST"))
    data.add_argument("--split-column", help="column of train/val/test labels (predefined split)")
    data.add_argument("--n-folds", type=int, help="k-fold cross-validation (reports mean ± std)")
    data.add_argument("--on-invalid", choices=("error", "skip"), help="invalid training molecules (default: error)")
    data.add_argument("--descriptors", action="store_true", default=None, help="add RDKit 2D descriptors")
    data.add_argument("--batch-size", type=int)
    data.add_argument("--max-rows", type=int, help="use only the first N rows")
    data.add_argument("--featurize-jobs", type=int, help="featurization processes (-1: all cores)")
    dna = parser.add_argument_group("DNA sequences (expression family)")
    dna.add_argument("--sequence-column", help="DNA sequence column of a table (default: the catalog's, else sequence)")
    dna.add_argument("--labels", help="CSV/TSV of targets for a FASTA/BED input, joined on record id (data.id_column)")
    dna.add_argument("--reference", help="reference genome FASTA for a BED input")
    dna.add_argument("--seq-length", type=int, help="pad/crop sequences to this length (default: longest, capped)")
    dna.add_argument(
        "--rc-augment", action=argparse.BooleanOptionalAction, default=None,
        help="reverse-complement augmentation + strand-averaged predictions (default: the dataset's)",
    )
    model = parser.add_argument_group("model and task")
    model.add_argument("--family", help="model family (default: property; expression when the data is DNA)")
    model.add_argument(
        "--model", help="dmpnn | gin | gcn | gat | attentivefp; DNA: cnn | dilated | transformer | kmer; generation: charrnn | vae | latentgan | molgan"
    )
    model.add_argument("--hidden-dim", type=int)
    model.add_argument("--depth", type=int)
    model.add_argument("--dropout", type=float)
    model.add_argument("--readout", help="mean | sum | attention; DNA: flatten | mean | max")
    model.add_argument("--task-type", help="regression | binary | multilabel | multiclass")
    model.add_argument("--metrics", nargs="+", help="metrics to report (rmse mae r2 roc_auc pr_auc accuracy f1 …)")
    model.add_argument("--monitor", help="validation metric for early stopping / best checkpoint")
    trainer = parser.add_argument_group("training")
    trainer.add_argument("--lr", type=float)
    trainer.add_argument("--max-epochs", type=int)
    trainer.add_argument("--max-minutes", type=float, help="stop training after this many minutes (keeps the best epoch)")
    trainer.add_argument("--patience", type=int, help="early-stopping patience in epochs (0: off)")
    trainer.add_argument("--seed", type=int)
    trainer.add_argument("--ensemble-size", type=int, help="train N seeds; predictions report mean and std")
    trainer.add_argument("--accelerator", help="auto | cpu | gpu")
    trainer.add_argument("--devices", type=yaml.safe_load, help='number of devices, a list, or "auto"')
    trainer.add_argument("--strategy", help="auto | ddp | …")
    trainer.add_argument("--precision", help="32-true | bf16-mixed | 16-mixed")
    trainer.add_argument("--deterministic", action="store_true", default=None)
    parser.add_argument("--output", help="run folder (default: runs/<data>-<model>-<time>)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="any config key, e.g. optim.weight_decay=1e-5"
    )


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train",
        help="train a model and write a run folder",
        description="Train a model. Example: molgen train --data esol --model dmpnn --split random --seed 0",
    )
    add_run_options(parser)
    parser.add_argument("--resume", action="store_true", help="continue from checkpoints/last.ckpt in --output")
    parser.set_defaults(run=run)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The config file (or defaults) with every given flag and ``--set`` applied."""
    cfg = load_config(args.config) if args.config else RunConfig()
    values: dict[str, Any] = {key: getattr(args, dest) for dest, key in FLAG_KEYS.items() if getattr(args, dest) is not None}
    return cfg.with_values(values, where="command line").with_overrides(args.set)


def run(args: argparse.Namespace) -> int:
    from molgen.families.common import is_rank_zero  # the families (and torch) load only when a command runs
    from molgen.families.model_card import metrics_table
    from molgen.families.common import default_output
    from molgen.recipes import fit, resolve_family

    cfg = resolve_family(config_from_args(args))
    if not cfg.output:
        # Fix the run folder before any DDP worker starts: workers re-run this command line, so it
        # travels to them as --output and they all write into one folder.
        cfg = replace(cfg, output=str(default_output(cfg)))
        if sys.argv[1:2] == ["train"] and "--output" not in sys.argv:
            sys.argv += ["--output", cfg.output]
    result = fit(cfg, resume=args.resume)
    if not is_rank_zero():
        return 0
    if result.n_invalid:
        print(f"skipped {result.n_invalid} invalid input row(s)")
    print(metrics_table(result.metrics))
    monitor = result.config.task.monitor
    if monitor in result.metrics.get("test", {}):  # generators: test holds sampled-molecule metrics, not the loss
        print(f"test {monitor}: {result.metrics['test'][monitor]:.4f}")
    print(f"run folder: {result.run_dir}  (model: {result.run_dir / 'model'})")
    return 0
