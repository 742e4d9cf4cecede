"""Loading exported models and predicting tables of new inputs."""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from molgen.data.tables import MoleculeTable, first_line, load_molecule_table, table_format
from molgen.errors import ConfigError, InvalidInputError, ModelFormatError, MolgenError
from molgen.io import atomic_path
from molgen.training.artifacts import ModelSpec, model_folder, read_arrays, read_model, read_spec

log = logging.getLogger("molgen")


@dataclasses.dataclass
class LoadedModel:
    """An exported model ready to predict: its ``model.yaml`` spec and its members (eval mode)."""

    spec: ModelSpec
    members: list[Any]
    path: Path
    domain: Any = None  # molgen.chem.domain.Domain of molecule models that export one

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
    return LoadedModel(spec, members, Path(path), load_domain(spec))


def predict_frame(model: LoadedModel, frame: pd.DataFrame, *, domain: bool = True, **options: Any) -> pd.DataFrame:
    """Predictions for every row of ``frame``: one output row per input row, with ``valid`` and
    ``invalid_reason`` columns, and ``train_similarity`` / ``in_domain`` when the model has an applicability
    domain and ``domain`` is on. Options go to the family's ``predict_frame`` (``input_column``,
    ``batch_size``, ``n_jobs``; molecule models: ``precision``; DNA models: ``on_length_mismatch``)."""
    from molgen.families import FAMILIES

    if domain and model.domain is not None:
        options["domain"] = model.domain
    kind = model.spec.input.kind if model.spec.input is not None else None
    if "on_length_mismatch" in options and kind != "dna":
        raise ConfigError(f"--on-length-mismatch applies to DNA models; this model reads {kind or 'no sequences'}")
    precision = options.pop("precision", "32")
    if precision != "32":  # only molecule models take the option
        if kind != "smiles":
            raise ConfigError(f"--precision {precision} applies to molecule models; this model reads {kind}")
        options["precision"] = precision
    out = FAMILIES.get(model.spec.family).predict_frame(model.spec, model.members, frame, **options)
    if len(out) != len(frame):  # the contract every family keeps; never lose a row silently
        raise RuntimeError(f"{len(out)} output rows for {len(frame)} input rows")
    return out


def read_inputs(model: LoadedModel, input_path: str | Path, input_column: str | None = None) -> MoleculeTable:
    """The input table of ``molgen predict``: every format ``train`` and ``screen`` read, one row per data
    line (blank lines included), rows described by file line. A one-column text file whose first line is an
    input (a valid SMILES or DNA sequence) rather than the column's name is read as having no header."""
    path = Path(input_path)
    assert model.spec.input is not None
    column = input_column or model.spec.input.column or "smiles"
    fmt = table_format(path)[0]
    if fmt in ("sdf", "fasta") and input_column is None:  # the columns these formats give (see read_table)
        column = "smiles" if fmt == "sdf" else "sequence"
    header = not (fmt in ("csv", "tsv", "txt") and input_column is None and _first_line_is_input(model, path, column))
    try:
        return load_molecule_table(path, column, keep_blank_lines=True, header=header)
    except InvalidInputError:  # a DNA model reads a `sequence` column when its trained column is absent
        if model.spec.input.kind == "smiles" or input_column is not None or column == "sequence":
            raise
        return load_molecule_table(path, "sequence", keep_blank_lines=True, header=header)


def _first_line_is_input(model: LoadedModel, path: Path, column: str) -> bool:
    if not path.is_file():
        return False
    cell = first_line(path).strip().strip('"')
    if not cell or cell == column or "," in cell or "\t" in cell:  # no line, a header, or several columns
        return False
    assert model.spec.input is not None
    if model.spec.input.kind == "smiles":
        from molgen.chem.molecules import parse_smiles

        is_input = parse_smiles(cell)[0] is not None
    else:
        is_input = re.fullmatch(r"[ACGTNacgtn]+", cell) is not None
    if is_input:
        log.info("%s has no header line (its first line %r is an input, not the column %r)", path.name, cell, column)
    return is_input


def predict_file(
    model: LoadedModel, input_path: str | Path, output_path: str | Path, **options: Any
) -> PredictionSummary:
    """Reads ``input_path`` (CSV/TSV/TXT/.smi/SDF/Parquet/FASTA, optionally .gz; see :func:`read_inputs`),
    predicts and writes a CSV to ``output_path``: one row per input row, in order."""
    table = read_inputs(model, input_path, options.pop("input_column", None))
    return _predict_table(model, table, output_path, **options)


def predict_model_file(
    model_path: str | Path, input_path: str | Path, output_path: str | Path, **options: Any
) -> PredictionSummary:
    """:func:`predict_file` with the model folder ``model_path`` (what ``molgen predict`` runs).

    For a property model, ``model.yaml`` and the inputs are read first, and from
    :data:`~molgen.chem.featurize.chunks.OVERLAP_MIN_ROWS` rows on its featurization workers start on them
    (:func:`~molgen.chem.featurize.chunks.featurize_ahead`, ``n_jobs``) while this process loads torch and the
    weights: the output is the same. A problem found then is reported as :func:`predict_file` reports it, after
    the model is loaded.
    """
    input_column = options.pop("input_column", None)
    ahead, table = None, None
    try:
        spec = read_spec(model_folder(model_path))
        if spec.family == "property" and spec.featurizer is not None:
            table = read_inputs(LoadedModel(spec, [], Path(model_path)), input_path, input_column)
            ahead = _featurize_ahead(spec, table, options.get("n_jobs", -1), options.get("domain", True))
    except MolgenError:  # load_model and read_inputs below report it, in their order
        table = None
    try:
        model = load_model(model_path)
        if table is None:
            table = read_inputs(model, input_path, input_column)
        if ahead is not None:
            options["ahead"] = ahead
        return _predict_table(model, table, output_path, **options)
    finally:
        if ahead is not None:
            ahead.close()


def _featurize_ahead(spec: ModelSpec, table: MoleculeTable, n_jobs: int, domain: bool) -> Any:
    from molgen.chem.featurize.chunks import featurize_ahead
    from molgen.chem.featurize.graphs import FeaturizerSpec

    assert spec.featurizer is not None
    found = load_domain(spec) if domain else None
    return featurize_ahead(
        table.frame[table.smiles_column].tolist(),
        FeaturizerSpec.from_dict(spec.featurizer),
        n_jobs=n_jobs,
        fingerprint=None if found is None else found.fingerprint,
        reference=None if found is None else found.reference,
    )


def _predict_table(
    model: LoadedModel, table: MoleculeTable, output_path: str | Path, **options: Any
) -> PredictionSummary:
    out = predict_frame(model, table.frame, input_column=table.smiles_column, **options)
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(output_path) as tmp:  # a crash or a full disk leaves no partial output
        out.to_csv(tmp, index=False)
    bad = np.flatnonzero(~out["valid"].to_numpy(dtype=bool))
    invalid = [f"{table.describe_row(int(i))}: {out['invalid_reason'].iloc[i]}" for i in bad]
    return PredictionSummary(len(out), len(invalid), invalid, output_path)


def load_domain(spec: ModelSpec) -> Any:
    """The applicability domain exported with a molecule model (:class:`molgen.chem.domain.Domain`), or None."""
    if spec.applicability_domain is None:
        return None
    from molgen.chem.domain import FILE, exported_domain  # RDKit: only for molecule models with a domain

    return exported_domain(
        spec.applicability_domain, lambda: read_arrays(spec, FILE).get("fingerprints"), str(spec.source)
    )
