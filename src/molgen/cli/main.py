"""``molgen`` entry point: parses the command line, dispatches to a command module, reports errors."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from molgen import __version__
from molgen.cli import (
    attribute,
    benchmark,
    datasets,
    embed,
    evaluate_generation,
    federate,
    generate,
    interpret,
    predict,
    pretrain,
    report,
    screen,
    serve,
    train,
    tune,
    variant_effect,
)
from molgen.errors import MolgenError
from molgen.threads import apply_threads, choose_threads, parse_threads

# Each command module imports only argparse-level code at the top; heavy libraries (torch, Lightning, RDKit,
# pandas, the families) load inside its run function, so `molgen --help` starts fast.
COMMANDS = (
    train,
    tune,
    pretrain,
    predict,
    embed,
    serve,
    screen,
    report,
    datasets,
    variant_effect,
    attribute,
    interpret,
    benchmark,
    generate,
    evaluate_generation,
    federate,
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
    for subparser in commands.choices.values():
        subparser.add_argument(
            "--threads",
            default="auto",
            metavar="N|auto",
            help="CPU threads to compute with (default auto: the cores not busy with other work, at least 1; "
            "an OMP_NUM_THREADS in the environment is kept)",
        )
    return parser


EXIT_USER_ERROR = 2
"""A problem with what the user gave (config, flags, data, model folder): a :class:`MolgenError`."""
EXIT_ENVIRONMENT_ERROR = 3
"""The machine refused: an ``OSError`` (permission denied, read-only filesystem, disk full …) or out of memory."""
EXIT_INTERRUPTED = 130
"""Interrupted (Ctrl-C / SIGINT): 128 + 2, as shells report it."""


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command. Expected faults print one line and return a distinct exit status (see the
    ``EXIT_*`` constants); anything else is a bug and keeps its traceback. ``--debug`` (or ``$MOLGEN_DEBUG``)
    shows the traceback of every error."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="molgen: %(message)s", stream=sys.stderr)
    debug = bool(args.debug or os.environ.get("MOLGEN_DEBUG"))
    interrupted = False

    def on_interrupt(signum: int, frame: object) -> None:
        nonlocal interrupted
        interrupted = True  # Lightning turns a KeyboardInterrupt during fit into sys.exit(1); remember why
        raise KeyboardInterrupt

    in_main_thread = threading.current_thread() is threading.main_thread()  # signal handlers live there
    previous = signal.signal(signal.SIGINT, on_interrupt) if in_main_thread else None
    try:
        apply_threads(choose_threads(parse_threads(args.threads)))
        return int(args.run(args) or 0)
    except BaseException as err:
        failure = None if debug else expected_failure(err, interrupted=interrupted)
        if failure is None:  # a bug (or --debug): the traceback
            raise
        message, status = failure
        print(f"molgen {args.command}: error: {message}", file=sys.stderr)
        return status
    finally:
        if in_main_thread:
            signal.signal(signal.SIGINT, previous)


def expected_failure(err: BaseException, *, interrupted: bool = False) -> tuple[str, int] | None:
    """``(one-line message, exit status)`` for an expected fault; None for a bug (or a plain ``sys.exit``).

    Args:
        interrupted: SIGINT was received (Lightning ends an interrupted fit with ``sys.exit(1)``).
    """
    if isinstance(err, KeyboardInterrupt) or (isinstance(err, SystemExit) and interrupted):
        return "interrupted", EXIT_INTERRUPTED
    if isinstance(err, MolgenError):  # before OSError: DataSourceError is also a FileNotFoundError
        return str(err), EXIT_USER_ERROR
    if isinstance(err, MemoryError) or _is_out_of_memory(err):
        return "out of memory; try a smaller --batch-size or fewer rows", EXIT_ENVIRONMENT_ERROR
    if isinstance(err, OSError):
        return describe_os_error(err), EXIT_ENVIRONMENT_ERROR
    return None


def _is_out_of_memory(err: BaseException) -> bool:
    """torch reports exhausted memory as RuntimeError subclasses (``torch.OutOfMemoryError`` on GPUs)."""
    text = str(err)
    return isinstance(err, RuntimeError) and (
        type(err).__name__ == "OutOfMemoryError" or "can't allocate memory" in text or "out of memory" in text
    )


def describe_os_error(err: OSError) -> str:
    """``PATH: cause`` for an I/O error, with a hint for a full disk."""
    cause = err.strerror or str(err) or type(err).__name__
    if err.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        cause += " (the disk is full or a file size limit was reached)"
    if err.filename is not None:
        target = f"{err.filename} -> {err.filename2}" if err.filename2 is not None else str(err.filename)
        return f"{target}: {cause}"
    return cause


def _fail(command: str, message: str, status: int) -> int:
    print(f"molgen {command}: error: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
