"""Property prediction: SMILES → RDKit graph → graph neural network → one or more molecular properties
(or, with ``fpmlp``, SMILES → Morgan count fingerprint → MLP)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch

from molgen.chem.datasets import MoleculeData, read_labelled_molecules
from molgen.chem.domain import Domain, TrainingDomain, fit_domain
from molgen.chem.featurize.chunks import ChunksAhead, featurize_ahead
from molgen.chem.featurize.graphs import FeaturizationResult, FeaturizerSpec, featurize_smiles
from molgen.chem.featurize.packed_graphs import PackedGraphs
from molgen.chem.standardize import standardized_column
from molgen.config import (
    FingerprintModelConfig,
    GraphModelConfig,
    OptimConfig,
    RunConfig,
    model_config,
    model_section,
    replace,
)
from molgen.data.catalog import DatasetSpec, catalog_entry, data_from_catalog
from molgen.data.splits import Split
from molgen.errors import ConfigError
from molgen.evaluation.supervised import BINARY, DEFAULT_METRICS, MULTICLASS, MULTILABEL, REGRESSION
from molgen.families.base import register_family
from molgen.families.supervised import SupervisedFamily, with_head
from molgen.models import graph as graph_models
from molgen.models.layers import WithMoleculeFeatures
from molgen.registry import Registry
from molgen.training import predictive as uq
from molgen.training.artifacts import ModelSpec
from molgen.training.batches import FeatureCollate, GraphCollate
from molgen.training.model_card import property_model_card
from molgen.training.prediction_tables import input_values, output_table
from molgen.training.predictor import Predictor, check_precision
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
FINGERPRINT_MODEL = "fpmlp"
PREDICT_BATCH = 64
"""Molecules per inference batch: a D-MPNN 300 batch of 64 drug-like molecules (~4k directed bonds × 300 floats per
array) stays in a core's L2 cache; 256 ran at about 0.75× and 512 at 0.65× the molecules per CPU second
(benchmarks/results/speed_chemprop_2026-12-07.md)."""
"""The property model on Morgan count fingerprints (dense batches, no graphs)."""


def resolve_config(cfg: RunConfig) -> tuple[RunConfig, DatasetSpec | None]:
    """Fills unset data/task options from the catalog (or generic defaults for a user's file)."""
    spec = catalog_entry(cfg.data.name, "CSV/TSV/SDF/Parquet file")
    data, task = cfg.data, cfg.task
    if spec is not None:
        data = data_from_catalog(data, spec, "smiles_column")
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
    """Reads, checks and featurizes the training table (see :func:`read_labelled_molecules`)."""
    return read_labelled_molecules(
        cfg.data,
        spec,
        _featurizer(cfg),
        class_labels=cfg.task.type in (BINARY, MULTILABEL, MULTICLASS),
        positive_class=cfg.task.positive_class,
    )


def build_predictor(
    model: GraphModelConfig | FingerprintModelConfig,
    featurizer: FeaturizerSpec,
    task: Task,
    mol_features: np.ndarray | None = None,
) -> Predictor:
    """Encoder + head + task for a model config; ``mol_features`` ``[n_train, D]`` sets descriptor scaling."""
    if isinstance(model, FingerprintModelConfig):
        from molgen.models.fingerprint_mlp import FingerprintMLP

        return with_head(FingerprintMLP(model.n_bits, model.hidden_dims, model.dropout), task, model)
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
            # float64: a float32 square of a heavy-tailed descriptor overflows (Ipc reaches 7e30 in
            # Lipophilicity), and an infinite std would leave that column unscaled and the loss NaN
            values = mol_features.astype(np.float64)
            mean, std = torch.as_tensor(values.mean(0)), torch.as_tensor(values.std(0))
        encoder = WithMoleculeFeatures(encoder, mean, std)
    return with_head(encoder, task, model)


def predict_frame(
    spec: ModelSpec,
    members: list[Predictor],
    frame: pd.DataFrame,
    input_column: str | None = None,
    *,
    batch_size: int = PREDICT_BATCH,
    n_jobs: int = -1,
    domain: Domain | None = None,
    ahead: ChunksAhead | None = None,
    precision: str = "32",
) -> pd.DataFrame:
    """One output row per input row: input columns, one column per target (+ ``_std``), with a ``domain`` its
    ``train_similarity`` and ``in_domain`` (:mod:`molgen.chem.domain`), ``valid``; ``precision``: ``"32"`` or
    ``"bf16-mixed"`` (:meth:`Predictor.outputs <molgen.training.predictor.Predictor.outputs>`).

    Invalid molecules get ``valid=False``, empty predictions (and similarity) and the reason in ``invalid_reason``.
    ``n_jobs`` processes (-1: all cores) share the work: from :data:`~molgen.chem.featurize.chunks.OVERLAP_MIN_ROWS`
    rows on, ``n_jobs - 1`` worker processes featurize chunks of rows (and search the domain) ahead of this one
    (:func:`~molgen.chem.featurize.chunks.featurize_ahead`; ``ahead``: already started on these rows, as
    ``molgen predict`` does before it loads the model), which predicts each chunk as it comes
    (:func:`overlapped_samples`), or, for fingerprint and MC-dropout models, all of them once they are done.
    Smaller inputs are featurized in this process, then predicted. Every path gives the same output.
    """
    assert spec.input is not None and spec.task is not None and spec.featurizer is not None
    check_precision(precision)
    column = input_column or spec.input.column
    smiles = input_values(frame, column, "SMILES").tolist()
    featurizer = FeaturizerSpec.from_dict(spec.featurizer)
    fingerprint = None if domain is None else domain.fingerprint
    assert spec.model is not None
    model = _model_section(spec.model)
    mc = uq.mc_samples(getattr(spec, "uncertainty", None))
    if ahead is None:
        reference = None if domain is None else domain.reference
        ahead = featurize_ahead(smiles, featurizer, n_jobs=n_jobs, fingerprint=fingerprint, reference=reference)
    elif (ahead.n_inputs, ahead.spec, ahead.fingerprint) != (len(smiles), featurizer, fingerprint):
        raise ValueError("the featurization started ahead is not of these rows, this featurizer and this domain")
    nearest = None
    if ahead is not None and isinstance(model, GraphModelConfig) and mc == 0:
        samples, featurized, nearest = overlapped_samples(members, ahead, batch_size=batch_size, precision=precision)
    else:
        if ahead is not None:
            why = "fingerprint model" if isinstance(model, FingerprintModelConfig) else f"MC dropout, {mc} passes"
            log.info(
                "featurizing %d rows in %d worker process(es), then predicting (%s)", len(smiles), ahead.workers, why
            )
            featurized, nearest = collect_chunks(ahead)
        else:
            featurized = featurize_smiles(smiles, featurizer, n_jobs=n_jobs, fingerprint=fingerprint)
        if isinstance(model, FingerprintModelConfig):
            valid = [smiles[i] for i in featurized.valid_index]
            collate: Any = FeatureCollate(fingerprint_features(valid, model, featurizer.standardize))
        else:
            collate = GraphCollate(featurized.graphs)
        rows = np.arange(len(featurized.graphs))
        samples = uq.concat(
            [
                uq.to_numpy(m.predict_samples(collate, rows, batch_size=batch_size, mc_samples=mc, precision=precision))
                for m in members
            ]
        )
    reasons = {bad.index: f"{bad.reason}: {bad.smiles!r}" for bad in featurized.invalid}
    extra = {}
    if featurizer.standardize != "none":
        extra["smiles_standardized"] = standardized_column(smiles, featurized.valid_index, featurizer.standardize)
    if domain is not None and nearest is not None:
        extra.update(domain.columns_from_nearest(nearest, featurized.valid_index, len(frame)))
    elif domain is not None:
        assert featurized.fingerprints is not None
        extra.update(domain.columns(featurized.fingerprints, featurized.valid_index, len(frame)))
    return output_table(spec, frame, samples["mean"], featurized.valid_index, reasons, extra, samples)


def collect_chunks(ahead: ChunksAhead) -> tuple[FeaturizationResult, np.ndarray | None]:
    """All of ``ahead``'s chunks joined: what ``featurize_smiles`` gives for the same rows, and the rows'
    ``nearest`` similarities when ``ahead`` searches a reference."""
    chunks = list(ahead)
    parts = [chunk.featurized for chunk in chunks]
    featurized = FeaturizationResult(
        graphs=PackedGraphs.concat([part.graphs for part in parts])
        if parts
        else featurize_smiles([], ahead.spec).graphs,
        valid_index=np.concatenate([part.valid_index for part in parts]) if parts else np.zeros(0, np.int64),
        invalid=[bad for part in parts for bad in part.invalid],
        fingerprints=_joined([part.fingerprints for part in parts], ahead.fingerprint),
    )
    nearest = [chunk.nearest for chunk in chunks if chunk.nearest is not None]
    return featurized, np.concatenate(nearest) if nearest else None


def _joined(fingerprints: list[np.ndarray | None], fingerprint: tuple[int, int] | None) -> np.ndarray | None:
    if fingerprint is None:
        return None
    return np.concatenate([f for f in fingerprints if f is not None] or [np.zeros((0, fingerprint[1] // 8), np.uint8)])


def overlapped_samples(
    members: list[Predictor], ahead: ChunksAhead, *, batch_size: int = PREDICT_BATCH, precision: str = "32"
) -> tuple[uq.Samples, FeaturizationResult, np.ndarray | None]:
    """The members' samples of the valid molecules of ``ahead``'s rows, predicted chunk by chunk as its workers
    featurize the next ones, with their featurization (``valid_index``, ``invalid``, ``fingerprints``; ``graphs``
    is empty: each chunk's graphs are dropped once predicted) and ``nearest`` similarities (or None).

    torch computes with ``ahead.workers`` fewer threads while the workers are busy, and with all its threads once
    they are done (:func:`molgen.threads.beside_workers`). Batches are cut exactly as one pass over all valid
    molecules cuts them (molecules left over at the end of a chunk wait for the next), so each batch, and each
    prediction, is the one of the featurize-then-predict path. MC dropout is not supported: its masks follow the
    order of all the batches of one pass."""
    from molgen.threads import beside_workers

    parts: list[list[uq.Samples]] = [[] for _ in members]
    valid, invalid, fingerprints, nearest = [], [], [], []
    empty = featurize_smiles([], ahead.spec).graphs
    waiting: PackedGraphs | None = None  # molecules of the last batch cut so far, not yet full

    def predict(graphs: PackedGraphs, n: int) -> None:  # the first n molecules of graphs
        collate, rows = GraphCollate(graphs), np.arange(n)
        for member, member_parts in zip(members, parts):
            samples = member.predict_samples(collate, rows, batch_size=batch_size, precision=precision)
            member_parts.append(uq.to_numpy(samples))

    with beside_workers(ahead.workers) as threads:
        log.info(
            "featurizing %d rows in %d worker process(es) while predicting here with %d torch thread(s)",
            ahead.n_inputs,
            ahead.workers,
            threads.threads,
        )
        for chunk in ahead:
            part = chunk.featurized
            valid.append(part.valid_index)
            invalid.extend(part.invalid)
            fingerprints.append(part.fingerprints)
            if chunk.nearest is not None:
                nearest.append(chunk.nearest)
            graphs = part.graphs if waiting is None else PackedGraphs.concat([waiting, part.graphs])
            full = len(graphs) - len(graphs) % batch_size
            if ahead.workers_done:
                threads.restore()
            if full:
                predict(graphs, full)
            waiting = graphs.subset(np.arange(full, len(graphs))) if full < len(graphs) else None
        if waiting is not None or not parts[0]:  # the last, partial batch (or no valid molecule at all)
            last = waiting if waiting is not None else empty
            predict(last, len(last))
    samples = uq.concat([{key: np.concatenate([p[key] for p in mp], axis=1) for key in mp[0]} for mp in parts])
    featurized = FeaturizationResult(
        graphs=empty,
        valid_index=np.concatenate(valid) if valid else np.zeros(0, np.int64),
        invalid=invalid,
        fingerprints=_joined(fingerprints, ahead.fingerprint),
    )
    return samples, featurized, np.concatenate(nearest) if nearest else None


@register_family("property")
class PropertyFamily(SupervisedFamily):
    """SMILES → molecular graph → graph neural network → one or more properties."""

    models = (*GRAPH_ENCODERS.names(), FINGERPRINT_MODEL)
    private_models = (FINGERPRINT_MODEL,)
    private_refusal = (
        "a graph batch is one union graph of its molecules, so Opacus's per-sample gradients would be per atom "
        "(node), not per molecule, and clipping them would not bound any molecule's influence; use --model fpmlp "
        "(Morgan count fingerprints, one row per molecule)"
    )
    resolve_config = staticmethod(resolve_config)
    load_data = staticmethod(load_data)
    predict_frame = staticmethod(predict_frame)
    model_card = staticmethod(property_model_card)

    def split_smiles(self, data: MoleculeData) -> list[str]:
        return data.smiles

    def check(self, cfg: RunConfig) -> None:
        if cfg.model.name == FINGERPRINT_MODEL and cfg.data.descriptors:
            raise ConfigError("--descriptors is for graph models; fpmlp reads Morgan count fingerprints only")

    def prepare(self, cfg: RunConfig, data: MoleculeData) -> tuple[RunConfig, GraphCollate | FeatureCollate]:
        if isinstance(cfg.model, FingerprintModelConfig):
            features = fingerprint_features(data.smiles, cfg.model, cfg.data.standardize)
            return cfg, FeatureCollate(features, data.targets)
        return cfg, GraphCollate(data.featurized.graphs, data.targets)

    def build_predictor(self, cfg: RunConfig, task: Task, data: MoleculeData, split: Split) -> Predictor:
        features = data.featurized.graphs.mol_features
        model = model_section(cfg, (GraphModelConfig, FingerprintModelConfig))
        predictor = build_predictor(model, _featurizer(cfg), task, None if features is None else features[split.train])
        if cfg.optim.init_from is not None or cfg.optim.freeze_encoder:
            if not isinstance(model, GraphModelConfig):
                raise ConfigError(f"--init-from/--freeze-encoder: {model.name} has no graph encoder to initialize")
            _init_encoder(predictor, model, cfg.optim, cfg.data.featurizer)
        return predictor

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
        return build_predictor(_model_section(spec.model), FeaturizerSpec.from_dict(spec.featurizer), task)


def _model_section(values: dict[str, Any]) -> GraphModelConfig | FingerprintModelConfig:
    return model_section(model_config(values, legacy=True), (GraphModelConfig, FingerprintModelConfig))


def fingerprint_features(smiles: list[str], model: FingerprintModelConfig, standardize: str) -> np.ndarray:
    """fpmlp's input: Morgan count fingerprints ``float32 [N, n_bits]`` of valid (standardized) molecules."""
    from molgen.chem.fingerprints import morgan_counts

    return morgan_counts(smiles, radius=model.radius, n_bits=model.n_bits, standardize=standardize)


def _init_encoder(predictor: Predictor, model: GraphModelConfig, optim: OptimConfig, atom_features: str) -> None:
    """``--init-from``: the pretrained encoder's weights; ``--freeze-encoder``: no gradient for them."""
    from molgen.families.init_from import load_encoder

    if optim.init_from is None:
        raise ConfigError("--freeze-encoder needs --init-from PRETRAINED (a frozen random encoder learns nothing)")
    encoder = predictor.encoder.encoder if isinstance(predictor.encoder, WithMoleculeFeatures) else predictor.encoder
    load_encoder(encoder, optim.init_from, model, atom_features)
    if optim.freeze_encoder:
        encoder.requires_grad_(False)


def _featurizer(cfg: RunConfig) -> FeaturizerSpec:
    return FeaturizerSpec(
        atom_features=cfg.data.featurizer, descriptors=cfg.data.descriptors, standardize=cfg.data.standardize
    )
