"""Sequence inputs: FASTA (+ a labels table joined on record id) and BED intervals on a reference genome.

Readers return plain DataFrames with an ``id`` and a ``sequence`` column. Problems that belong to one
record (an interval outside its chromosome, an unknown chromosome, a record without labels) do not
raise: they come back as ``{row: reason}`` so that training can list or skip them and prediction can
emit a ``valid=false`` row — the same policy as for invalid characters (``genomics.encoding``).

Coordinates: BED is 0-based half-open (``chr1 10 20`` = bases 11..20 in 1-based terms). With
``one_based=True`` starts are 1-based and ends inclusive (GFF/VCF style). Chromosome names are matched
exactly, then with the ``chr`` prefix added or removed (``chr1`` ↔ ``1``, ``chrM`` ↔ ``MT``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from molgen.data.sources import cache_dir
from molgen.data.tables import read_fasta, read_table
from molgen.errors import DataSourceError, InvalidInputError
from molgen.genomics.encoding import reverse_complement

log = logging.getLogger("molgen")

BED_SUFFIXES = (".bed",)
BED_COLUMNS = ("chrom", "start", "end", "name", "score", "strand")

__all__ = [
    "BED_SUFFIXES",
    "ReferenceGenome",
    "bed_sequences",
    "catalog_frame",
    "is_bed",
    "join_labels",
    "read_bed",
    "read_fasta",
]


def is_bed(path: str | Path) -> bool:
    name = Path(path).name.lower()
    return (name[:-3] if name.endswith(".gz") else name).endswith(BED_SUFFIXES)


def join_labels(
    sequences: pd.DataFrame, labels: str | Path | pd.DataFrame, *, id_column: str = "id", source: str = ""
) -> tuple[pd.DataFrame, dict[int, str]]:
    """Adds the columns of a labels table to sequence records, matching ``labels[id_column]`` to ``id``.

    Returns:
        The records in their order with the label columns added, and ``{row: reason}`` for records that
        have no labels row. Label rows without a record are reported in the log.

    Raises:
        ValueError: ``id_column`` missing, duplicated ids on either side, or no id in common at all.
    """
    name = str(labels) if not isinstance(labels, pd.DataFrame) else "the labels table"
    table = labels if isinstance(labels, pd.DataFrame) else read_table(labels)
    if id_column not in table.columns:
        raise InvalidInputError(
            f"{name}: id column {id_column!r} not found (columns: {', '.join(map(str, table.columns))}); "
            "set data.id_column to the column holding the FASTA record ids"
        )
    if "sequence" in table.columns:
        raise InvalidInputError(f"{name} has a 'sequence' column; sequences come from {source or 'the FASTA/BED file'}")
    keys = table[id_column].astype(str)
    for side, ids in (("labels table " + name, keys), (source or "sequence file", sequences["id"].astype(str))):
        dup = ids[ids.duplicated()].unique()
        if len(dup):
            raise InvalidInputError(f"{side}: duplicated id(s) {list(dup[:5])}; ids must be unique to join labels")
    known = set(keys)
    ids = sequences["id"].astype(str)
    matched = ids.isin(known).to_numpy()
    if not matched.any():
        raise InvalidInputError(
            f"no record id of {source or 'the sequence file'} (e.g. {list(ids[:3])}) is in column {id_column!r} of "
            f"{name} (e.g. {list(keys[:3])})"
        )
    extra = len(known - set(ids))
    if extra:
        log.warning("%d row(s) of %s have no record in %s; they are not used", extra, name, source or "the sequences")
    labelled = table.drop(columns=[id_column]).assign(**{"__key": keys.to_numpy()})
    merged = sequences.assign(**{"__key": ids.to_numpy()}).merge(labelled, on="__key", how="left", sort=False)
    merged = merged.drop(columns="__key")
    missing = {int(i): f"no row with {id_column} {ids.iloc[i]!r} in {name}" for i in np.flatnonzero(~matched)}
    return merged, missing


def read_bed(path: str | Path) -> pd.DataFrame:
    """A BED file (optionally ``.gz``) as a DataFrame; coordinates are kept as written.

    ``track``/``browser`` lines and blank lines are skipped. A first line starting with ``#`` names the
    columns (``#chrom start end name …``); otherwise the first six are ``chrom start end name score
    strand`` and further ones ``col7``, ``col8``, …

    Raises:
        ValueError: fewer than 3 columns, or a start/end that is not an integer (naming the line).
    """
    path = Path(path)
    if not path.is_file():
        raise DataSourceError(f"BED file not found: {path}")
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    header: list[str] | None = None
    lines: list[str] = []
    line_numbers: list[int] = []
    with opener(path, "rt", encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            stripped = line.rstrip("\r\n")
            if not stripped.strip() or stripped.startswith(("track", "browser")):
                continue
            if stripped.startswith("#"):
                if header is None and not lines:
                    header = stripped.lstrip("#").strip().split("\t")
                continue
            lines.append(stripped)
            line_numbers.append(number)
    if not lines:
        raise InvalidInputError(f"{path}: no intervals")
    frame = pd.read_csv(io.StringIO("\n".join(lines)), sep="\t", header=None, dtype=str, keep_default_na=False)
    if frame.shape[1] < 3:
        raise InvalidInputError(
            f"{path} line {line_numbers[0]}: a BED line needs chrom, start and end separated by tabs"
        )
    if header is not None and len(header) == frame.shape[1]:
        names = [h.strip() for h in header]
        names[:3] = list(BED_COLUMNS[:3])
    else:
        names = [*BED_COLUMNS[: frame.shape[1]], *(f"col{i + 1}" for i in range(6, frame.shape[1]))]
    frame.columns = names
    for column in ("start", "end"):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() | (values != values.round())
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InvalidInputError(
                f"{path.name} line {line_numbers[i]}: {column} {frame[column].iloc[i]!r} is not an integer"
            )
        frame[column] = values.astype(np.int64)
    for column in frame.columns[3:]:
        if column not in ("name", "strand"):
            converted = pd.to_numeric(frame[column].replace("", np.nan), errors="coerce")
            if converted.notna().sum() == (frame[column] != "").sum():
                frame[column] = converted
    frame.attrs["line_numbers"] = line_numbers
    return frame


class ReferenceGenome:
    """Random access to a reference FASTA through pyfaidx.

    The ``.fai`` index is built next to the FASTA, or in the molgen cache when that folder is read-only.
    A plain-gzip FASTA (pyfaidx reads only uncompressed or bgzip files) is decompressed into the cache once.
    """

    def __init__(self, path: str | Path) -> None:
        import pyfaidx

        self.path = Path(path)
        if not self.path.is_file():
            raise DataSourceError(f"reference FASTA not found: {self.path}")
        fasta_path = self.path
        try:
            self._fasta = self._open(pyfaidx, fasta_path)
        except pyfaidx.UnsupportedCompressionFormat:
            fasta_path = self._decompressed_copy()
            self._fasta = self._open(pyfaidx, fasta_path)
        # .keys(): iterating a pyfaidx.Fasta yields its records, not their names
        self.lengths = {name: len(self._fasta[name]) for name in self._fasta.keys()}  # noqa: SIM118

    def _cache_key(self) -> str:
        st = self.path.stat()
        return hashlib.sha1(f"{self.path.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]

    def _open(self, pyfaidx, fasta_path: Path):
        options = {}
        if not Path(f"{fasta_path}.fai").exists() and not os.access(fasta_path.parent, os.W_OK):
            folder = cache_dir() / "references"
            folder.mkdir(parents=True, exist_ok=True)
            options = {
                "indexname": str(folder / f"{fasta_path.name}.{self._cache_key()}.fai"),
                "gzi_indexname": str(folder / f"{fasta_path.name}.{self._cache_key()}.gzi"),
            }
        return pyfaidx.Fasta(str(fasta_path), as_raw=True, rebuild=False, **options)

    def _decompressed_copy(self) -> Path:
        folder = cache_dir() / "references"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{self.path.name[:-3]}.{self._cache_key()}"
        if not target.is_file():
            log.info("decompressing %s into %s (pyfaidx needs plain or bgzip FASTA)", self.path, target)
            partial = target.with_suffix(".partial")
            with gzip.open(self.path, "rb") as src, open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            partial.replace(target)
        return target

    def resolve(self, chrom: str) -> str | None:
        """The reference's name for ``chrom`` (exact, then ``chr`` added/removed, ``chrM`` ↔ ``MT``)."""
        if chrom in self.lengths:
            return chrom
        bare = chrom[3:] if chrom.lower().startswith("chr") else chrom
        for candidate in (
            bare,
            f"chr{bare}",
            {"M": "MT", "MT": "M"}.get(bare.upper(), ""),
            "chr" + {"MT": "M"}.get(bare.upper(), ""),
        ):
            if candidate and candidate in self.lengths:
                return candidate
        return None

    def describe(self, limit: int = 10) -> str:
        names = list(self.lengths)
        return ", ".join(names[:limit]) + (f", … ({len(names)} in all)" if len(names) > limit else "")

    def fetch(self, chrom: str, start: int, end: int) -> str:
        """Bases ``[start, end)`` (0-based) of a chromosome named as in the reference."""
        return str(self._fasta[chrom][start:end])


def bed_sequences(
    intervals: pd.DataFrame,
    reference: ReferenceGenome | str | Path,
    *,
    one_based: bool = False,
    source: str = "",
) -> tuple[pd.DataFrame, dict[int, str]]:
    """Fetches the sequence of every interval (reverse-complemented on strand ``-``).

    Returns:
        ``intervals`` with ``id`` (the ``name`` column, else ``chrom:start-end`` as written) and
        ``sequence`` (``""`` for a bad interval) added, and ``{row: reason}`` for intervals on an unknown
        chromosome, empty, or outside their chromosome.

    Raises:
        ValueError: no interval's chromosome is in the reference (a naming mismatch; both lists shown).
    """
    genome = reference if isinstance(reference, ReferenceGenome) else ReferenceGenome(reference)
    frame = intervals.copy()
    written = frame["chrom"].astype(str) + ":" + frame["start"].astype(str) + "-" + frame["end"].astype(str)
    if "id" not in frame.columns:
        names = frame["name"].astype(str) if "name" in frame.columns else written
        frame.insert(0, "id", names.where(names.str.len() > 0, written) if "name" in frame.columns else names)
    starts = frame["start"].to_numpy(dtype=np.int64) - (1 if one_based else 0)
    ends = frame["end"].to_numpy(dtype=np.int64)
    strands = frame["strand"].astype(str).to_numpy() if "strand" in frame.columns else None
    resolved: dict[str, str | None] = {c: genome.resolve(c) for c in frame["chrom"].astype(str).unique()}
    if not any(resolved.values()):
        raise InvalidInputError(
            f"none of the chromosomes of {source or 'the intervals'} ({', '.join(list(resolved)[:10])}) is in the "
            f"reference {genome.path.name} ({genome.describe()})"
        )
    sequences: list[str] = []
    problems: dict[int, str] = {}
    fetch: Callable[[str, int, int], str] = genome.fetch
    coords = "1-based closed" if one_based else "0-based half-open (BED)"
    for i, chrom in enumerate(frame["chrom"].astype(str)):
        name = resolved[chrom]
        start, end = int(starts[i]), int(ends[i])
        if name is None:
            problems[i] = f"chromosome {chrom!r} is not in the reference {genome.path.name} ({genome.describe()})"
        elif end <= start:
            problems[i] = f"interval {written.iloc[i]} is empty ({coords} coordinates)"
        elif start < 0 or end > genome.lengths[name]:
            problems[i] = (
                f"interval {written.iloc[i]} is outside {name} (length {genome.lengths[name]:,}; {coords} coordinates)"
            )
        if name is None or i in problems:  # an unknown chromosome is one of the problems
            sequences.append("")
            continue
        seq = fetch(name, start, end)
        if strands is not None and strands[i] == "-":
            seq = reverse_complement(seq)
        sequences.append(seq)
    frame["sequence"] = sequences
    return frame, problems


def catalog_frame(spec) -> tuple[pd.DataFrame, Path | None]:
    """The table of a catalog dataset of kind ``sequences`` and the file its rows are numbered in.

    Most entries are one table file (returned as read, with its path for line numbers). Two are assembled:

    - ``ecoli_promoters_165``: adds column ``split`` = ``test`` for the sequences of DeepSEED's test file
      (``extra_files[0]``, matched by sequence), else ``train``.
    - ``chipseq_oct4_mafk``: the Oct4 FASTA (``remote``, label ``oct4`` = 1) followed by the Mafk FASTA
      (``extra_files[0]``, label 0), with columns ``id``, ``sequence``, ``oct4``, ``file``.
    """
    from molgen.data.sources import resolve

    path = resolve(spec.remote)
    if spec.name == "chipseq_oct4_mafk":
        negative = resolve(spec.extra_files[0])
        parts = [read_fasta(p).assign(oct4=float(label), file=p.name) for p, label in ((path, 1), (negative, 0))]
        return pd.concat(parts, ignore_index=True), None
    frame = read_table(path)
    if spec.name == "ecoli_promoters_165":
        test = read_table(resolve(spec.extra_files[0]))
        test_seqs = set(test.iloc[:, 0].astype(str).str.upper())
        is_test = frame[spec.input_column].astype(str).str.upper().isin(test_seqs)
        if int(is_test.sum()) != len(test_seqs):
            log.warning("%d of %d DeepSEED test sequences found in %s", int(is_test.sum()), len(test_seqs), path.name)
        frame[spec.split_column] = np.where(is_test, "test", "train")
    return frame, path
