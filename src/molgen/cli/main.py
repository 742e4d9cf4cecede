"""``molgen`` entry point: parses the command line, dispatches to a command module, reports errors."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from molgen import __version__
from molgen.cli import datasets, predict, screen, train, tune, attribute, variant_effect
from molgen.cli import benchmark
from molgen.cli import generate
from molgen.cli import evaluate_generation

COMMANDS = (train, tune, predict, screen, datasets, variant_effect, attribute, benchmark, generate, evaluate_generation)
USER_ERRORS = (ValueError, FileNotFoundError, KeyError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="molgen",
        description="Molecular property prediction, molecule generation and DNA sequence models.",
    )
    parser.add_argument("--version", action="version", version=f"molgen {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="molgen: %(message)s", stream=sys.stderr)
    try:
        return int(args.run(args) or 0)
    except USER_ERRORS as err:
        if args.debug or os.environ.get("MOLGEN_DEBUG"):
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"molgen {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
