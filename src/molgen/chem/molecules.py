"""SMILES parsing: the one place in molgen that decides what an invalid molecule is.

A molecule is **valid** when RDKit parses and sanitizes it with its defaults
(``Chem.MolFromSmiles``: sanitization, explicit-H removal, stereo perception) and it has at
least one atom. Salts and other multi-fragment inputs, isotopes, stereo, single atoms and
macrocycles are valid and kept as given (standardization is a separate, optional step:
:mod:`molgen.chem.standardize`). Leading and trailing whitespace is ignored; whitespace *inside* is
invalid (RDKit would read ``CC O`` as ethane named "O", so a table cell is never silently cut).

**Invalid** inputs get an :class:`InvalidMolecule` record with a human-readable reason:
``missing value (None)``, ``missing value (NaN)``, ``empty SMILES``,
``not a string (int)``, ``whitespace inside SMILES``, ``SMILES syntax error (around position 1)``,
``SMILES syntax error: unclosed ring``,
``sanitization failed: Explicit valence for atom # 0 N, 5, is greater than permitted``,
``molecule has no atoms``. RDKit's C++ log messages are captured, never printed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rdkit import Chem, rdBase

__all__ = ["InvalidMolecule", "iter_molecules", "parse_many", "parse_smiles"]

_LOG_TIMESTAMP = re.compile(r"^\[\d\d:\d\d:\d\d\] ", re.MULTILINE)
_SYNTAX_PREFIX = "SMILES Parse Error: "
_SYNTAX_DETAIL_END = re.compile(r"( while parsing:| for input:).*$")
_SYNTAX_POSITION = re.compile(r"check for mistakes around position (\d+)")
_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True)
class InvalidMolecule:
    """An input that is not a valid molecule.

    Attributes:
        index: 0-based position in the input sequence.
        smiles: The input as a string (``repr`` of non-strings, ``""`` for None/NaN).
        reason: Human-readable reason, e.g. ``"SMILES syntax error: unclosed ring"``.
    """

    index: int
    smiles: str
    reason: str


def _reject_non_string(value: Any) -> tuple[str, str]:
    """(smiles-as-string, reason) for an input that is not a ``str``."""
    if value is None:
        return "", "missing value (None)"
    if isinstance(value, float) and math.isnan(value):  # also numpy.float64
        return "", "missing value (NaN)"
    type_name = type(value).__name__
    if type_name in ("NAType", "NaTType"):  # pandas missing markers, without importing pandas
        return "", "missing value (NaN)"
    try:
        if value != value:  # other NaN-like scalars (numpy.float32 NaN, decimal NaN)
            return "", "missing value (NaN)"
    except (TypeError, ValueError):
        pass
    return repr(value), f"not a string ({type_name})"


def _reason_from_rdkit_log(messages: str) -> str:
    """Turns RDKit's captured error log for one failed parse into a short reason."""
    lines = [line.strip() for line in _LOG_TIMESTAMP.sub("", messages).splitlines() if line.strip()]
    if not lines:
        return "RDKit could not parse the SMILES"
    first = lines[0]
    if not first.startswith(_SYNTAX_PREFIX):
        return f"sanitization failed: {first}"
    detail = _SYNTAX_DETAIL_END.sub("", first[len(_SYNTAX_PREFIX) :]).strip()
    reason = "SMILES syntax error"
    if detail and detail != "syntax error":
        reason += f": {detail}"
    position = _SYNTAX_POSITION.search(messages)
    return f"{reason} (around position {position.group(1)})" if position else reason


class _QuietParser:
    """Parses SMILES with RDKit's logs blocked and its error log captured for reasons.

    Use as a context manager around a batch of :meth:`parse` calls (entering costs ~3 us).
    """

    def __enter__(self) -> _QuietParser:
        self._block = rdBase.BlockLogs()
        self._capture = rdBase.CaptureErrorLog()
        self._capture.__enter__()
        self._seen = 0
        return self

    def __exit__(self, *exc_info) -> None:
        self._capture.__exit__(*exc_info)
        del self._block

    def parse(self, smiles: Any) -> tuple[Chem.Mol, None, None] | tuple[None, str, str]:
        """Returns ``(mol, None, None)`` or ``(None, smiles_as_string, reason)``."""
        if not isinstance(smiles, str):
            as_string, reason = _reject_non_string(smiles)
            return None, as_string, reason
        text = smiles.strip()
        if not text:
            return None, smiles, "empty SMILES"
        if _WHITESPACE.search(text):
            return None, smiles, "whitespace inside SMILES"
        if not text.isascii():  # SMILES is ASCII; RDKit's log would cut a multi-byte character in half
            return None, smiles, "non-ASCII character in SMILES"
        try:
            mol = Chem.MolFromSmiles(text)
        except Exception as error:
            return None, smiles, f"RDKit error: {error}"
        if mol is None:
            messages = self._capture.messages
            reason = _reason_from_rdkit_log(messages[self._seen :])
            self._seen = len(messages)
            return None, smiles, reason
        if mol.GetNumAtoms() == 0:
            return None, smiles, "molecule has no atoms"
        return mol, None, None


def parse_smiles(smiles: Any) -> tuple[Chem.Mol | None, str | None]:
    """Parses one SMILES; never raises.

    Args:
        smiles: A SMILES string (anything else is reported as invalid).

    Returns:
        ``(mol, None)`` for a valid molecule, else ``(None, reason)``.
    """
    with _QuietParser() as parser:
        mol, _, reason = parser.parse(smiles)
    return mol, reason


def iter_molecules(
    smiles: Iterable[Any], *, start_index: int = 0
) -> Iterator[tuple[int, Chem.Mol | None, InvalidMolecule | None]]:
    """Parses SMILES one at a time (streaming: a molecule can be freed before the next).

    RDKit's log is blocked (and its error log captured) while the iterator is active.

    Args:
        smiles: Inputs, typically strings; None, NaN and non-strings are reported as invalid.
        start_index: Index of the first input (for chunks of a longer sequence).

    Yields:
        ``(index, mol, None)`` for a valid input, ``(index, None, record)`` otherwise.
    """
    with _QuietParser() as parser:
        for index, item in enumerate(smiles, start_index):
            parsed = parser.parse(item)
            if parsed[0] is None:
                yield index, None, InvalidMolecule(index, parsed[1], parsed[2])
            else:
                yield index, parsed[0], None


def parse_many(smiles: Sequence[Any], *, start_index: int = 0) -> tuple[list[Chem.Mol | None], list[InvalidMolecule]]:
    """Parses many SMILES; never raises.

    Args:
        smiles: Inputs, typically strings; None, NaN and non-strings are reported as invalid.
        start_index: Added to positions in the records (for chunks of a longer sequence).

    Returns:
        ``(mols, invalid)``: ``mols[i]`` is the molecule of input ``i`` or None, and
        ``invalid`` holds one record per None, in input order.
    """
    mols: list[Chem.Mol | None] = []
    invalid: list[InvalidMolecule] = []
    for _, mol, record in iter_molecules(smiles, start_index=start_index):
        mols.append(mol)
        if record is not None:
            invalid.append(record)
    return mols, invalid
