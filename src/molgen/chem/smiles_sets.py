"""Training SMILES of the generators: a file's valid molecules (canonical, each with its data row; invalid rows
reported with their file line) and their seeded train/val split."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from molgen.data.tables import SMI_SUFFIXES, report_invalid
from molgen.errors import ConfigError, InvalidInputError


@dataclasses.dataclass
class SmilesSplits:
    """Valid, canonical training molecules split into train and validation.

    Attributes:
        train / val: canonical SMILES.
        train_rows / val_rows: 0-based data rows of the input file each molecule came from.
        invalid_rows: data rows that were not valid molecules (skipped).
    """

    train: list[str]
    val: list[str]
    train_rows: list[int] = dataclasses.field(default_factory=list)
    val_rows: list[int] = dataclasses.field(default_factory=list)
    invalid_rows: list[int] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class SmilesRecords:
    """SMILES read from a file, with a function telling where row ``i`` came from."""

    smiles: list[Any]
    source: str
    describe_row: Any  # Callable[[int], str]


def read_smiles_file(path: Path, column: str, max_rows: int | None) -> SmilesRecords:
    """SMILES of a ``.smi`` file (SMILES, then an optional name; blank lines and a header line skipped) or of
    a table column (CSV/TSV/TXT/Parquet/SDF), read by ``molgen.data.tables`` like every other input."""
    from molgen.data.tables import load_molecule_table, table_format

    table = load_molecule_table(path, column)
    if max_rows is not None:
        table = dataclasses.replace(table, frame=table.frame.iloc[:max_rows].reset_index(drop=True))
    if not len(table) and table_format(path)[0] == "smi":
        raise InvalidInputError(f"{path}: no SMILES (expected one per line)")
    return SmilesRecords(table.smiles, table.source, table.describe_row)


def read_valid_smiles(
    path: Path, column: str, max_rows: int | None, on_invalid: str
) -> tuple[list[str], np.ndarray, list[int], list[str]]:
    """Reads and validates the training SMILES.

    Returns:
        ``(canonical SMILES of the valid rows, their 0-based data rows, the invalid rows, a report line for
        each invalid row)``.

    Raises:
        InvalidInputError: invalid rows with ``on_invalid="error"``; fewer than 2 valid molecules.
    """
    from rdkit import Chem

    from molgen.chem.molecules import iter_molecules

    records = read_smiles_file(path, column, max_rows)
    valid, rows, invalid_rows, problems = [], [], [], []
    for index, mol, bad in iter_molecules(records.smiles):
        if bad is not None:
            invalid_rows.append(index)
            problems.append(f"{records.describe_row(index)}: {bad.smiles!r}: {bad.reason}")
            continue
        valid.append(Chem.MolToSmiles(mol))
        rows.append(index)
    if problems:
        column = "" if records.source.lower().removesuffix(".gz").endswith(SMI_SUFFIXES) else f" (column {column!r})"
        report_invalid(problems, f"{len(problems)} invalid molecule(s) in {records.source}{column}", on_invalid)
    if len(valid) < 2:
        raise InvalidInputError(
            f"{records.source}: {len(valid)} valid molecule(s); a generator needs at least 2 (train and val)"
        )
    return valid, np.asarray(rows, dtype=np.int64), invalid_rows, problems


def split_train_val(smiles: list[str], rows: np.ndarray, val_fraction: float, seed: int) -> SmilesSplits:
    """Seeded random train/val split (at least one molecule in each)."""
    if not 0.0 < val_fraction < 1.0:
        raise ConfigError(f"model.val_fraction must be between 0 and 1, got {val_fraction}")
    order = np.random.default_rng(seed).permutation(len(smiles))
    n_val = min(max(round(len(smiles) * val_fraction), 1), len(smiles) - 1)
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    return SmilesSplits(
        train=[smiles[i] for i in train],
        val=[smiles[i] for i in val],
        train_rows=rows[train].tolist(),
        val_rows=rows[val].tolist(),
    )
