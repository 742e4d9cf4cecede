"""``molgen pretrain``: self-supervised pretraining of a molecule encoder on unlabelled SMILES."""

from __future__ import annotations

import argparse

from molgen.cli.options import add_config_options, config_from_args
from molgen.config import DNA, UNCERTAINTY


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "pretrain",
        help="pretrain a molecule encoder on unlabelled SMILES (fine-tune it with train --init-from)",
        description="Pretrain a graph encoder on a SMILES corpus. Example: molgen pretrain --data moses --model dmpnn "
        "--objective descriptors=1.0 --objective masking=0.5 --output runs/pretrain-dmpnn",
    )
    add_config_options(parser, skip_groups=(DNA, UNCERTAINTY))
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --output from checkpoints/last.ckpt (stream position included)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace the run in --output")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from molgen.config import replace
    from molgen.recipes import fit
    from molgen.training.model_card import metrics_table
    from molgen.training.run_folder import is_rank_zero

    cfg = replace(config_from_args(args), family="pretrain")
    result = fit(cfg, resume=args.resume, overwrite=args.overwrite)
    if not is_rank_zero():
        return 0
    throughput = result.details["pretraining"]
    print(metrics_table(result.metrics))
    print(
        f"pretrained on {throughput['molecules']} molecules ({throughput['molecules_per_s']:.0f} molecules/s); "
        f"skipped {result.n_invalid} invalid molecule(s)"
    )
    print(f"run folder: {result.run_dir}  (model: {result.run_dir / 'model'})")
    return 0
