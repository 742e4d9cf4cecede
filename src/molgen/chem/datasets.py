"""Labelled molecule tables for training: read by the one table reader, featurized, invalid rows reported."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from molgen.chem.featurize.graphs import FeaturizationResult, FeaturizerSpec, featurize_smiles
from molgen.config import DataConfig, resolved
from molgen.data.catalog import DatasetSpec
from molgen.data.sources import cache_dir, resolve
from molgen.data.tables import MoleculeTable, load_molecule_table, numeric_target_columns, read_table, report_invalid


@dataclasses.dataclass
class MoleculeData:
    """A labelled molecule table, featurized: row ``i`` of ``targets`` belongs to graph ``i``."""

    table: MoleculeTable
    featurized: FeaturizationResult
    targets: np.ndarray  # float32 [n_valid, T]
    target_names: list[str]

    @property
    def classes(self) -> dict[str, list[str]]:
        return self.table.classes

    @property
    def valid_index(self) -> np.ndarray:
        return self.featurized.valid_index

    @property
    def invalid(self) -> list[Any]:
        return self.featurized.invalid

    @property
    def frame(self) -> pd.DataFrame:
        return self.table.frame

    @property
    def source(self) -> str:
        return self.table.source

    @property
    def smiles(self) -> list[str]:
        all_smiles = self.table.smiles
        return [all_smiles[i] for i in self.featurized.valid_index]


def read_labelled_molecules(
    data: DataConfig,
    spec: DatasetSpec | None,
    featurizer: FeaturizerSpec,
    *,
    class_labels: bool = False,
    positive_class: str | None = None,
) -> MoleculeData:
    """Reads, checks and featurizes a labelled molecule table (a catalog dataset ``spec`` or the file
    ``data.name``); invalid molecules raise or are skipped (``data.on_invalid``), listed with their file line.

    Args:
        class_labels: targets are class labels (text labels get codes; ``positive_class`` picks the 1 of binary).
    """
    source: Any = resolve(spec.remote) if spec is not None else Path(data.name)
    table = load_molecule_table(
        source,
        resolved(data.smiles_column, "data.smiles_column"),
        data.target_columns
        or numeric_target_columns(read_table(source), {data.smiles_column, data.split_column}, str(source)),
        class_labels=class_labels,
        positive_class=positive_class,
    )
    if data.max_rows is not None:
        table = dataclasses.replace(table, frame=table.frame.iloc[: data.max_rows].reset_index(drop=True))
    featurized = featurize_smiles(
        table.smiles,
        featurizer,
        n_jobs=data.featurize_jobs,
        cache_dir=cache_dir() / "features" if data.cache else None,
        max_atoms=data.max_atoms,
    )
    if featurized.invalid:
        report_invalid(
            [f"{table.describe_row(bad.index)}: {bad.smiles!r}: {bad.reason}" for bad in featurized.invalid],
            f"{len(featurized.invalid)} invalid molecule(s) in {table.source} (column {table.smiles_column!r})",
            data.on_invalid,
        )
    targets = table.targets[featurized.valid_index]
    return MoleculeData(table, featurized, targets, list(table.target_columns))
