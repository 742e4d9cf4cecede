"""Molecule libraries cut into shards (screening libraries, pretraining corpora): which files, how they are cut, and reading one shard.

A library is one file, a glob or a folder of files in ``.smi``/``.smiles``, ``.csv``, ``.tsv``,
``.sdf`` (each optionally ``.gz``) or ``.parquet``. :func:`plan_library` scans each file once
(at C speed: newline counts for text, ``$$$$`` terminators for SDF, metadata for Parquet) and
cuts it into fixed chunks of ``chunk_size`` records; a :class:`Shard` is one (file, chunk) unit
with the byte (or row) range to read, so a worker reads its own shard with
:func:`read_shard` and nothing but this small descriptor travels between processes.

Rows are the file's records, all of them: every data line of a text file after its header
(blank lines too, which become invalid "empty SMILES" rows), every SDF record, every Parquet
row. ``Shard.first_row`` is the 0-based record number of the shard's first row in its file.

gzip cannot seek, so a worker reading chunk ``k`` of a ``.gz`` text file decompresses the file
from its start up to the chunk (C speed, ~0.3-1 GB/s): negligible next to featurization for
files up to ~10M rows; split bigger libraries into several files or use Parquet.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from molgen.data.tables import FORMATS as TABLE_FORMATS
from molgen.data.tables import iter_sdf, parse_smi, table_format
from molgen.errors import ConfigError, DataSourceError, InvalidInputError

__all__ = ["FORMATS", "LibraryFile", "Shard", "plan_library", "read_shard", "resolve_library"]

#: suffix → format of a library file (a subset of :data:`molgen.data.tables.FORMATS`); every format but
#: Parquet may also be gzipped (``.csv.gz``).
FORMATS = {suffix: fmt for suffix, fmt in TABLE_FORMATS.items() if fmt in ("smi", "csv", "tsv", "sdf", "parquet")}
SMILES_COLUMNS = ("smiles", "canonical_smiles", "smi", "isomeric_smiles")
ID_COLUMNS = ("id", "name", "compound_id", "mol_id", "molecule_id", "zinc_id", "idnumber", "title", "_name")
_BLOCK = 8 << 20  # bytes read per step when scanning or skipping
_SEPARATORS = {"csv": ",", "tsv": "\t"}
_BOM = b"\xef\xbb\xbf"  # a UTF-8 byte-order mark: never part of the first record


@dataclass(frozen=True)
class LibraryFile:
    """One library file, scanned.

    Attributes:
        path: absolute path. name: path relative to the library's base folder (the ``source`` column).
        fmt: ``smi``/``csv``/``tsv``/``sdf``/``parquet``. gz: gzip-compressed.
        columns: header names (CSV/TSV, Parquet, a ``.smi`` with a header line), else ().
        smiles_column / id_column: the columns read (None: the first field of a ``.smi``, the
            SDF molecule itself; ``id_column`` None: no ids, or the ``.smi`` name field / SDF title).
        size: bytes on disk. n_rows: records. starts: byte offset (row for Parquet) of each chunk.
        end: byte offset (row for Parquet) where the last chunk ends.
    """

    path: str
    name: str
    fmt: str
    gz: bool
    columns: tuple[str, ...]
    smiles_column: str | None
    id_column: str | None
    size: int
    n_rows: int
    starts: tuple[int, ...]
    end: int
    chunk_size: int

    def describe(self) -> dict[str, Any]:
        """What the manifest records (a changed file makes a rerun an error)."""
        return {
            "path": self.path,
            "size": self.size,
            "n_rows": self.n_rows,
            "smiles_column": self.smiles_column,
            "id_column": self.id_column,
        }


@dataclass(frozen=True)
class Shard:
    """A fixed (file, chunk) unit of work: rows ``first_row … first_row + n_rows - 1`` of ``file``."""

    file_index: int
    chunk: int
    file: LibraryFile

    @property
    def id(self) -> str:
        return f"{self.file_index:05d}-{self.chunk:06d}"

    @property
    def first_row(self) -> int:
        return self.chunk * self.file.chunk_size

    @property
    def n_rows(self) -> int:
        return min(self.file.chunk_size, self.file.n_rows - self.first_row)

    @property
    def byte_range(self) -> tuple[int, int]:
        starts = self.file.starts
        return starts[self.chunk], starts[self.chunk + 1] if self.chunk + 1 < len(starts) else self.file.end


def _format_of(path: Path) -> tuple[str, bool]:
    fmt, gz = table_format(path)
    if fmt not in FORMATS.values():
        raise InvalidInputError(
            f"unsupported library file {path}: use {', '.join(FORMATS)} (all but .parquet may be .gz)"
        )
    if fmt == "parquet" and gz:
        raise InvalidInputError(
            f"{path}: gzipped Parquet cannot be streamed; Parquet compresses internally, use .parquet"
        )
    return fmt, gz


def _is_library_file(path: Path) -> bool:
    try:
        _format_of(path)
    except ValueError:
        return False
    return path.is_file() and not path.name.startswith(".")


def resolve_library(library: str | Path) -> tuple[Path, list[Path]]:
    """``(base folder, files)`` of a library given as a file, a glob or a folder (searched recursively).

    Raises:
        FileNotFoundError: nothing matches. ValueError: an unsupported file named or matched.
    """
    text = str(library)
    path = Path(text).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if _is_library_file(p))
        if not files:
            raise DataSourceError(f"library folder {path} holds no {', '.join(FORMATS)} files (or .gz)")
        return path.resolve(), [p.resolve() for p in files]
    if glob.has_magic(text):
        matches = sorted(Path(p) for p in glob.glob(os.path.expanduser(text), recursive=True) if Path(p).is_file())
        if not matches:
            raise DataSourceError(f"no library files match {text!r}")
        for match in matches:
            _format_of(match)
        base = Path(os.path.commonpath([str(m.resolve().parent) for m in matches]))
        return base, [m.resolve() for m in matches]
    if not path.is_file():
        raise DataSourceError(f"library not found: {path} (pass a file, a glob or a folder)")
    _format_of(path)
    return path.resolve().parent, [path.resolve()]


def plan_library(
    library: str | Path,
    chunk_size: int,
    *,
    smiles_column: str | None = None,
    id_column: str | None = None,
    default_smiles_column: str | None = None,
) -> tuple[list[LibraryFile], list[Shard]]:
    """Scans every file of a library and cuts it into shards of ``chunk_size`` records.

    Args:
        smiles_column / id_column: columns to read (CSV/TSV/Parquet; an SD property for ``id_column``).
            Unset: ``default_smiles_column`` (the model's) or a usual name (``smiles`` …; case-insensitive);
            an id column is used when one with a usual name (``id``, ``name`` …) exists.

    Raises:
        ValueError: a named column is missing from a file (the message lists its columns).
    """
    if chunk_size < 1:
        raise ConfigError(f"chunk size must be ≥ 1, got {chunk_size}")
    base, paths = resolve_library(library)
    files = [_scan_file(path, base, chunk_size, smiles_column, id_column, default_smiles_column) for path in paths]
    shards = [Shard(i, chunk, f) for i, f in enumerate(files) for chunk in range(len(f.starts))]
    return files, shards


# ---------------------------------------------------------------------------------------------- scanning


def _open(path: str | Path, gz: bool) -> BinaryIO:
    return gzip.open(path, "rb") if gz else open(path, "rb")  # type: ignore[return-value]


def _pick(columns: Sequence[str], wanted: str | None, usual: Sequence[str], what: str, path: Path) -> str | None:
    if wanted is not None:
        if wanted not in columns:
            raise InvalidInputError(f"{what} column {wanted!r} not in {path}; columns: {', '.join(columns)}")
        return wanted
    lower = {c.lower(): c for c in reversed(columns)}
    return next((lower[u] for u in usual if u in lower), None)


def _scan_file(
    path: Path, base: Path, chunk_size: int, smiles_col: str | None, id_col: str | None, default_col: str | None
) -> LibraryFile:
    fmt, gz = _format_of(path)
    columns: tuple[str, ...] = ()
    smiles_column = id_column = None
    if fmt == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        columns = tuple(parquet.schema_arrow.names)
        n_rows = parquet.metadata.num_rows
        starts, end = list(range(0, n_rows, chunk_size)), n_rows
    else:
        with _open(path, gz) as fh:
            first = fh.readline()
            header = first.removeprefix(_BOM).decode("utf-8", "replace").rstrip("\r\n")
            if fmt in _SEPARATORS:
                columns = tuple(next(csv.reader([header], delimiter=_SEPARATORS[fmt]), []))
            elif fmt == "smi" and header.split() and "smiles" in header.split()[0].lower():
                columns = tuple(header.split(None, 1))
            data_start = len(first) if columns else len(_BOM) if first.startswith(_BOM) else 0
            fh.seek(data_start)
            scan = _scan_sdf if fmt == "sdf" else _scan_lines
            starts, end, n_rows = scan(fh, data_start, chunk_size)
    if fmt in ("csv", "tsv", "parquet"):
        if len(set(columns)) != len(columns):
            raise InvalidInputError(f"{path}: duplicate column names; column names must be unique")
        smiles_column = _pick(columns, smiles_col, (default_col.lower(),) if default_col else (), "SMILES", path)
        smiles_column = smiles_column or _pick(columns, None, SMILES_COLUMNS, "SMILES", path)
        if smiles_column is None:
            raise InvalidInputError(f"no SMILES column in {path}; columns: {', '.join(columns)} (pass --smiles-column)")
        id_column = _pick(columns, id_col, ID_COLUMNS, "id", path)
    elif fmt == "sdf":
        id_column = id_col  # an SD property; the molecule title is used when unset or missing
    elif smiles_col is not None or id_col is not None:
        raise InvalidInputError(f"{path}: a .smi file has no named columns (SMILES first, then an optional name)")
    return LibraryFile(
        path=str(path),
        name=str(path.relative_to(base)),
        fmt=fmt,
        gz=gz,
        columns=columns,
        smiles_column=smiles_column,
        id_column=id_column,
        size=path.stat().st_size,
        n_rows=n_rows,
        starts=tuple(int(s) for s in starts),
        end=int(end),
        chunk_size=chunk_size,
    )


def _scan_lines(fh: BinaryIO, start: int, chunk_size: int) -> tuple[list[int], int, int]:
    """Byte offsets of every ``chunk_size``-th line start, the end offset and the line count."""
    starts, position, n_lines, boundary, last = [start], start, 0, chunk_size, b"\n"
    while block := fh.read(_BLOCK):
        count = block.count(b"\n")
        if n_lines + count >= boundary:
            newlines = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
            while boundary <= n_lines + count:
                starts.append(position + int(newlines[boundary - n_lines - 1]) + 1)
                boundary += chunk_size
        n_lines += count
        position += len(block)
        last = block[-1:]
    if last != b"\n":  # a last line without a newline
        n_lines += 1
    return _finish(starts, position, n_lines)


def _scan_sdf(fh: BinaryIO, start: int, chunk_size: int) -> tuple[list[int], int, int]:
    """Like :func:`_scan_lines` for SDF records, which end at a ``$$$$`` line."""
    starts, base, n_records, carry = [start], start, 0, b""
    pending = False  # content after the last terminator (a last record without one)
    while True:
        data = fh.read(_BLOCK)
        buffer = carry + data
        cut = buffer.rfind(b"\n") + 1 if data else len(buffer)
        region, at, record_end = buffer[:cut], 0, -1  # a region starts at a line start
        while (hit := region.find(b"$$$$", at)) != -1:
            at = hit + 4
            if hit > 0 and region[hit - 1] != 10:
                continue
            line_end = region.find(b"\n", at)
            at = record_end = len(region) if line_end == -1 else line_end + 1
            n_records += 1
            if n_records % chunk_size == 0:
                starts.append(base + record_end)
        rest = region[record_end:] if record_end >= 0 else region
        pending = bool(rest.strip()) or (pending and record_end < 0)
        carry, base = buffer[cut:], base + cut
        if not data:
            break
    return _finish(starts, base, n_records + pending)


def _finish(starts: list[int], end: int, n_records: int) -> tuple[list[int], int, int]:
    if n_records == 0:
        return [], end, 0
    while len(starts) > 1 and starts[-1] >= end:  # the file ended exactly at a chunk boundary
        starts.pop()
    return starts, end, n_records


# ---------------------------------------------------------------------------------------------- reading


def _read_range(path: str, gz: bool, start: int, stop: int) -> bytes:
    with _open(path, gz) as fh:
        if gz:  # gzip cannot seek: decompress and drop, in large steps
            remaining = start
            while remaining > 0:
                skipped = len(fh.read(min(_BLOCK, remaining)))
                if not skipped:
                    break
                remaining -= skipped
        else:
            fh.seek(start)
        return fh.read(stop - start)


def read_shard(shard: Shard) -> pd.DataFrame:
    """The shard's rows: ``smiles`` (object; None/NaN stay as such), ``id`` (str or None) and
    ``read_error`` (a reason when the record could not even be turned into a SMILES, else None).

    Raises:
        ValueError: the rows found differ from the plan (a quoted newline in a CSV field, or the
            file changed since it was scanned).
    """
    f = shard.file
    if f.fmt == "parquet":
        frame = _read_parquet(shard)
    else:
        data = _read_range(f.path, f.gz, *shard.byte_range)
        frame = _read_sdf(data, f.id_column) if f.fmt == "sdf" else _read_text(data, f)
    if len(frame) != shard.n_rows:
        raise InvalidInputError(
            f"{f.path}: shard {shard.id} has {len(frame)} records where the scan found {shard.n_rows} "
            "(a field with a line break inside quotes, or the file changed during the screen)"
        )
    if "read_error" not in frame:
        frame["read_error"] = None
    if "id" not in frame:
        frame["id"] = None
    return frame[["smiles", "id", "read_error"]]


def _read_text(data: bytes, f: LibraryFile) -> pd.DataFrame:
    if f.fmt == "smi":
        smiles, names = parse_smi(data.decode("utf-8", "replace"))
        return pd.DataFrame({"smiles": smiles, "id": names})
    wanted = [c for c in (f.smiles_column, f.id_column) if c is not None]
    frame = pd.read_csv(
        io.BytesIO(data),
        sep=_SEPARATORS[f.fmt],
        header=None,
        names=list(f.columns),
        usecols=wanted,
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=False,
        encoding_errors="replace",
    )
    out = pd.DataFrame({"smiles": frame[f.smiles_column].astype(object)})
    if f.id_column is not None:
        out["id"] = frame[f.id_column].astype(object).where(frame[f.id_column] != "", None)
    return out


def _read_sdf(data: bytes, id_property: str | None) -> pd.DataFrame:
    smiles, ids, errors = [], [], []
    for record in iter_sdf(io.BytesIO(data)):
        name = record.properties.get(id_property) if id_property else None
        ids.append((name.strip() or None) if name is not None else record.title)
        smiles.append(record.smiles)
        errors.append(record.error)
    return pd.DataFrame({"smiles": smiles, "id": ids, "read_error": errors}, dtype=object)


def _read_parquet(shard: Shard) -> pd.DataFrame:
    import pyarrow.parquet as pq

    f = shard.file
    smiles_column = f.smiles_column
    if smiles_column is None:  # scanning always picks one for Parquet; a hand-made LibraryFile may not
        raise InvalidInputError(f"{f.path}: a Parquet library needs its SMILES column named (smiles_column)")
    parquet = pq.ParquetFile(f.path)
    group_rows = [parquet.metadata.row_group(g).num_rows for g in range(parquet.metadata.num_row_groups)]
    group_starts = np.concatenate([[0], np.cumsum(group_rows)])
    first, stop = shard.first_row, shard.first_row + shard.n_rows
    groups = [g for g in range(len(group_rows)) if group_starts[g] < stop and group_starts[g + 1] > first]
    wanted = [c for c in (smiles_column, f.id_column) if c is not None]
    parts, position = [], int(group_starts[groups[0]]) if groups else first
    for batch in parquet.iter_batches(batch_size=65_536, row_groups=groups, columns=wanted, use_threads=False):
        lo, hi = max(first - position, 0), min(stop - position, batch.num_rows)
        if hi > lo:
            parts.append(batch.slice(lo, hi - lo))
        position += batch.num_rows
        if position >= stop:
            break
    columns = {c: [v for part in parts for v in part.column(c).to_pylist()] for c in wanted}
    out = pd.DataFrame({"smiles": pd.Series(columns[smiles_column], dtype=object)})
    if f.id_column is not None:
        out["id"] = pd.Series([None if v is None else str(v) for v in columns[f.id_column]], dtype=object)
    return out
