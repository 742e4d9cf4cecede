"""Lines the commands print to the terminal."""

from __future__ import annotations

import sys
from collections.abc import Sequence

SHOWN = 20


def print_invalid(lines: Sequence[str], n_invalid: int, prefix: str, unit: str) -> None:
    """The first :data:`SHOWN` invalid-input lines on stderr (each after ``prefix``), then how many more ``unit``."""
    for line in lines[:SHOWN]:
        print(f"{prefix}{line}", file=sys.stderr)
    if n_invalid > SHOWN:
        print(f"… and {n_invalid - SHOWN} more {unit}", file=sys.stderr)
