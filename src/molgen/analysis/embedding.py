"""Learned molecule embeddings of a pretrained or property model (``molgen embed``): a fingerprint for other tools.

One output row per input row, in input order: the input columns, ``embedding_0 … embedding_{D-1}`` (the encoder's
output, before any head; a property model trained with ``--descriptors`` appends its standardized descriptors),
``valid`` and ``invalid_reason`` (an invalid input gets empty embeddings and the reason, as ``molgen predict`` does).
An ensemble's first member embeds: the members' embedding spaces differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from molgen.analysis.prediction import LoadedModel, PredictionSummary, read_inputs
from molgen.errors import ModelFormatError
from molgen.io import atomic_path

__all__ = ["EMBEDDING_PREFIX", "embed_file", "embed_frame"]

EMBEDDING_PREFIX = "embedding_"
EMBEDDING_FAMILIES = ("pretrain", "property")


def embed_frame(
    model: LoadedModel, frame: pd.DataFrame, input_column: str | None = None, *, batch_size: int = 256, n_jobs: int = -1
) -> pd.DataFrame:
    """Embeddings ``[n_rows, D]`` of the SMILES in ``input_column`` of ``frame`` as a table (see the module docstring)."""
    import torch

    from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles
    from molgen.training.batches import GraphCollate
    from molgen.training.prediction_tables import add_columns, input_values

    spec = model.spec
    if spec.family not in EMBEDDING_FAMILIES or spec.featurizer is None:
        raise ModelFormatError(
            f"{model.path} holds a {spec.family} model; molgen embed reads molecule encoders "
            "(a molgen pretrain run or a property model)"
        )
    column = input_column or (spec.input.column if spec.input is not None else None) or "smiles"
    smiles = input_values(frame, column, "SMILES").tolist()
    featurized = featurize_smiles(smiles, FeaturizerSpec.from_dict(spec.featurizer), n_jobs=n_jobs)
    encoder = model.members[0].encoder
    encoder.eval()
    collate = GraphCollate(featurized.graphs)
    rows = np.arange(len(featurized.graphs))
    with torch.inference_mode():
        parts = [encoder(collate(rows[start : start + batch_size])) for start in range(0, len(rows), batch_size)]
    dim = int(getattr(encoder, "out_dim", 0))
    values = torch.cat(parts).float().numpy() if parts else np.zeros((0, dim), np.float32)
    table = np.full((len(frame), values.shape[1]), np.nan, dtype=np.float32)
    table[featurized.valid_index] = values
    columns: dict[str, Any] = {f"{EMBEDDING_PREFIX}{j}": table[:, j] for j in range(table.shape[1])}
    valid = np.zeros(len(frame), dtype=bool)
    valid[featurized.valid_index] = True
    reasons = {bad.index: f"{bad.reason}: {bad.smiles!r}" for bad in featurized.invalid}
    columns["valid"] = valid
    columns["invalid_reason"] = np.array([reasons.get(i, "") for i in range(len(frame))], dtype=object)
    return add_columns(frame, columns)


def embed_file(
    model: LoadedModel, input_path: str | Path, output_path: str | Path, **options: Any
) -> PredictionSummary:
    """Reads ``input_path`` like ``molgen predict`` (every format, one row per data line), writes the embeddings as
    Parquet to ``output_path`` (atomically)."""
    table = read_inputs(model, input_path, options.pop("input_column", None))
    out = embed_frame(model, table.frame, table.smiles_column, **options)
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(output_path) as tmp:
        out.to_parquet(tmp, index=False)
    bad = np.flatnonzero(~out["valid"].to_numpy(dtype=bool))
    invalid = [f"{table.describe_row(int(i))}: {out['invalid_reason'].iloc[i]}" for i in bad]
    return PredictionSummary(len(out), len(invalid), invalid, output_path)
