"""The input cap: a molecule with more heavy atoms than ``max_atoms`` is an invalid row, decided from the SMILES
text before RDKit parses it (parsing and featurizing a 200,000-atom SMILES takes minutes; counting takes
milliseconds)."""

from __future__ import annotations

import re

__all__ = ["DEFAULT_MAX_ATOMS", "count_heavy_atoms", "over_cap"]

DEFAULT_MAX_ATOMS = 500
"""Heavy atoms allowed per molecule unless ``data.max_atoms`` says otherwise."""

# A bracket atom, or an organic-subset atom outside brackets (two-letter symbols first).
_ATOM = re.compile(r"\[([^\]]*)\]|Br|Cl|[BCNOPSFI]|[bcnops]|\*")
_BRACKET_HYDROGEN = re.compile(r"\d*H(?![a-z])")  # [H], [2H], [H+] …, not [He] [Hg] [Ho] [Hf] [Hs]


def count_heavy_atoms(smiles: str) -> int:
    """Atoms other than hydrogen written in ``smiles`` (implicit hydrogens are never written)."""
    count = 0
    for match in _ATOM.finditer(smiles):
        inside = match.group(1)
        if inside is None or not _BRACKET_HYDROGEN.match(inside):
            count += 1
    return count


def over_cap(smiles: object, max_atoms: int | None) -> str | None:
    """The invalid-row reason when ``smiles`` has more than ``max_atoms`` heavy atoms, else None (also for
    non-strings, which the parser reports, and when ``max_atoms`` is None: no cap)."""
    if max_atoms is None or not isinstance(smiles, str) or len(smiles) <= max_atoms:
        return None  # a SMILES no longer than the cap cannot hold more atoms than it
    n = count_heavy_atoms(smiles)
    return f"{n} heavy atoms > max_atoms {max_atoms}" if n > max_atoms else None
