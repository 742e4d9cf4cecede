"""Reading molecule and sequence tables (CSV, TSV, TXT, ``.smi``, Parquet, SDF, FASTA; optionally gzipped)
with clear errors: the one reader of ``molgen train``, ``predict`` and ``screen``.

``read_table`` turns a file into a DataFrame; ``load_molecule_table`` picks the SMILES and target
columns, checks them and wraps the result in a :class:`MoleculeTable` that can say where a row
came from ("esol.csv line 7", "ligands.sdf record 5"), so later validation can point at the input.
Whether a SMILES is *valid* is decided elsewhere (``molgen.chem``); here an SDF record RDKit cannot
read just gets an empty SMILES. Table cells are kept whole (a SMILES with whitespace inside is left for
``molgen.chem`` to reject); only a ``.smi`` line is "SMILES, then an optional name". A UTF-8 byte-order
mark is dropped here, once.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np
import pandas as pd

from molgen.errors import ConfigError, DataSourceError, InvalidInputError

log = logging.getLogger("molgen")

FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas")
SMI_SUFFIXES = (".smi", ".smiles")
SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", *SMI_SUFFIXES, ".parquet", ".sdf", *FASTA_SUFFIXES)
#: every table suffix molgen reads → its format (``molgen.screening`` streams ``smi``, ``csv``, ``tsv``,
#: ``sdf`` and ``parquet`` shard by shard; everything else reads through :func:`read_table`).
FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "txt",
    ".parquet": "parquet",
    ".sdf": "sdf",
    ".smi": "smi",
    ".smiles": "smi",
    **dict.fromkeys(FASTA_SUFFIXES, "fasta"),
}
_TEXT = {".csv", ".tsv", ".txt"}
_SDF_SMILES = "smiles"
SMI_COLUMNS = ("smiles", "name")
"""The columns :func:`read_table` gives a ``.smi`` file."""
_ENCODING = "utf-8-sig"  # UTF-8 that drops a leading byte-order mark


def table_format(path: str | Path) -> tuple[str, bool]:
    """``(format, gzipped)`` of a table file from its name (``data.csv.gz`` → ``("csv", True)``); the
    format is a value of :data:`FORMATS`, or ``""`` for a suffix molgen does not read."""
    name = Path(path).name.lower()
    gz = name.endswith(".gz")
    return FORMATS.get(Path(name[:-3] if gz else name).suffix, ""), gz


def _format_of(path: Path) -> tuple[str, bool]:
    """(base suffix, gzipped) of a path :func:`read_table` reads, or InvalidInputError listing them."""
    fmt, gz = table_format(path)
    name = path.name.lower()
    base = Path(name[:-3] if gz else name).suffix
    if base not in SUPPORTED_SUFFIXES or not fmt:
        supported = ", ".join(SUPPORTED_SUFFIXES)
        raise InvalidInputError(f"unsupported table format for {path}: use one of {supported} (each optionally .gz)")
    return base, gz


def _open_text(path: Path, gz: bool):
    """Text with a leading UTF-8 byte-order mark dropped (editors on Windows write one)."""
    return gzip.open(path, "rt", newline="", encoding=_ENCODING) if gz else open(path, newline="", encoding=_ENCODING)


def first_line(path: str | Path) -> str:
    """The first line of a text file (optionally ``.gz``), byte-order mark and line break dropped."""
    path = Path(path)
    with _open_text(path, path.name.lower().endswith(".gz")) as fh:
        return fh.readline().rstrip("\r\n")


def _delimiter(path: Path, base: str, gz: bool) -> str:
    if base == ".csv":
        return ","
    if base == ".tsv":
        return "\t"
    with _open_text(path, gz) as fh:  # .txt: sniff the header line
        header = fh.readline()
    return "\t" if header.count("\t") >= max(1, header.count(",")) else ","


def _check_unique(columns: Sequence[str], where: str) -> None:
    seen, dups = set(), []
    for c in columns:
        if c in seen and c not in dups:
            dups.append(c)
        seen.add(c)
    if dups:
        raise InvalidInputError(f"{where}: duplicate column names {dups}; column names must be unique")


def read_table(
    path: str | Path, *, keep_blank_lines: bool = False, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Read a table file into a DataFrame.

    Supported: ``.csv``, ``.tsv``, ``.txt`` (tab or comma, sniffed from the header), ``.smi``/``.smiles``,
    ``.parquet`` and ``.sdf``, each optionally ``.gz``. Empty cells become NaN; cells are kept whole. A
    ``.smi`` gives columns ``smiles`` and ``name`` (see :func:`parse_smi`; a first line whose first field
    contains "smiles" is a header). An SDF gives a ``smiles`` column (canonical SMILES, ``""`` for a record
    RDKit cannot read) followed by the SD properties. A FASTA (``.fa``, ``.fasta``, ``.fna``) gives columns
    ``id`` and ``sequence`` (see :func:`read_fasta`).

    Args:
        keep_blank_lines: text and ``.smi`` files: a blank line is a row (all NaN; ``""`` SMILES in a
            ``.smi``) instead of being skipped, so that rows match data lines one to one.
        columns: CSV/TSV/TXT only: the file has no header line; these name its columns.

    Raises:
        DataSourceError: the file does not exist.
        InvalidInputError: unsupported suffix or duplicate column names.
    """
    path = Path(path)
    base, gz = _format_of(path)
    if not path.is_file():
        raise DataSourceError(f"table file not found: {path}")
    if base in _TEXT:
        sep = _delimiter(path, base, gz)
        if columns is None:
            with _open_text(path, gz) as fh:
                header = next(csv.reader(fh, delimiter=sep), [])
            if not header:
                raise InvalidInputError(f"{path}: the file is empty (expected a header line naming the columns)")
            _check_unique(header, str(path))
        try:
            return pd.read_csv(
                path,
                sep=sep,
                compression="gzip" if gz else None,
                low_memory=False,
                encoding=_ENCODING,
                skip_blank_lines=not keep_blank_lines,
                header=None if columns is not None else "infer",
                names=list(columns) if columns is not None else None,
            )
        except pd.errors.ParserError as err:  # e.g. a row with more fields than the header
            raise InvalidInputError(f"{path}: cannot parse the table ({str(err).strip()})") from None
    if columns is not None:
        raise InvalidInputError(f"{path}: only CSV/TSV/TXT files can be read without a header line")
    if base in SMI_SUFFIXES:
        return read_smi(path, keep_blank_lines=keep_blank_lines)
    if base == ".parquet":
        source = io.BytesIO(gzip.decompress(path.read_bytes())) if gz else path
        frame = pd.read_parquet(source)
        _check_unique([str(c) for c in frame.columns], str(path))
        return frame
    if base in FASTA_SUFFIXES:
        return read_fasta(path)
    return _read_sdf(path, gz)


def read_fasta(path: str | Path) -> pd.DataFrame:
    """A FASTA file (optionally ``.gz``) as columns ``id`` (the header up to the first whitespace, as in
    Biopython's ``record.id``) and ``sequence`` (as written: case kept, empty records kept as ``""``).
    Whether a sequence is valid DNA is decided in ``molgen.genomics.encoding``."""
    from Bio.SeqIO.FastaIO import SimpleFastaParser

    path = Path(path)
    if not path.is_file():
        raise DataSourceError(f"FASTA file not found: {path}")
    with _open_text(path, path.name.lower().endswith(".gz")) as fh:
        records = [(title.split(None, 1)[0] if title.strip() else "", seq) for title, seq in SimpleFastaParser(fh)]
    if not records:
        raise InvalidInputError(f"{path}: no FASTA records (expected lines starting with '>')")
    return pd.DataFrame(records, columns=["id", "sequence"])


def _smi_lines(path: Path) -> tuple[list[str], bool]:
    """The lines of a ``.smi`` file (BOM dropped) and whether the first is a header (first field ~ "smiles")."""
    with _open_text(path, path.name.lower().endswith(".gz")) as fh:
        lines = fh.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    first = lines[0].split() if lines else []
    return lines, bool(first) and "smiles" in first[0].lower()


def read_smi(path: str | Path, *, keep_blank_lines: bool = False) -> pd.DataFrame:
    """A ``.smi`` file (optionally ``.gz``) as columns ``smiles`` and ``name`` (None when absent): one record
    per line, the SMILES its first whitespace-separated field; a header line is skipped, and blank lines too
    unless ``keep_blank_lines`` (then they are records with an empty SMILES)."""
    path = Path(path)
    if not path.is_file():
        raise DataSourceError(f"SMILES file not found: {path}")
    lines, header = _smi_lines(path)
    records = lines[1:] if header else lines
    if not keep_blank_lines:
        records = [line for line in records if line.strip()]
    smiles, names = parse_smi("\n".join(records) + "\n") if records else ([], [])
    return pd.DataFrame({"smiles": pd.Series(smiles, dtype=object), "name": pd.Series(names, dtype=object)})


def parse_smi(text: str) -> tuple[list[str], list[str | None]]:
    """``(smiles, names)`` of a ``.smi`` text: one record per line (the newline ending the last one
    optional), the SMILES the first whitespace-separated field and the name the rest (None when absent);
    a blank line is a record with an empty (invalid) SMILES, so records keep their line numbers."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    fields = [line.strip().split(None, 1) for line in lines]
    return [parts[0] if parts else "" for parts in fields], [parts[1] if len(parts) > 1 else None for parts in fields]


@dataclass
class SdfRecord:
    """One SDF record: ``smiles`` (canonical, hydrogens removed; None when RDKit cannot read or sanitize
    it), its SD ``properties``, its ``title`` (first line; None when blank) and, for a record without
    SMILES, the ``error`` why."""

    smiles: str | None
    properties: dict[str, str]
    title: str | None
    error: str | None = None


def iter_sdf(source: BinaryIO) -> Iterator[SdfRecord]:
    """The records of an SDF (a binary file object), one at a time; RDKit's log is blocked meanwhile.
    A record RDKit cannot read at all still yields (no SMILES, no properties, its title from the text)."""
    from rdkit import Chem, rdBase

    data: bytes | None = None
    with rdBase.BlockLogs():
        for i, mol in enumerate(Chem.ForwardSDMolSupplier(source, sanitize=False, removeHs=False)):
            if mol is None:
                if data is None and hasattr(source, "getvalue"):
                    data = source.getvalue()
                titles = _sdf_titles(data) if data is not None else []
                yield SdfRecord(None, {}, titles[i] if i < len(titles) else None, "SDF record could not be read")
                continue
            properties = {name: mol.GetProp(name) for name in mol.GetPropNames()}
            title = mol.GetProp("_Name").strip() or None
            try:
                Chem.SanitizeMol(mol)
                yield SdfRecord(Chem.MolToSmiles(Chem.RemoveHs(mol)), properties, title)
            except Exception as err:
                yield SdfRecord(None, properties, title, f"SDF record: sanitization failed: {err}")


def _sdf_titles(data: bytes) -> list[str | None]:
    """The title line of each record of an SDF text (for records RDKit cannot read)."""
    records = re.split(rb"^\$\$\$\$[^\n]*(?:\n|$)", data, flags=re.MULTILINE)
    if records and not records[-1].strip():
        records.pop()
    titles = [record.split(b"\n", 1)[0].decode("utf-8", "replace").strip() for record in records]
    return [title or None for title in titles]


def _read_sdf(path: Path, gz: bool) -> pd.DataFrame:
    rows: list[dict] = []
    with gzip.open(path, "rb") if gz else open(path, "rb") as fh:
        # GzipFile and BufferedReader are binary file objects, though typeshed does not call them BinaryIO.
        for i, record in enumerate(iter_sdf(cast(BinaryIO, fh))):
            if _SDF_SMILES in record.properties:
                raise InvalidInputError(
                    f"{path} record {i + 1}: an SD property is named {_SDF_SMILES!r}, "
                    "which clashes with the SMILES column read_table adds"
                )
            rows.append({_SDF_SMILES: record.smiles or "", **record.properties})
    frame = pd.DataFrame(rows, columns=_union_keys(rows))
    for col in frame.columns[1:]:
        with contextlib.suppress(ValueError, TypeError):  # a text column stays text
            frame[col] = pd.to_numeric(frame[col])
    return frame


def _union_keys(rows: list[dict]) -> list[str]:
    keys: dict[str, None] = {_SDF_SMILES: None}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return list(keys)


def line_numbers(path: str | Path, *, keep_blank_lines: bool = False, header: bool = True) -> np.ndarray:
    """1-based line on which each data record of a CSV/TSV/TXT or ``.smi`` file starts, as
    :func:`read_table` reads it with the same ``keep_blank_lines`` (``header=False``: it was read with
    ``columns``, so its first line is data)."""
    path = Path(path)
    base, gz = _format_of(path)
    if base in SMI_SUFFIXES:
        lines, has_header = _smi_lines(path)
        numbers = [n for n, line in enumerate(lines, 1) if keep_blank_lines or line.strip()]
        return np.asarray(numbers[1:] if has_header else numbers, dtype=np.int64)
    sep = _delimiter(path, base, gz)
    starts, prev_end = [], 0
    limit = csv.field_size_limit(2**31 - 1)  # a cell may hold a long DNA sequence; restored below
    try:
        with _open_text(path, gz) as fh:
            reader = csv.reader(fh, delimiter=sep)
            for record in reader:
                if record or keep_blank_lines:
                    starts.append(prev_end + 1)
                prev_end = reader.line_num
    finally:
        csv.field_size_limit(limit)
    return np.asarray(starts[1:] if header else starts, dtype=np.int64)


@dataclass
class MoleculeTable:
    """A table of molecules: a frame, its SMILES column and its (numeric) target columns.

    Args:
        frame: the data, one row per molecule.
        smiles_column: name of the SMILES column (missing SMILES are ``""``).
        target_columns: names of the float target columns (NaN = missing); may be empty.
        source: where the data came from, for messages (a file path or a dataset name).
        path: the file the frame was read from, if any; lets :meth:`describe_row` give file lines.
        classes: per classification target with text labels, its class names (label ``i`` = ``classes[i]``).
        keep_blank_lines / header: how ``path`` was read (see :func:`read_table`).
    """

    frame: pd.DataFrame
    smiles_column: str
    target_columns: tuple[str, ...]
    source: str
    path: Path | None = None
    classes: dict[str, list[str]] = field(default_factory=dict)
    keep_blank_lines: bool = False
    header: bool = True
    _lines: np.ndarray | None = field(default=None, init=False, repr=False)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def smiles(self) -> list[str]:
        return self.frame[self.smiles_column].tolist()

    @property
    def targets(self) -> np.ndarray:
        """float32 array ``[n, n_targets]`` (NaN = missing); ``[n, 0]`` when there are no targets."""
        if not self.target_columns:
            return np.zeros((len(self.frame), 0), dtype=np.float32)
        return self.frame[list(self.target_columns)].to_numpy(dtype=np.float32, na_value=np.nan)

    def describe_row(self, i: int) -> str:
        """Where 0-based data row ``i`` came from: "esol.csv line 7" (header = line 1), "x.sdf record 5"
        and "x.parquet row 5" (1-based), or "<source> index 4" (the frame's index label) otherwise."""
        if not 0 <= i < len(self.frame):
            raise IndexError(f"row {i} out of range for {len(self.frame)} rows")
        if self.path is None:
            label = self.frame.index[i]
            return f"{self.source} index {label.item() if isinstance(label, np.generic) else label!r}"
        base, _ = _format_of(self.path)
        name = self.path.name
        if base in _TEXT or base in SMI_SUFFIXES:
            if self._lines is None:
                self._lines = line_numbers(self.path, keep_blank_lines=self.keep_blank_lines, header=self.header)
            line = int(self._lines[i]) if len(self._lines) >= len(self.frame) else i + 1 + int(self.header)
            return f"{name} line {line}"
        return f"{name} {'record' if base == '.sdf' or base in FASTA_SUFFIXES else 'row'} {i + 1}"


def load_molecule_table(
    source: str | Path | pd.DataFrame,
    smiles_column: str,
    target_columns: Sequence[str] | None = None,
    *,
    class_labels: bool = False,
    positive_class: str | None = None,
    keep_blank_lines: bool = False,
    header: bool = True,
) -> MoleculeTable:
    """Read ``source`` (a file for :func:`read_table`, or a DataFrame) and check its columns.

    ``target_columns=None`` means no targets (e.g. for prediction). Empty target cells become NaN;
    any other value that is not a finite number is an error naming the file line and column. A ``.smi``
    file's SMILES column is always its first field (``smiles_column`` is not used).

    Args:
        class_labels: the targets are classes: a column of text labels (``active``/``inactive``) is mapped
            to 0, 1, … in sorted order (``positive_class`` last, so it is 1), the mapping logged and kept in
            ``MoleculeTable.classes``; a numeric column is read as numbers, as without this option.
        keep_blank_lines / header: passed to :func:`read_table` (``header=False``: a one-column text file
            without a header line, whose column is ``smiles_column``).

    Raises:
        InvalidInputError: a column is missing (the message lists the available ones), a column name is
            duplicated, or a target value is not numeric (a text column says which task types take it).
    """
    if isinstance(target_columns, str):
        raise TypeError("target_columns must be a sequence of column names, not a single string")
    if isinstance(source, pd.DataFrame):
        frame, name, path = source.copy(), "<DataFrame>", None
        _check_unique([str(c) for c in frame.columns], name)
    else:
        path = Path(source)
        columns = None if header else [smiles_column]
        frame, name = read_table(path, keep_blank_lines=keep_blank_lines, columns=columns), str(path)
        if table_format(path)[0] == "smi":
            smiles_column = SMI_COLUMNS[0]
    targets = tuple(target_columns or ())

    available = [str(c) for c in frame.columns]
    wanted = [smiles_column, *targets]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InvalidInputError(f"{name}: column(s) {missing} not found; available columns: {available}")
    if len(set(wanted)) != len(wanted):
        raise InvalidInputError(f"{name}: the SMILES and target columns must be distinct, got {wanted}")

    smiles = frame[smiles_column]
    frame[smiles_column] = smiles.where(smiles.notna(), "").astype(str)
    table = MoleculeTable(frame, smiles_column, targets, name, path, keep_blank_lines=keep_blank_lines, header=header)
    for col in targets:
        classes = _class_names(table, col, positive_class) if class_labels else None
        if classes is None:
            frame[col] = _numeric_column(table, col, class_labels)
        else:
            frame[col] = _class_codes(frame[col], classes)
            table.classes[col] = classes
            log.info("target %r: class labels %s", col, ", ".join(f"{c!r} → {i}" for i, c in enumerate(classes)))
    if positive_class is not None and not table.classes:
        raise InvalidInputError(
            f"{name}: --positive-class {positive_class!r} is for text class labels, but the target column(s) "
            f"{list(targets)} hold numbers (1 is the positive class)"
        )
    return table


def _blank(raw: pd.Series) -> pd.Series:
    return raw.isna() | raw.astype(str).str.strip().eq("")


def _text_values(raw: pd.Series) -> pd.Series:
    """The non-blank cells of ``raw`` that are not numbers (as stripped strings)."""
    if pd.api.types.is_bool_dtype(raw) or pd.api.types.is_numeric_dtype(raw):
        return pd.Series([], dtype=object)
    kept = raw[~_blank(raw)]
    return kept[pd.to_numeric(kept, errors="coerce").isna()].astype(str).str.strip()


def _class_names(table: MoleculeTable, col: str, positive_class: str | None) -> list[str] | None:
    """The sorted class names of a text label column (``positive_class`` moved last), or None when it
    holds numbers only."""
    raw = table.frame[col]
    if _text_values(raw).empty:
        return None
    names = sorted(set(raw[~_blank(raw)].astype(str).str.strip()))
    if positive_class is not None:
        if positive_class not in names:
            raise InvalidInputError(
                f"{table.source}: --positive-class {positive_class!r} is not a label of column {col!r}; "
                f"its labels: {', '.join(names[:20])}"
            )
        names = [n for n in names if n != positive_class] + [positive_class]
    return names


def _class_codes(raw: pd.Series, classes: list[str]) -> pd.Series:
    codes = raw.astype(str).str.strip().map({c: float(i) for i, c in enumerate(classes)})
    return codes.where(~_blank(raw), np.nan).astype(np.float64)


def _numeric_column(table: MoleculeTable, col: str, class_labels: bool = False) -> pd.Series:
    """``col`` as float64 (blank/NA cells → NaN); any other non-finite or non-numeric value is an error."""
    raw = table.frame[col]
    text = _text_values(raw)
    if not class_labels and len(text) and len(text) == int((~_blank(raw)).sum()):
        shown = ", ".join(repr(v) for v in sorted(set(text))[:5])
        raise InvalidInputError(
            f"{table.source}: column {col!r} holds text ({shown}), not numbers: pass --task-type binary "
            "(two classes) or --task-type multiclass for class labels, or choose numeric target columns "
            "with --target-columns"
        )
    if pd.api.types.is_bool_dtype(raw) or pd.api.types.is_numeric_dtype(raw):
        values = raw.astype(np.float64)
        bad = np.isinf(values)
    else:
        values = pd.to_numeric(raw, errors="coerce").astype(np.float64)
        blank = _blank(raw)
        values = values.where(~blank, np.nan)
        bad = (values.isna() & ~blank) | np.isinf(values)
    if bad.any():
        i = int(np.flatnonzero(np.asarray(bad))[0])
        raise InvalidInputError(
            f"{table.describe_row(i)}: column {col!r} has value {raw.iloc[i]!r}, which is not a finite "
            f"number ({int(bad.sum())} such value(s) in this column); leave the cell empty for a missing value"
        )
    return values


def numeric_target_columns(frame: pd.DataFrame, skip: set[str | None], source: str) -> list[str]:
    """The numeric columns of ``frame`` not in ``skip`` (the default targets); none is an error naming the file."""
    columns = [str(c) for c in frame.select_dtypes("number").columns if c not in skip]
    if not columns:
        raise InvalidInputError(
            f"{source}: no numeric target column; pass --target-columns (columns: {', '.join(map(str, frame.columns))})"
        )
    return columns


def report_invalid(problems: Sequence[str], header: str, on_invalid: str, unit: str = "rows") -> None:
    """Logs the invalid inputs (``on_invalid: skip``) or raises :class:`InvalidInputError` listing them."""
    lines = [f"  {p}" for p in problems]
    shown = "\n".join(lines[:20]) + (f"\n  … and {len(lines) - 20} more" if len(lines) > 20 else "")
    if on_invalid == "skip":
        log.warning("%s skipped:\n%s", header, shown)
        return
    if on_invalid != "error":
        raise ConfigError(f"unknown on_invalid {on_invalid!r}; valid values: error, skip")
    raise InvalidInputError(
        f"{header}:\n{shown}\nFix or remove these {unit}, or pass --on-invalid skip to leave them out."
    )
