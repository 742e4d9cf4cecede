"""Property prediction: SMILES → RDKit graph → graph neural network → one or more molecular properties."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from molgen.chem.featurize.graphs import FeaturizationResult, FeaturizerSpec, featurize_smiles
from molgen.config import GraphModelConfig, RunConfig, model_config, model_section, replace, resolved
from molgen.data.catalog import DatasetSpec
from molgen.data.sources import cache_dir, resolve
from molgen.data.splits import Split
from molgen.data.tables import MoleculeTable, load_molecule_table, numeric_target_columns, read_table
from molgen.errors import InvalidInputError
from molgen.evaluation.supervised import BINARY, DEFAULT_METRICS, MULTICLASS, MULTILABEL, REGRESSION
from molgen.families import common
from molgen.families.base import register_family
from molgen.families.domain import Domain, TrainingDomain, fit_domain
from molgen.families.model_card import property_model_card
from molgen.families.predictions import output_table
from molgen.families.supervised import SupervisedFamily, with_head
from molgen.models import graph as graph_models
from molgen.models.layers import WithMoleculeFeatures
from molgen.registry import Registry
from molgen.training.artifacts import ModelSpec
from molgen.training.batches import GraphCollate
from molgen.training.predictor import Predictor
from molgen.training.tasks import Task

log = logging.getLogger("molgen")

GRAPH_ENCODERS: Registry[type[torch.nn.Module]] = Registry(
    "model",
    {
        "dmpnn": graph_models.DMPNN,
        "gin": graph_models.GIN,
        "gcn": graph_models.GCN,
        "gat": graph_models.GATv2,
        "attentivefp": graph_models.AttentiveFP,
    },
)


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


def resolve_config(cfg: RunConfig) -> tuple[RunConfig, DatasetSpec | None]:
    """Fills unset data/task options from the catalog (or generic defaults for a user's file)."""
    spec = common.catalog_entry(cfg.data.name, "CSV/TSV/SDF/Parquet file")
    data, task = cfg.data, cfg.task
    if spec is not None:
        data = common.data_from_catalog(data, spec, "smiles_column")
        task = replace(task, type=task.type or spec.task_type)
        task = replace(task, monitor=task.monitor or _headline(spec.metric, task.type))
    else:
        data = replace(data, smiles_column=data.smiles_column or "smiles", split=data.split or "random")
        task = replace(task, type=task.type or REGRESSION)
        task = replace(task, monitor=task.monitor or DEFAULT_METRICS[task.type][0])
    return replace(cfg, data=data, task=task), spec


def _headline(metric: str, task_type: str) -> str:
    return metric if metric in DEFAULT_METRICS[task_type] or task_type == REGRESSION else DEFAULT_METRICS[task_type][0]


def load_data(cfg: RunConfig, spec: DatasetSpec | None) -> MoleculeData:
    """Reads, checks and featurizes the training table; invalid molecules raise or are skipped."""
    source: Any = resolve(spec.remote) if spec is not None else Path(cfg.data.name)
    table = load_molecule_table(
        source,
        resolved(cfg.data.smiles_column, "data.smiles_column"),
        cfg.data.target_columns
        or numeric_target_columns(read_table(source), {cfg.data.smiles_column, cfg.data.split_column}, str(source)),
        class_labels=cfg.task.type in (BINARY, MULTILABEL, MULTICLASS),
        positive_class=cfg.task.positive_class,
    )
    if cfg.data.max_rows is not None:
        table = dataclasses.replace(table, frame=table.frame.iloc[: cfg.data.max_rows].reset_index(drop=True))
    featurized = featurize_smiles(
        table.smiles,
        _featurizer(cfg),
        n_jobs=cfg.data.featurize_jobs,
        cache_dir=cache_dir() / "features" if cfg.data.cache else None,
        max_atoms=cfg.data.max_atoms,
    )
    if featurized.invalid:
        common.report_invalid(
            [f"{table.describe_row(bad.index)}: {bad.smiles!r}: {bad.reason}" for bad in featurized.invalid],
            f"{len(featurized.invalid)} invalid molecule(s) in {table.source} (column {table.smiles_column!r})",
            cfg.data.on_invalid,
        )
    targets = table.targets[featurized.valid_index]
    return MoleculeData(table, featurized, targets, list(table.target_columns))


def build_predictor(
    model: GraphModelConfig, featurizer: FeaturizerSpec, task: Task, mol_features: np.ndarray | None = None
) -> Predictor:
    """Encoder + head + task for a model config; ``mol_features`` ``[n_train, D]`` sets descriptor scaling."""
    encoder_cls = GRAPH_ENCODERS.get(model.name)
    options = {"readout": model.readout} if model.readout else {}
    encoder: torch.nn.Module = encoder_cls(
        atom_dim=featurizer.atom_dim,
        bond_dim=featurizer.bond_dim,
        hidden_dim=model.hidden_dim,
        depth=model.depth,
        dropout=model.dropout,
        **options,
    )
    if featurizer.mol_feature_dim:
        if mol_features is None:
            mean, std = torch.zeros(featurizer.mol_feature_dim), torch.ones(featurizer.mol_feature_dim)
        else:
            mean, std = torch.as_tensor(mol_features.mean(0)), torch.as_tensor(mol_features.std(0))
        encoder = WithMoleculeFeatures(encoder, mean, std)
    return with_head(encoder, task, model)


def predict_frame(
    spec: ModelSpec,
    members: list[Predictor],
    frame: pd.DataFrame,
    input_column: str | None = None,
    *,
    batch_size: int = 256,
    n_jobs: int = -1,
    domain: Domain | None = None,
) -> pd.DataFrame:
    """One output row per input row: input columns, one column per target (+ ``_std``), with a ``domain`` its
    ``train_similarity`` and ``in_domain`` (:mod:`molgen.families.domain`), ``valid``.

    Invalid molecules get ``valid=False``, empty predictions (and similarity) and the reason in ``invalid_reason``.
    """
    assert spec.input is not None and spec.task is not None and spec.featurizer is not None
    column = input_column or spec.input.column
    if column not in frame.columns:
        raise InvalidInputError(
            f"SMILES column {column!r} not in the input; columns: {', '.join(map(str, frame.columns))} "
            "(use --input-column)"
        )
    featurizer = FeaturizerSpec.from_dict(spec.featurizer)
    fingerprint = None if domain is None else domain.fingerprint
    featurized = featurize_smiles(frame[column].tolist(), featurizer, n_jobs=n_jobs, fingerprint=fingerprint)
    collate = GraphCollate(featurized.graphs)
    rows = np.arange(len(featurized.graphs))
    preds = torch.stack([m.predict_rows(collate, rows, batch_size) for m in members]).numpy()
    reasons = {bad.index: f"{bad.reason}: {bad.smiles!r}" for bad in featurized.invalid}
    extra = {}
    if featurizer.standardize != "none":
        extra["smiles_standardized"] = standardized_column(frame[column].tolist(), featurized.valid_index, featurizer)
    if domain is not None:
        assert featurized.fingerprints is not None
        extra.update(domain.columns(featurized.fingerprints, featurized.valid_index, len(frame)))
    return output_table(spec, frame, preds, featurized.valid_index, reasons, extra)


def standardized_column(smiles: list[Any], valid_index: np.ndarray, featurizer: FeaturizerSpec) -> np.ndarray:
    """The standardized SMILES of the valid rows (``""`` elsewhere)."""
    from molgen.chem.standardize import standardize_smiles

    out = np.full(len(smiles), "", dtype=object)
    for i in valid_index:
        out[i] = standardize_smiles(smiles[i], featurizer.standardize)[0] or ""
    return out


@register_family("property")
class PropertyFamily(SupervisedFamily):
    """SMILES → molecular graph → graph neural network → one or more properties."""

    models = tuple(GRAPH_ENCODERS.names())
    resolve_config = staticmethod(resolve_config)
    load_data = staticmethod(load_data)
    predict_frame = staticmethod(predict_frame)
    model_card = staticmethod(property_model_card)

    def split_smiles(self, data: MoleculeData) -> list[str]:
        return data.smiles

    def prepare(self, cfg: RunConfig, data: MoleculeData) -> tuple[RunConfig, GraphCollate]:
        return cfg, GraphCollate(data.featurized.graphs, data.targets)

    def build_predictor(self, cfg: RunConfig, task: Task, data: MoleculeData, split: Split) -> Predictor:
        features = data.featurized.graphs.mol_features
        return build_predictor(
            model_section(cfg, GraphModelConfig),
            _featurizer(cfg),
            task,
            None if features is None else features[split.train],
        )

    def applicability_domain(self, cfg: RunConfig, data: MoleculeData, splits: list[Split]) -> TrainingDomain | None:
        return fit_domain(
            data.smiles, splits, _featurizer(cfg), percentile=cfg.data.domain_percentile, n_jobs=cfg.data.featurize_jobs
        )

    def row_inputs(self, data: MoleculeData) -> tuple[str, list[str]]:
        return "smiles", data.smiles

    def describe_row(self, data: MoleculeData, position: int) -> str:
        return data.table.describe_row(int(data.valid_index[position]))

    def datamodule(self, cfg: RunConfig, collate: GraphCollate, split: Split, seed: int) -> Any:
        from molgen.training.datamodules import SplitDataModule

        return SplitDataModule(collate, split, batch_size=cfg.data.batch_size, seed=seed)

    def spec_fields(self, cfg: RunConfig) -> dict[str, Any]:
        return {"input": {"kind": "smiles", "column": cfg.data.smiles_column}, "featurizer": _featurizer(cfg).to_dict()}

    def build_from_spec(self, spec: ModelSpec, task: Task) -> Predictor:
        assert spec.featurizer is not None and spec.model is not None
        return build_predictor(
            model_section(model_config(spec.model, legacy=True), GraphModelConfig),
            FeaturizerSpec.from_dict(spec.featurizer),
            task,
        )


def _featurizer(cfg: RunConfig) -> FeaturizerSpec:
    return FeaturizerSpec(
        atom_features=cfg.data.featurizer, descriptors=cfg.data.descriptors, standardize=cfg.data.standardize
    )
