"""``molgen evaluate-generation``: the MOSES metric suite of a file of generated SMILES."""

from __future__ import annotations

import argparse
import math
import sys

from molgen.errors import ConfigError


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "evaluate-generation",
        help="MOSES metrics of generated SMILES (validity, uniqueness, novelty, FCD, SNN, Frag, Scaf, ...)",
        description="Writes metrics.json (MOSES key names), metrics.md, properties.png and molecules.png. "
        "Reference statistics are computed once per reference file and cached. First use of the default "
        "--reference moses computes the statistics of MOSES Test, TestSF and train (352k + 1.6M molecules): "
        "about 40 minutes on 2 CPU cores, then seconds; progress lines with estimates go to stderr.",
    )
    parser.add_argument(
        "file",
        help="generated SMILES: .smi (one per line; a blank line is an invalid sample) "
        "or CSV/TSV/Parquet with a SMILES column",
    )
    parser.add_argument(
        "--reference",
        default="moses",
        help="'moses' (Test and TestSF; default) or a SMILES file that replaces Test. The MOSES statistics take "
        "~40 min on 2 CPU cores the first time, then come from the cache",
    )
    parser.add_argument("--output", required=True, help="folder for the report")
    parser.add_argument(
        "--train",
        default="auto",
        help="training set for Novelty: 'moses', a SMILES file, or 'none' "
        "(default: moses with the moses reference, else none)",
    )
    parser.add_argument("--smiles-column", help="SMILES column of CSV/TSV/Parquet inputs (default: SMILES or smiles)")
    parser.add_argument("--n-jobs", type=int, default=2, help="processes for the RDKit statistics (default 2)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from molgen.evaluation.generation.reference import read_smiles
    from molgen.evaluation.generation.suite import run_evaluation

    if args.n_jobs < 1:
        raise ConfigError(f"--n-jobs must be at least 1, got {args.n_jobs}")
    train = None if str(args.train).lower() == "none" else args.train
    generated = read_smiles(args.file, args.smiles_column)
    evaluation = run_evaluation(
        generated,
        args.reference,
        args.output,
        train=train,
        n_jobs=args.n_jobs,
        smiles_column=args.smiles_column,
        log=lambda line: print(line, file=sys.stderr),
    )
    details = evaluation.details
    print(f"{details['n_generated']} generated, {details['n_valid']} valid, {details['n_invalid']} invalid")
    for key, value in evaluation.metrics.items():
        print(f"{key:>14}  {'NaN' if math.isnan(value) else f'{value:.4f}'}")
    for note in evaluation.notes:
        print(f"note: {note}")
    print(f"wrote {args.output}/metrics.json and metrics.md")
    return 0
