"""``molgen predict``: one output row per input data line, in order, with ``valid`` and ``invalid_reason``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from molgen.cli.messages import print_invalid

if TYPE_CHECKING:
    from molgen.analysis.prediction import PredictionSummary


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("predict", help="predict new inputs with a trained model")
    parser.add_argument(
        "--model", required=True, help="model folder (run folder or its model/); with --url: the served model's name"
    )
    parser.add_argument("--url", help="predict on a molgen server (molgen serve) instead of in this process")
    parser.add_argument("--token-file", help="with --url: file holding the server's bearer token")
    parser.add_argument(
        "--input",
        required=True,
        help="inputs: CSV/TSV/TXT, .smi (SMILES, then an optional name), SDF, Parquet or FASTA (optionally .gz); "
        "one output row per data line, blank lines included",
    )
    parser.add_argument("--output", required=True, help="CSV file to write")
    parser.add_argument(
        "--input-column",
        "--smiles-column",
        dest="input_column",
        help="SMILES (or sequence) column (default: the one the model was trained on)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        help="inputs per inference batch (default: the model family's; 64 molecules for graph models, whose "
        "batches then stay in the CPU cache)",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=-1,
        help="processes, this one included (-1, the default: all cores; 1: featurize and predict in this process); "
        "with 2 or more, inputs of 2,000 rows or more are featurized in N-1 worker processes while this one "
        "predicts",
    )
    parser.add_argument(
        "--precision",
        choices=("32", "bf16-mixed"),
        default="32",
        help="molecule models: compute in float32 (the default) or in bfloat16 autocast (bf16-mixed: about 2x "
        "faster inference on a CPU with AVX512-BF16 or AMX, e.g. AMD Zen 4 or Intel Sapphire Rapids; predictions "
        "move by about 0.1%% of their scale)",
    )
    parser.add_argument(
        "--no-domain",
        dest="domain",
        action="store_false",
        help="leave out the applicability-domain columns train_similarity and in_domain (molecule models; saves "
        "the nearest-training-molecule search)",
    )
    parser.add_argument(
        "--on-length-mismatch",
        choices=("warn", "error"),
        help="DNA models: crop/pad sequences of another length than the model's input with one warning "
        "(warn, the default) or refuse them (error)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from molgen.io import check_writable

    check_writable(args.output)  # fail before loading and computing anything
    if args.url:
        if args.precision != "32":
            from molgen.errors import ConfigError

            raise ConfigError("--precision applies to predicting in this process; a server computes in float32")
        summary = _predict_remote(args)
    else:
        summary = _predict_local(args)
    print_invalid(summary.invalid, summary.n_invalid, "invalid input, ", "invalid rows")
    print(f"wrote {summary.n_rows} rows ({summary.n_invalid} invalid) to {summary.output}")
    return 0


def _predict_remote(args: argparse.Namespace) -> PredictionSummary:
    from pathlib import Path

    from molgen.client import Client, predict_file

    token = Path(args.token_file).read_text(encoding="utf-8").strip() if args.token_file else None
    with Client(args.url, token) as client:
        return predict_file(client, args.model, args.input, args.output, input_column=args.input_column)


def _predict_local(args: argparse.Namespace) -> PredictionSummary:
    from molgen.analysis.prediction import predict_model_file

    options: dict[str, object] = {"on_length_mismatch": args.on_length_mismatch} if args.on_length_mismatch else {}
    if args.precision != "32":
        options["precision"] = args.precision
    if args.batch_size is not None:
        options["batch_size"] = args.batch_size
    return predict_model_file(
        args.model,
        args.input,
        args.output,
        input_column=args.input_column,
        n_jobs=args.n_jobs,
        domain=args.domain,
        **options,
    )
