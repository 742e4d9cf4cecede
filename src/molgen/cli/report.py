"""``molgen report RUN_DIR``: the run's self-contained HTML report (``RUN_DIR/report.html`` by default)."""

from __future__ import annotations

import argparse


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "report",
        help="write a run folder's HTML report",
        description="Write one self-contained HTML file (plots embedded) from a run folder's files: config, data "
        "summary, training curves, test metrics, parity or ROC/PR plots, calibration, the worst test predictions, "
        "the applicability domain and the model card. molgen train writes it at the end (unless --no-report).",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run folder (the --output of molgen train)")
    parser.add_argument("--output", help="HTML file to write (default: RUN_DIR/report.html)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from molgen.io import check_writable
    from molgen.report import write_report

    if args.output:
        check_writable(args.output)
    path = write_report(args.run_dir, args.output)
    print(f"wrote {path}")
    return 0
