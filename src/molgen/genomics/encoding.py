"""DNA encodings: the one place that decides which sequences are valid and how they become tensors.

Formats (the data contract every sequence model and tool shares):

- **string**: ``ACGTN`` in any case (lowercase = soft-masked, upper-cased here); anything else — other
  IUPAC codes, gaps, digits, whitespace — and the empty string are invalid.
- **indices** ``uint8 [N, L]``: A 0, C 1, G 2, T 3, N 4; padding 4 by default (``pad_value``).
- **one-hot** ``float32 [N, 4, L]``, channels in ``ALPHABET`` order. N is ``0.25`` in every channel
  (``n_value="uniform"``) or all zeros (``"zero"``); padding is always all zeros, so a model can tell
  padding from an unknown base when N is uniform.

Variable lengths are padded or cropped to ``length``: ``pad="center"`` (default) keeps the middle of a
long sequence and centres a short one (an odd remainder goes to the right); ``pad="right"`` keeps the
start (pads/crops at the 3' end); ``pad="left"`` keeps the end (pads/crops at the 5' end).

Everything is vectorized over the concatenated bytes of all sequences (one ``np.frombuffer`` and one
lookup table), never a Python loop over characters.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from molgen.errors import ConfigError, InvalidInputError, UnknownNameError

log = logging.getLogger("molgen")

ALPHABET = "ACGT"
N_CODE = 4
PAD_CODE = 5
"""Padding code used internally (:func:`encode_indices` with ``pad_value=PAD_CODE``) so that one-hot
padding (zeros) stays distinct from N (uniform)."""
N_VALUES = ("uniform", "zero")
PAD_MODES = ("center", "left", "right")
_INVALID = 255

_LUT = np.full(256, _INVALID, dtype=np.uint8)
for _code, _base in enumerate("ACGTN"):
    _LUT[ord(_base)] = _LUT[ord(_base.lower())] = _code
_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")

__all__ = [
    "ALPHABET",
    "MAX_PREDICT_LENGTH",
    "check_lengths",
    "prediction_inputs",
    "N_CODE",
    "PAD_CODE",
    "N_VALUES",
    "PAD_MODES",
    "InvalidSequence",
    "validate_sequence",
    "find_invalid",
    "encode_indices",
    "one_hot",
    "indices_to_onehot",
    "onehot_table",
    "decode_onehot",
    "reverse_complement",
    "reverse_complement_onehot",
    "sequence_lengths",
]


@dataclass(frozen=True)
class InvalidSequence:
    """A sequence that cannot be encoded.

    Attributes:
        index: 0-based position in the input list (or table row).
        record: what the user calls it: a FASTA id or a row label ("data.csv line 7").
        reason: e.g. ``"invalid character 'X' at position 17"`` (1-based) or ``"empty sequence"``.
    """

    index: int
    record: str
    reason: str

    def __str__(self) -> str:
        return f"{self.record}: {self.reason}" if self.record else self.reason


def _check_choice(name: str, value: str, valid: Sequence[str]) -> None:
    if value not in valid:
        raise UnknownNameError(f"unknown {name} {value!r}; valid values: {', '.join(valid)}")


def _as_list(seqs: Sequence[str] | str) -> list[str]:
    if isinstance(seqs, str):
        raise TypeError("expected a sequence of strings, got a single string; wrap it in a list")
    return list(seqs)


def _flat_codes(seqs: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes of the concatenated sequences, lengths, start offsets); invalid characters are 255.

    Non-ASCII characters become one ``?`` byte each, so positions stay aligned with the string.
    """
    lengths = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
    buffer = "".join(seqs).encode("ascii", errors="replace")
    codes = _LUT[np.frombuffer(buffer, dtype=np.uint8)]
    offsets = np.zeros(len(seqs), dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    return codes, lengths, offsets


def sequence_lengths(seqs: Sequence[str]) -> np.ndarray:
    """``int64 [N]`` lengths."""
    return np.fromiter(map(len, _as_list(seqs)), dtype=np.int64)


def _record_name(records: Sequence[str] | None, i: int) -> str:
    return str(records[i]) if records is not None else f"sequence {i + 1}"


def find_invalid(seqs: Sequence[str], records: Sequence[str] | None = None) -> list[InvalidSequence]:
    """Every invalid sequence (vectorized): non-strings, empty strings, characters outside ``ACGTNacgtn``.

    Args:
        records: one name per sequence for the messages (default ``"sequence <i+1>"``).

    Returns:
        One :class:`InvalidSequence` per bad sequence, in input order (the first bad character each).
    """
    seqs = _as_list(seqs)
    if records is not None and len(records) != len(seqs):
        raise ValueError(f"{len(records)} record names for {len(seqs)} sequences")
    problems: dict[int, str] = {}
    for i, seq in enumerate(seqs):
        if not isinstance(seq, str):
            problems[i] = f"not a sequence string: {seq!r}"
    if problems:
        seqs = [s if isinstance(s, str) else "" for s in seqs]
    codes, lengths, offsets = _flat_codes(seqs)
    for row in np.flatnonzero(lengths == 0):
        problems.setdefault(int(row), "empty sequence")
    bad = np.flatnonzero(codes == _INVALID)
    if bad.size:
        rows = np.searchsorted(offsets, bad, side="right") - 1
        first = np.unique(rows, return_index=True)
        for row, at in zip(*first, strict=True):
            pos = int(bad[at] - offsets[row])
            problems[int(row)] = f"invalid character {seqs[row][pos]!r} at position {pos + 1}"
    return [InvalidSequence(i, _record_name(records, i), problems[i]) for i in sorted(problems)]


def validate_sequence(seq: str, *, record: str = "") -> str:
    """The upper-cased sequence, or ValueError naming ``record``, the bad character and its 1-based position."""
    found = find_invalid([seq], [record] if record else None)
    if found:
        raise InvalidInputError(f"{record}: {found[0].reason}" if record else found[0].reason)
    return seq.upper()


def _raise_first_invalid(seqs: list[str], codes: np.ndarray, lengths: np.ndarray) -> None:
    if (codes == _INVALID).any() or (lengths == 0).any():
        bad = find_invalid(seqs)
        raise InvalidInputError(
            f"{len(bad)} invalid sequence(s), first {bad[0]}; use find_invalid() to check inputs first"
        )


def encode_indices(
    seqs: Sequence[str], length: int | None = None, *, pad: str = "center", pad_value: int = N_CODE
) -> np.ndarray:
    """Index encoding ``uint8 [N, L]``: A 0, C 1, G 2, T 3, N 4, padding ``pad_value``.

    Args:
        length: pad/crop every sequence to this length; default: the longest sequence.
        pad: ``center`` | ``left`` | ``right`` (see the module docstring).
        pad_value: code of padding positions; :data:`PAD_CODE` keeps padding distinct from N.

    Raises:
        ValueError: an invalid or empty sequence (the message names the first one).
    """
    _check_choice("pad", pad, PAD_MODES)
    seqs = _as_list(seqs)
    if not seqs:
        return np.zeros((0, length or 0), dtype=np.uint8)
    codes, lengths, offsets = _flat_codes(seqs)
    _raise_first_invalid(seqs, codes, lengths)
    target = int(lengths.max()) if length is None else int(length)
    if target <= 0:
        raise ConfigError(f"length must be positive, got {length}")
    if (lengths == target).all():
        return codes.reshape(len(seqs), target).copy()
    out = np.full((len(seqs), target), pad_value, dtype=np.uint8)
    keep = np.minimum(lengths, target)
    excess = np.abs(lengths - target)
    shift = {"center": excess // 2, "right": np.zeros_like(excess), "left": excess}[pad]
    src = offsets + np.where(lengths > target, shift, 0)
    dst = np.where(lengths < target, shift, 0)
    rows = np.repeat(np.arange(len(seqs)), keep)
    within = np.arange(int(keep.sum())) - np.repeat(np.cumsum(keep) - keep, keep)
    out[rows, dst[rows] + within] = codes[src[rows] + within]
    return out


def onehot_table(n_value: str = "uniform") -> np.ndarray:
    """``float32 [6, 4]``: the one-hot row of each code A, C, G, T, N, padding (:data:`PAD_CODE`)."""
    _check_choice("n_value", n_value, N_VALUES)
    table = np.zeros((6, 4), dtype=np.float32)
    table[np.arange(4), np.arange(4)] = 1.0
    if n_value == "uniform":
        table[N_CODE] = 0.25
    return table


def indices_to_onehot(indices: np.ndarray, n_value: str = "uniform") -> np.ndarray:
    """``uint8 [N, L]`` codes (N 4, padding :data:`PAD_CODE`) → ``float32 [N, 4, L]``."""
    _check_choice("n_value", n_value, N_VALUES)
    indices = np.asarray(indices)
    out = np.empty((indices.shape[0], 4, indices.shape[1]), dtype=np.float32)
    for channel in range(4):  # a comparison written straight into float32: ~4× a gather + transpose
        np.equal(indices, channel, out=out[:, channel, :], casting="unsafe")
    if n_value == "uniform":
        unknown = indices == N_CODE
        if unknown.any():
            rows, cols = np.nonzero(unknown)
            out[rows, :, cols] = 0.25
    return out


def one_hot(
    seqs: Sequence[str], *, length: int | None = None, n_value: str = "uniform", pad: str = "center"
) -> np.ndarray:
    """One-hot encoding ``float32 [N, 4, L]`` (channels ``ACGT``).

    N is ``0.25`` per channel (``n_value="uniform"``) or zeros (``"zero"``); padding positions are
    always zeros. ``length``/``pad`` as in :func:`encode_indices`.
    """
    _check_choice("n_value", n_value, N_VALUES)
    return indices_to_onehot(encode_indices(seqs, length, pad=pad, pad_value=PAD_CODE), n_value)


def decode_onehot(x: Any) -> list[str]:
    """Inverse of :func:`one_hot`: exact one-hot columns → bases, other non-zero columns → ``N``,
    all-zero columns (padding; also N with ``n_value="zero"``) are dropped."""
    x = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=np.float32)
    letters = np.frombuffer(b"ACGTN", dtype=np.uint8)
    codes = np.where(x.max(axis=1) == 1.0, x.argmax(axis=1), N_CODE)
    present = x.any(axis=1)
    return [letters[codes[i][present[i]]].tobytes().decode() for i in range(x.shape[0])]


def reverse_complement(seq: str) -> str:
    """Reverse complement of a DNA string (case and N preserved)."""
    return seq.translate(_COMPLEMENT)[::-1]


def reverse_complement_onehot(x: Any) -> Any:
    """Reverse complement of one-hot ``[..., 4, L]`` (numpy or torch): flips the length axis and, since
    channels are in ``ACGT`` order, the channel axis (A↔T, C↔G)."""
    if hasattr(x, "flip"):  # torch.Tensor
        return x.flip((-2, -1))
    return np.ascontiguousarray(np.asarray(x)[..., ::-1, ::-1])


MAX_PREDICT_LENGTH = 1_000_000
"""Prediction inputs longer than this (nt) are invalid rows (the model reads a crop of its input length anyway)."""


def prediction_inputs(seqs: Sequence[str], names: Sequence[str]) -> tuple[np.ndarray, dict[int, str]]:
    """``(valid rows, {row: why it is invalid})`` of prediction inputs: invalid characters, or longer than
    :data:`MAX_PREDICT_LENGTH` nt (never minutes of one-hot work)."""
    lengths = sequence_lengths(seqs)
    too_long = {
        int(i): f"{lengths[i]} nt is longer than {MAX_PREDICT_LENGTH} nt"
        for i in np.flatnonzero(lengths > MAX_PREDICT_LENGTH)
    }
    reasons = {
        bad.index: str(bad)
        for bad in find_invalid([s if i not in too_long else "A" for i, s in enumerate(seqs)], names)
    }
    reasons.update({i: f"{names[i]}: {why}" for i, why in too_long.items()})
    valid = np.setdiff1d(np.arange(len(seqs)), np.fromiter(reasons, dtype=np.int64, count=len(reasons)))
    return valid, reasons


def check_lengths(lengths: np.ndarray, rows: np.ndarray, length: int | None, on_mismatch: str) -> None:
    """Warns once with the counts of the sequences the model's input ``length`` crops or pads (``warn``),
    or refuses them (``error``)."""
    if on_mismatch not in ("warn", "error"):
        raise ConfigError(f"unknown on_length_mismatch {on_mismatch!r}; valid values: warn, error")
    if length is None:
        return
    longer, shorter = rows[lengths > length], rows[lengths < length]
    if not len(longer) and not len(shorter):
        return
    first = ", ".join(f"row {i + 1}" for i in np.sort(np.concatenate([longer, shorter]))[:5])
    if on_mismatch == "error":
        raise InvalidInputError(
            f"{len(longer)} sequence(s) longer and {len(shorter)} shorter than the model's {length} nt input "
            f"(e.g. {first}); pass --on-length-mismatch warn to crop or pad them"
        )
    counts = (
        f"{len(longer)} sequence(s) longer than the model's {length} nt input cropped, {len(shorter)} shorter padded"
    )
    log.warning("%s (e.g. %s; --on-length-mismatch error refuses them)", counts, first)
