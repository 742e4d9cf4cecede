"""``molgen embed``: the learned embedding of every input molecule (a pretrained encoder or a property model)."""

from __future__ import annotations

import argparse

from molgen.cli.messages import print_invalid


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "embed",
        help="write the learned embeddings of molecules (Parquet) with a pretrained or property model",
        description="Example: molgen embed --model runs/pretrain-dmpnn/model --input mols.csv --output emb.parquet",
    )
    parser.add_argument(
        "--model",
        required=True,
        help="model folder of molgen pretrain or of a property model, or molgen:NAME (an encoder shipped with molgen)",
    )
    parser.add_argument(
        "--input",
        required=True,
        help="molecules: CSV/TSV/TXT, .smi, SDF or Parquet (optionally .gz); one output row per data line",
    )
    parser.add_argument("--output", required=True, help="Parquet file to write")
    parser.add_argument("--input-column", "--smiles-column", dest="input_column", help="SMILES column")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--n-jobs", type=int, default=-1, help="featurization processes (-1: all cores)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from molgen.analysis.embedding import embed_file
    from molgen.analysis.prediction import load_model
    from molgen.families.init_from import resolve_pretrained
    from molgen.io import check_writable

    check_writable(args.output)
    model = load_model(resolve_pretrained(args.model, option="--model"))
    summary = embed_file(
        model, args.input, args.output, input_column=args.input_column, batch_size=args.batch_size, n_jobs=args.n_jobs
    )
    print_invalid(summary.invalid, summary.n_invalid, "invalid input, ", "invalid rows")
    print(f"wrote {summary.n_rows} rows ({summary.n_invalid} invalid) to {summary.output}")
    return 0
