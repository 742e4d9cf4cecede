"""``molgen`` entry point: parses the command line, dispatches to a command module, reports errors."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from molgen import __version__
from molgen.cli import (
    attribute,
    benchmark,
    datasets,
    evaluate_generation,
    generate,
    predict,
    screen,
    train,
    tune,
    variant_effect,
)
from molgen.errors import MolgenError

# Each command module imports only argparse-level code at the top; heavy libraries (torch, Lightning, RDKit,
# pandas, the families) load inside its run function, so `molgen --help` starts fast.
COMMANDS = (
    train,
    tune,
    predict,
    screen,
    datasets,
    variant_effect,
    attribute,
    benchmark,
    generate,
    evaluate_generation,
)


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
    except MolgenError as err:  # a user error: one line; anything else is a bug and keeps its traceback
        if args.debug or os.environ.get("MOLGEN_DEBUG"):
            raise
        print(f"molgen {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
