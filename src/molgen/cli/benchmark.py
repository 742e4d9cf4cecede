"""``molgen benchmark``: run a suite profile (datasets × models × seeds) and report it; ``--check`` gates CI."""

from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLE = (
    "Example: molgen benchmark moleculenet --profile ci --output runs/bench-ci --check. "
    "Run the same command again to resume: finished cells are skipped."
)


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "benchmark",
        help="run a benchmark suite and compare it with published results",
        description=f"Runs every dataset × model × seed of a suite profile through fit(). {EXAMPLE}",
    )
    parser.add_argument("suite", help="a suite name under benchmarks/ (moleculenet, expression, …) or a YAML path")
    parser.add_argument(
        "--profile",
        required=True,
        choices=("ci", "full"),
        help="ci: minutes on a CPU, with regression thresholds; full: paper settings",
    )
    parser.add_argument("--output", required=True, help="folder for results.json, results.md, the plot and cells/")
    parser.add_argument(
        "--only",
        nargs="+",
        default=[],
        metavar="DATASET/MODEL",
        help="run only these cells (patterns: esol, esol/dmpnn, */gin)",
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        metavar="SEED",
        help="these seeds instead of the profile's (e.g. --profile ci --seeds 0 1 2 measures the gate's seed spread)",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a metric crosses its ci threshold or a cell failed"
    )
    parser.add_argument(
        "--baseline",
        choices=("chemprop",),
        help="also train Chemprop 2.3.1 on each cell's own split, seed and epochs (its own venv, made on first use)",
    )
    parser.add_argument(
        "--baseline-venv",
        type=Path,
        help="the Chemprop virtual environment (default: chemprop-<version> in molgen's cache folder)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from molgen.benchmarking import (
        check_record,
        find_suite,
        load_suite,
        run_suite,
        write_report,
    )

    suite = load_suite(find_suite(args.suite))
    output = Path(args.output)
    cells = suite.cells(args.profile, args.only, args.seeds)
    print(f"suite {suite.name}, profile {args.profile}: {len(cells)} cells → {output}", flush=True)

    def say(line: str) -> None:
        print(line, flush=True)

    record = run_suite(suite, args.profile, output, only=args.only, seeds=args.seeds, progress=say)
    if args.baseline == "chemprop":
        from molgen.benchmarking.baselines import run_baselines

        run_baselines(record, output, venv_dir=args.baseline_venv, progress=say)
    gate = None
    if args.check:
        gate = check_record(suite.profile(args.profile), record)
    write_report(output, record, gate)
    print((output / "results.md").read_text())
    if gate is not None and not gate["passed"]:
        print("benchmark check FAILED:\n  " + "\n  ".join(gate["failures"]), flush=True)
        return 1
    return 0
