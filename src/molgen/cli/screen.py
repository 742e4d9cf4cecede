"""``molgen screen``: score a large molecule library with one or more models, shard by shard."""

from __future__ import annotations

import argparse

from molgen.errors import ConfigError

DESCRIPTION = """\
Scores every molecule of a library with property models and keeps the best ones.

The library (.smi/.smiles, .csv, .tsv, .sdf — each optionally .gz — or .parquet; one file, a
quoted glob or a folder of files) is read in shards of --chunk-size records. Each shard's
results, one row per input row (invalid SMILES get valid=false and the reason; rows failing a
filter get passes_filters=false and the filter's name), are written to OUTPUT/shards/*.parquet
as soon as it finishes; OUTPUT/top_k.csv holds the best --top-k rows at the end. Rerunning the
same command resumes: finished shards are kept. A rerun with other models, filters, library or
--chunk-size into the same OUTPUT is an error; the ranking options may change (the top-k is
rebuilt from the shards)."""

EPILOG = """\
examples:
  molgen screen --model runs/esol-dmpnn --library enamine/ --output screen/ --top-k 1000
  molgen screen --model runs/a --model runs/b --library 'lib/*.smi.gz' --output out/ \\
                --acquisition ucb --kappa 2 --filters lipinski,pains
  molgen screen --model runs/tox --library lib.parquet --output out/ --sort-by tox --ascending
  molgen screen ... --scheduler tcp://head-node:8786   # an existing Dask cluster"""


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "screen",
        help="score a large molecule library (streaming, sharded, resumable, Dask)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="DIR",
        help="model folder (run folder or its model/); repeat to pool several models into one "
        "ensemble (every member of every model gets one vote)",
    )
    parser.add_argument("--library", required=True, metavar="PATH", help="a library file, a quoted glob or a folder")
    parser.add_argument("--output", required=True, metavar="DIR", help="output folder (created; reruns resume)")
    parser.add_argument("--top-k", type=int, default=100, metavar="K", help="rows in top_k.csv (default: 100)")
    parser.add_argument(
        "--sort-by",
        metavar="TARGET",
        help="predicted target to rank by (default: the first; multiclass: TARGET_prob_CLASS)",
    )
    parser.add_argument(
        "--ascending",
        action="store_true",
        help="lower is better for --sort-by (a target to minimize); default: higher is better",
    )
    parser.add_argument(
        "--acquisition",
        choices=("mean", "ucb"),
        default="mean",
        help="mean: rank by the ensemble mean; ucb: by mean + KAPPA·std (with --ascending: "
        "mean - KAPPA·std, lowest first), favouring molecules the ensemble is unsure of; "
        "needs several members",
    )
    parser.add_argument("--kappa", type=float, default=1.0, help="weight of the ensemble std in ucb (default: 1)")
    parser.add_argument(
        "--filters",
        metavar="NAMES",
        help="comma-separated: lipinski (rule of five, ≤1 violation), veber, pains, brenk; "
        "failing rows are kept but not ranked",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=50_000,
        metavar="N",
        help="records per shard, the unit of work and of resume (default: 50000)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        help="molecules per inference batch (default: 64, whose arrays stay in a core's cache: 1.2x "
        "the rate of 256 on a CPU; each molecule in a batch costs ~0.7 MB of peak memory with a D-MPNN of "
        "hidden size 300)",
    )
    parser.add_argument(
        "--precision",
        choices=("32", "bf16-mixed"),
        default="32",
        help="compute in float32 (the default) or in bfloat16 autocast (bf16-mixed: faster on a CPU with "
        "AVX512-BF16 or AMX; predictions move by about 0.1%% of their scale; a resume must use the same)",
    )
    parser.add_argument(
        "--smiles-column",
        help="SMILES column of CSV/TSV/Parquet files (default: the model's, else smiles/SMILES/canonical_smiles)",
    )
    parser.add_argument(
        "--id-column",
        help="id column to carry into the results (default: id/name/… if present; "
        "for SDF an SD property, else the molecule title)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="default: on up to 2 cores, this process predicts while a worker process featurizes its next "
        "molecules; on more cores, a local Dask cluster of one process per core; 0 or 1: this process alone; "
        "N ≥ 2: a local Dask cluster of N single-threaded processes, each scoring whole shards",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="an existing Dask scheduler, e.g. tcp://host:8786 (its workers need molgen and the "
        "same paths to the models, library and output)",
    )
    parser.add_argument("--retries", type=int, default=2, help="extra attempts for a shard that fails (default: 2)")
    parser.add_argument(
        "--no-domain",
        dest="domain",
        action="store_false",
        help="leave out the applicability-domain columns train_similarity and in_domain",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from molgen.screening import screen
    from molgen.screening.runner import quiet_dask

    if args.workers is not None and args.workers < 0:
        raise ConfigError(f"--workers must be ≥ 0, got {args.workers}")
    options = {} if args.batch_size is None else {"batch_size": args.batch_size}  # else the library's default
    with quiet_dask():  # Dask logs its cluster start-up and shutdown at INFO
        result = screen(
            args.model,
            args.library,
            args.output,
            top_k=args.top_k,
            sort_by=args.sort_by,
            acquisition=args.acquisition,
            kappa=args.kappa,
            ascending=args.ascending,
            filters=args.filters,
            chunk_size=args.chunk_size,
            precision=args.precision,
            smiles_column=args.smiles_column,
            id_column=args.id_column,
            workers=args.workers,
            scheduler=args.scheduler,
            retries=args.retries,
            domain=args.domain,
            **options,
        )
    print(
        f"screened {result.n_rows} rows in {result.n_shards} shards ({len(result.computed)} scored now, "
        f"{result.reused} reused; {result.workers}) in {result.seconds:.1f} s: "
        f"{result.n_valid} valid, {result.n_invalid} invalid, {result.n_filtered} removed by filters"
    )
    print(f"top {len(result.top_k)} → {result.output / 'top_k.csv'}; all rows → {result.output / 'shards'}")
    return 0
