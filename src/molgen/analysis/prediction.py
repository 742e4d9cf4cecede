"""Loading exported models and predicting tables of new inputs."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from molgen.data.tables import read_table
from molgen.errors import ModelFormatError
from molgen.io import atomic_path
from molgen.training.artifacts import ModelSpec, read_model


@dataclasses.dataclass
class LoadedModel:
    """An exported model ready to predict: its ``model.yaml`` spec and its members (eval mode)."""

    spec: ModelSpec
    members: list[Any]
    path: Path

    @property
    def targets(self) -> list[str]:
        if self.spec.task is None:
            raise ModelFormatError(f"{self.path} has no task: not a property or expression model")
        return list(self.spec.task.targets)


@dataclasses.dataclass
class PredictionSummary:
    n_rows: int
    n_invalid: int
    invalid: list[str]
    output: Path


def load_model(path: str | Path) -> LoadedModel:
    """Loads a model folder (or a run folder holding ``model/``) without unpickling anything."""
    from molgen.families import FAMILIES  # imports the families (and torch) when a model is loaded

    spec, states = read_model(path)
    members = FAMILIES.get(spec.family).load_predictors(spec, states)
    return LoadedModel(spec, members, Path(path))


def predict_frame(model: LoadedModel, frame: pd.DataFrame, **options: Any) -> pd.DataFrame:
    """Predictions for every row of ``frame``: one output row per input row, with ``valid`` and
    ``invalid_reason`` columns. Options go to the family's ``predict_frame`` (``input_column``,
    ``batch_size``, ``n_jobs``)."""
    from molgen.families import FAMILIES

    out = FAMILIES.get(model.spec.family).predict_frame(model.spec, model.members, frame, **options)
    if len(out) != len(frame):  # the contract every family keeps; never lose a row silently
        raise RuntimeError(f"{len(out)} output rows for {len(frame)} input rows")
    return out


def predict_file(
    model: LoadedModel, input_path: str | Path, output_path: str | Path, **options: Any
) -> PredictionSummary:
    """Reads ``input_path`` (CSV/TSV/SDF/Parquet/…), predicts, writes a CSV to ``output_path``."""
    out = predict_frame(model, read_table(input_path), **options)
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(output_path) as tmp:  # a crash or a full disk leaves no partial output
        out.to_csv(tmp, index=False)
    bad = np.flatnonzero(~out["valid"].to_numpy(dtype=bool))
    invalid = [f"row {i + 1}: {out['invalid_reason'].iloc[i]}" for i in bad]
    return PredictionSummary(len(out), len(invalid), invalid, output_path)
