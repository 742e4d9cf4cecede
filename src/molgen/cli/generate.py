"""``molgen generate``: sample a trained generator into a SMILES file, optionally optimizing an objective."""

from __future__ import annotations

import argparse
import sys


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "generate",
        help="sample molecules from a trained generator",
        description="Example: molgen generate --model runs/charrnn/model -n 10000 --output samples.smi --seed 0",
    )
    parser.add_argument("--model", required=True, help="generator folder (run folder or its model/)")
    parser.add_argument("-n", "--n", type=int, required=True, dest="n", help="molecules to generate")
    parser.add_argument("--output", required=True, help=".smi file to write (one SMILES per line)")
    parser.add_argument("--seed", type=int, help="random seed (same seed and batch size: same molecules)")
    parser.add_argument("--batch-size", type=int, default=512, help="molecules per sampling batch")
    parser.add_argument("--temperature", type=float, help="sampling temperature (default: the model's)")
    objective = parser.add_argument_group("property-guided generation (VAE latent optimization)")
    objective.add_argument(
        "--objective",
        help="qed | logp | sa | mw | MODEL_DIR[:target] (a molgen property model); writes SMILES<TAB>score",
    )
    objective.add_argument(
        "--direction",
        default="auto",
        choices=("auto", "maximize", "minimize"),
        help="auto: minimize sa, maximize everything else",
    )
    objective.add_argument("--rounds", type=int, default=10, help="search rounds")
    objective.add_argument("--population", type=int, help="candidates per round (default: max(2n, 256))")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from molgen.analysis.sampling import optimize_to_file, write_samples
    from molgen.families.generation.family import load_generator
    from molgen.io import check_writable

    check_writable(args.output)  # before loading and sampling
    generator = load_generator(args.model)
    if args.objective:
        summary, path = optimize_to_file(
            generator,
            args.objective,
            args.n,
            args.output,
            direction=args.direction,
            seed=args.seed or 0,
            rounds=args.rounds,
            population=args.population,
            batch_size=args.batch_size,
        )
        before, after = summary["before"], summary["after"]
        print(f"objective {summary['objective']} ({summary['direction']}), {summary['n_evaluated']} candidates decoded")
        for name, stats in (("before (plain samples)", before), ("after (optimized)", after)):
            cells = ", ".join(f"{k} {v:.3f}" for k, v in stats.items() if k not in ("n", "valid"))
            print(f"  {name}: {cells}  [n={stats['n']}, valid {stats['valid']:.3f}]")
        print(f"wrote {summary['n_written']} molecules to {args.output}; statistics in {path}")
        return 0
    progress = _progress_bar(args.n)
    written = write_samples(
        generator,
        args.n,
        args.output,
        seed=args.seed,
        batch_size=args.batch_size,
        temperature=args.temperature,
        progress=progress.update if progress is not None else None,
    )
    if progress is not None:
        progress.close()
    print(
        f"wrote {written.n} molecules to {written.output} ({written.n_invalid} invalid, "
        f"{written.n_invalid / max(written.n, 1):.1%}; {written.per_second:.0f} molecules/s)"
    )
    return 0


def _progress_bar(total: int):
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="mol", file=sys.stderr)
