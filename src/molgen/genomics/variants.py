"""Variants for effect prediction: tables and VCF files, reference-allele checks, model-input windows.

Positions are **1-based** everywhere, as in VCF: position 1 is the first base of a sequence (or
contig). An allele is a string of ``ACGTN`` (any case); ``-`` or an empty cell means the empty allele,
so an insertion can be written ``ref="-"``, ``alt="GA"`` (inserted before ``position``) as well as in
VCF's anchored form ``ref="T"``, ``alt="TGA"``.

Nothing here raises for a bad variant row: :func:`variant_windows` raises :class:`VariantError` and the
caller records it on that row (``valid=false`` and the message), so every input row gives one output row.
"""

from __future__ import annotations

import dataclasses
import gzip
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from molgen.data.tables import read_table
from molgen.errors import DataSourceError, InvalidInputError

VARIANT_COLUMNS = ("variant_id", "sequence_id", "position", "ref", "alt")
_ALIASES = {
    "sequence_id": ("sequence_id", "seq_id", "chrom", "#chrom", "chromosome", "contig"),
    "position": ("position", "pos"),
    "ref": ("ref", "reference"),
    "alt": ("alt", "alternate"),
    "variant_id": ("variant_id", "id", "name", "rsid"),
}
_BASES = set("ACGTN")

__all__ = [
    "VariantError",
    "VariantWindows",
    "Reference",
    "read_sequences",
    "read_variant_table",
    "read_vcf",
    "check_ref",
    "parse_position",
    "variant_windows",
]


class VariantError(InvalidInputError):
    """A variant that cannot be scored (reported on its row, never raised to the user)."""


@dataclasses.dataclass(frozen=True)
class VariantWindows:
    """The model inputs for one variant: the reference and alternative sequences (strings)."""

    ref: str
    alt: str


def _open(path: Path):
    """Text with a leading UTF-8 byte-order mark dropped."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig")
    return open(path, encoding="utf-8-sig")


def read_sequences(
    path: str | Path, *, id_column: str | None = None, sequence_column: str | None = None
) -> list[tuple[str, str]]:
    """``(id, sequence)`` pairs from a FASTA file or a CSV/TSV table (optionally ``.gz``).

    ``id_column`` defaults to the first of ``id``, ``sequence_id``, ``name`` that exists (else row
    numbers ``1, 2, …``) and ``sequence_column`` to ``sequence`` or ``seq``; a FASTA gives ``id`` and
    ``sequence``. Sequences are not checked here.
    """
    path = Path(path)
    if not path.is_file():
        raise DataSourceError(f"sequence file not found: {path}")
    frame = read_table(path)
    seq_col = sequence_column or _first_present(frame, ("sequence", "seq"))
    if seq_col is None or seq_col not in frame.columns:
        raise InvalidInputError(
            f"{path}: no sequence column {sequence_column or 'sequence'!r}; columns are {list(frame.columns)} "
            "(choose one with --sequence-column)"
        )
    if id_column is not None and id_column not in frame.columns:
        raise InvalidInputError(f"{path}: no id column {id_column!r}; columns are {list(frame.columns)}")
    id_col = id_column or _first_present(frame, ("id", "sequence_id", "name"))
    ids = [str(i + 1) for i in range(len(frame))] if id_col is None else [_cell(v) for v in frame[id_col]]
    return list(zip(ids, (_cell(v) for v in frame[seq_col])))


def _first_present(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).lower(): c for c in frame.columns}
    return next((lower[n] for n in names if n in lower), None)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_variant_table(path: str | Path) -> pd.DataFrame:
    """A CSV/TSV of variants → columns ``variant_id sequence_id position ref alt`` (all strings).

    Accepted headers (case-insensitive): ``sequence_id`` (or ``seq_id``, ``chrom``), ``position`` (or
    ``pos``; **1-based**), ``ref``, ``alt`` and optionally ``variant_id`` (or ``id``, ``name``).
    Cells are not checked here; bad values are reported per row when the variants are scored.
    """
    path = Path(path)
    if not path.is_file():
        raise DataSourceError(f"variant file not found: {path}")
    frame = read_table(path)
    lower = {str(c).lower(): c for c in frame.columns}
    columns = {}
    for canonical, names in _ALIASES.items():
        found = next((lower[n] for n in names if n in lower), None)
        if found is None and canonical != "variant_id":
            raise InvalidInputError(
                f"{path}: no {canonical!r} column (accepted names: {', '.join(names)}); columns are "
                f"{list(frame.columns)}. A variant table needs sequence_id, position (1-based), ref, alt"
            )
        columns[canonical] = found
    out = pd.DataFrame(
        {
            name: [_cell(v) for v in frame[col]] if col is not None else [""] * len(frame)
            for name, col in columns.items()
        }
    )
    missing = out["variant_id"] == ""
    out.loc[missing, "variant_id"] = [
        f"{r.sequence_id}:{r.position}:{r.ref or '-'}>{r.alt or '-'}" for r in out[missing].itertuples()
    ]
    return out[list(VARIANT_COLUMNS)]


def read_vcf(path: str | Path) -> pd.DataFrame:
    """A VCF (optionally ``.gz``) → the same columns as :func:`read_variant_table`; a multi-allelic
    record gives one row per alternative allele. Only CHROM, POS, ID, REF and ALT are read."""
    path = Path(path)
    if not path.is_file():
        raise DataSourceError(f"VCF file not found: {path}")
    rows = []
    with _open(path) as handle:
        for line_number, line in enumerate(handle, 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.rstrip("\n\r").split("\t")
            if len(fields) < 5:
                raise InvalidInputError(
                    f"{path} line {line_number}: a VCF record needs tab-separated CHROM POS ID REF ALT, "
                    f"found {len(fields)} field(s)"
                )
            chrom, pos, vid, ref, alts = fields[:5]
            for alt in alts.split(","):
                name = vid if vid not in ("", ".") else f"{chrom}:{pos}:{ref}>{alt}"
                if vid not in ("", ".") and "," in alts:
                    name = f"{vid}:{alt}"
                rows.append((name, chrom, pos, ref, alt))
    return pd.DataFrame(rows, columns=list(VARIANT_COLUMNS), dtype=object)


def _allele(value: object, which: str) -> str:
    value = _cell(value)
    allele = "" if value in ("-", "") else value.upper()
    if allele.startswith("<") or allele in ("*", ".") or not set(allele) <= _BASES:
        raise VariantError(f"unsupported {which} allele {value!r} (expected A/C/G/T/N bases, or '-' for none)")
    return allele


def parse_position(value: object) -> int:
    """A 1-based position from a table cell; :class:`VariantError` unless it is an integer ≥ 1."""
    try:
        position = int(_cell(value))
    except ValueError:
        raise VariantError(f"position {value!r} is not an integer (positions are 1-based)") from None
    if position < 1:
        raise VariantError(f"position {position} is not ≥ 1 (positions are 1-based)")
    return position


def check_ref(sequence: str, position: int, ref: str, *, sequence_id: str = "") -> None:
    """Raises :class:`VariantError` unless ``sequence`` has ``ref`` at 1-based ``position``."""
    name = f"sequence {sequence_id!r}" if sequence_id else "the sequence"
    end = position - 1 + len(ref)
    if position > len(sequence) + (1 if not ref else 0) or end > len(sequence):
        raise VariantError(f"position {position} (ref {ref or '-'}) is outside {name} (length {len(sequence)})")
    found = sequence[position - 1 : end].upper()
    if found != ref:
        raise VariantError(f"ref allele mismatch at position {position}: expected {ref}, found {found} in {name}")


def variant_windows(
    sequence: str, position: int, ref: str, alt: str, length: int, *, sequence_id: str = ""
) -> VariantWindows:
    """Reference and alternative model inputs for one variant.

    When ``sequence`` is at most ``length`` long it is the reference input as it is, and the
    alternative is the same sequence with the allele replaced (an indel changes its length by
    ``len(alt) - len(ref)``; the model's encoder then pads or crops it around its center, so the
    variant stays where it was). A longer sequence (a contig) gives two windows of ``length`` bases,
    each with the middle base of the ref / alt allele at index ``length // 2``, padded with ``N``
    (unknown base) past the contig ends; the flanks are real sequence on both sides.

    ``ref``/``alt`` are raw cells (``-`` = empty); raises :class:`VariantError` for an unsupported
    allele, a position outside the sequence or a ref allele that does not match.
    """
    ref, alt = _allele(ref, "ref"), _allele(alt, "alt")
    if not ref and not alt:
        raise VariantError("ref and alt alleles are both empty")
    check_ref(sequence, position, ref, sequence_id=sequence_id)
    start = position - 1
    alt_sequence = sequence[:start] + alt + sequence[start + len(ref) :]
    if len(sequence) <= length:
        return VariantWindows(sequence, alt_sequence)
    return VariantWindows(
        _centered(sequence, start + len(ref) // 2, length), _centered(alt_sequence, start + len(alt) // 2, length)
    )


def _centered(sequence: str, center: int, length: int) -> str:
    """``length`` bases of ``sequence`` with base ``center`` at index ``length // 2``, ``N``-padded."""
    begin = center - length // 2
    left_pad = max(0, -begin)
    right_pad = max(0, begin + length - len(sequence))
    window = sequence[max(0, begin) : begin + length]
    return "N" * left_pad + window + "N" * right_pad


class Reference:
    """A reference genome FASTA for variant windows: the file is read through
    :class:`molgen.genomics.io.ReferenceGenome` (pyfaidx; a plain-gzip file is decompressed into the
    cache once); this adds clipped, upper-case fetches and the windows around a variant."""

    def __init__(self, path: str | Path) -> None:
        from molgen.genomics.io import ReferenceGenome

        self.path = Path(path)
        genome = ReferenceGenome(self.path)
        self._resolve = genome.resolve  # `1` ↔ `chr1`, `MT` ↔ `chrM`, as for BED intervals
        self._lengths: dict[str, int] = dict(genome.lengths)
        if not self._lengths:
            raise InvalidInputError(f"{self.path}: no FASTA records in the reference")
        self._fetch: Callable[[str, int, int], str] = genome.fetch

    @property
    def contigs(self) -> list[str]:
        return list(self._lengths)

    def length(self, chrom: str) -> int:
        return self._lengths[self._name(chrom)]

    def __contains__(self, chrom: str) -> bool:
        return self._resolve(chrom) is not None

    def _name(self, chrom: str) -> str:
        """The reference's name for ``chrom`` (``1`` finds ``chr1`` and the reverse)."""
        name = self._resolve(chrom)
        if name is None:
            raise VariantError(f"contig {chrom!r} is not in the reference ({self._describe()})")
        return name

    def fetch(self, chrom: str, start: int, end: int) -> str:
        """Bases ``[start, end)`` (0-based) of ``chrom``, upper-case, clipped to the contig."""
        chrom = self._name(chrom)
        start, end = max(0, start), min(end, self._lengths[chrom])
        return str(self._fetch(chrom, start, end)).upper()

    def _describe(self) -> str:
        names = self.contigs
        return "contigs: " + ", ".join(names[:10]) + (f", … ({len(names)} in all)" if len(names) > 10 else "")

    def variant_windows(self, chrom: str, position: int, ref: str, alt: str, length: int) -> VariantWindows:
        """:func:`variant_windows` on the part of ``chrom`` around the variant (1-based ``position``)."""
        contig = self._name(chrom)
        ref_allele = _allele(ref, "ref")
        ref_len, size = len(ref_allele), self._lengths[contig]
        if position - 1 + ref_len > size or position > size + 1:
            raise VariantError(f"position {position} (ref {ref or '-'}) is outside contig {chrom!r} (length {size})")
        found = self.fetch(chrom, position - 1, position - 1 + ref_len)
        if found != ref_allele:  # checked here to report the position on the contig, not in the chunk
            raise VariantError(
                f"ref allele mismatch at position {position}: expected {ref_allele}, found {found} in contig {chrom!r}"
            )
        begin = max(0, position - 1 - length)  # enough flank on both sides for a centered window
        chunk = self.fetch(chrom, begin, position + ref_len + length)
        return variant_windows(chunk, position - begin, ref, alt, length, sequence_id=chrom)
