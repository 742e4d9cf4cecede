"""Labelled DNA sequence sets for training: a table, a FASTA + labels table, or BED intervals on a reference.

:func:`read_labelled_sequences` reads the input named by a run's data section (or a catalog dataset), checks
every sequence (``genomics.encoding.find_invalid``) and returns the valid ones with their targets; invalid
records come back with the file line or record that names them, for the family to list or skip.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from molgen.config import DataConfig, resolved
from molgen.data.catalog import DatasetSpec
from molgen.data.tables import FASTA_SUFFIXES, load_molecule_table, numeric_target_columns, read_fasta, read_table
from molgen.errors import DataSourceError, InvalidInputError
from molgen.genomics.encoding import InvalidSequence, find_invalid
from molgen.genomics.io import bed_sequences, catalog_frame, is_bed, join_labels, read_bed

log = logging.getLogger("molgen")


@dataclasses.dataclass
class SequenceData:
    """Labelled sequences: row ``i`` of ``targets`` belongs to ``sequences[i]`` = input row ``valid_index[i]``."""

    frame: pd.DataFrame
    source: str
    sequences: list[str]
    valid_index: np.ndarray
    invalid: list[InvalidSequence]
    targets: np.ndarray
    target_names: list[str]
    groups: np.ndarray | None = None


def read_sequence_input(data: DataConfig, spec: DatasetSpec | None) -> tuple[pd.DataFrame, Path | None, dict[int, str]]:
    """(table, file for line numbers or None, {row: problem}) of the training data."""
    if spec is not None:
        frame, path = catalog_frame(spec)
        return frame, path, {}
    path = Path(data.name)
    if not path.is_file():
        raise DataSourceError(f"training data not found: {path}")
    problems: dict[int, str] = {}
    if is_bed(path):
        if not data.reference:
            raise InvalidInputError(f"{path} is a BED file: pass the reference genome with --reference FILE.fa")
        frame, problems = bed_sequences(read_bed(path), data.reference, one_based=data.one_based, source=path.name)
    elif path.name.lower().removesuffix(".gz").endswith(FASTA_SUFFIXES):
        frame = read_fasta(path)
        if not data.labels:
            raise InvalidInputError(
                f"{path}: pass --labels TABLE with the target values of its records (joined on record id)"
            )
    else:
        return read_table(path), path, {}
    if data.labels:
        frame, missing = join_labels(frame, data.labels, id_column=data.id_column, source=path.name)
        problems = {**missing, **problems}
    return frame, None, problems


def read_labelled_sequences(data: DataConfig, spec: DatasetSpec | None) -> SequenceData:
    """Reads the training sequences and their targets and checks every sequence (invalid ones listed in
    ``SequenceData.invalid``, each naming its file line or record)."""
    frame, path, problems = read_sequence_input(data, spec)
    column = resolved(data.sequence_column, "data.sequence_column")
    skip = {column, data.split_column, data.id_column, "start", "end", "score"}
    targets = data.target_columns or numeric_target_columns(frame, skip, str(path or data.name))
    if path is not None:  # read from the file again so that messages name file lines
        table = load_molecule_table(path, column, targets)
        for extra in frame.columns.difference(table.frame.columns):  # e.g. an assembled split column
            table.frame[extra] = frame[extra].to_numpy()
    else:
        table = load_molecule_table(frame, column, targets)
    if data.max_rows is not None:
        table = dataclasses.replace(table, frame=table.frame.iloc[: data.max_rows].reset_index(drop=True))
        problems = {i: r for i, r in problems.items() if i < data.max_rows}
    source = str(path or data.name)
    seqs = table.frame[column].tolist()
    describe = _describer(table.frame, table.describe_row, source) if path is None else table.describe_row
    invalid = {bad.index: bad for bad in find_invalid(seqs)}
    for row, reason in problems.items():
        invalid[row] = InvalidSequence(row, "", reason)
    invalid_list = [dataclasses.replace(invalid[i], record=describe(i)) for i in sorted(invalid)]
    valid = np.setdiff1d(np.arange(len(seqs)), np.fromiter(invalid, dtype=np.int64, count=len(invalid)))
    groups = None
    if data.split == "predefined" and data.split_column:
        if data.split_column not in table.frame.columns:
            raise InvalidInputError(
                f"split column {data.split_column!r} not in {source}; "
                f"columns: {', '.join(map(str, table.frame.columns))}"
            )
        groups = table.frame[data.split_column].to_numpy()[valid]
    return SequenceData(
        table.frame, source, [seqs[i] for i in valid], valid, invalid_list, table.targets[valid], list(targets), groups
    )


def _describer(frame: pd.DataFrame, describe_row: Callable[[int], str], source: str) -> Callable[[int], str]:
    if "id" in frame.columns:  # FASTA / BED records
        where = frame["file"] if "file" in frame.columns else pd.Series(Path(source).name, index=frame.index)
        return lambda i: f"{where.iloc[i]} record {i + 1} ({frame['id'].iloc[i]})"
    return describe_row


def sequence_length(data_cfg: DataConfig, data: SequenceData) -> int:
    """The model's input length: ``data.seq_length``, else the longest sequence capped at ``max_seq_length``."""
    if data_cfg.seq_length is not None:
        return data_cfg.seq_length
    longest = max(map(len, data.sequences), default=1)
    if longest > data_cfg.max_seq_length:
        log.warning(
            "sequences up to %d nt are cropped to %d (set data.seq_length / data.max_seq_length)",
            longest,
            data_cfg.max_seq_length,
        )
    return min(longest, data_cfg.max_seq_length)
