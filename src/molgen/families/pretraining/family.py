"""Pretraining: unlabelled SMILES → graph encoder trained on self-supervised objectives → an encoder to fine-tune.

``molgen pretrain`` (family ``pretrain``) shares the core with the other families: the run folder (lock, exact
resume, ``config.yaml``, ``splits.json``, ``metrics.json``), the Lightning trainer (``checkpoints/``, logs, early
stopping on ``val/loss``) and the export (``model/``: safetensors + ``model.yaml`` + model card). What differs: the
corpus is streamed (:mod:`molgen.families.pretraining.corpus`), a checkpoint also holds the stream position
(:mod:`molgen.training.stream`), and the objectives are those of :mod:`molgen.models.pretraining`.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import torch

from molgen.chem.featurize.graphs import FeaturizerSpec
from molgen.chem.pretraining_chunks import BOND_TYPE_COLUMNS, atom_type_columns
from molgen.config import GraphModelConfig, RunConfig, model_config, model_section, replace
from molgen.data.catalog import DatasetSpec, catalog_entry
from molgen.errors import ConfigError, InvalidInputError, ModelFormatError
from molgen.families import common
from molgen.families.base import register_family
from molgen.models.pretraining import OBJECTIVES, PretrainModel
from molgen.training.artifacts import ModelSpec, export_model, load_state, model_spec, run_paths, write_json
from molgen.training.run_folder import default_output, is_rank_zero, open_run_folder

log = logging.getLogger("molgen")

MONITOR = "loss"


def parse_objectives(items: list[str]) -> dict[str, float]:
    """``["descriptors=1.0", "masking"]`` → ``{"descriptors": 1.0, "masking": 1.0}`` (a missing weight is 1)."""
    weights: dict[str, float] = {}
    for item in items:
        name, sep, raw = str(item).partition("=")
        name = name.strip()
        if name not in OBJECTIVES:
            raise ConfigError(f"unknown pretraining objective {name!r}; valid names: {', '.join(OBJECTIVES)}")
        try:
            weight = float(raw) if sep else 1.0
        except ValueError:
            raise ConfigError(f"--objective {item!r}: the weight must be a number (NAME=WEIGHT)") from None
        if not weight > 0:
            raise ConfigError(f"--objective {item!r}: the weight must be > 0")
        weights[name] = weight
    if not weights:
        raise ConfigError(f"no pretraining objective; pass --objective NAME=WEIGHT ({', '.join(OBJECTIVES)})")
    return weights


def resolve_config(cfg: RunConfig) -> tuple[RunConfig, DatasetSpec | None]:
    """Family ``pretrain``, the SMILES column from the catalog, ``val/loss`` monitored; refuses what pretraining
    cannot do (a non-graph model, ``--init-from``, descriptor input features)."""
    model_section(cfg, GraphModelConfig)  # a graph model, or a ConfigError listing them
    if cfg.optim.init_from is not None or cfg.optim.freeze_encoder:
        raise ConfigError(
            "--init-from / --freeze-encoder fine-tune a property model; molgen pretrain starts from scratch"
        )
    if cfg.data.descriptors:
        raise ConfigError("--descriptors (RDKit descriptors as input features) cannot be pretrained; drop it")
    parse_objectives(cfg.pretrain.objectives)
    spec = catalog_entry(cfg.data.name, ".smi/CSV/TSV/SDF/Parquet file or folder of SMILES")
    column = cfg.data.smiles_column or (spec.input_column if spec is not None else None)
    data = replace(cfg.data, smiles_column=column, split="random")
    task = replace(cfg.task, monitor=MONITOR)
    return replace(cfg, family="pretrain", data=data, task=task), spec


def featurizer(cfg: RunConfig) -> FeaturizerSpec:
    return FeaturizerSpec(atom_features=cfg.data.featurizer, standardize=cfg.data.standardize)


def build_model(
    model: GraphModelConfig, spec: FeaturizerSpec, weights: dict[str, float], mean: Any, std: Any
) -> PretrainModel:
    """The encoder of ``model`` with the heads of the objectives in ``weights`` (``mean``/``std``: ``[D]``)."""
    from molgen.families.property import GRAPH_ENCODERS

    options = {"readout": model.readout} if model.readout else {}
    encoder = GRAPH_ENCODERS.get(model.name)(
        atom_dim=spec.atom_dim,
        bond_dim=spec.bond_dim,
        hidden_dim=model.hidden_dim,
        depth=model.depth,
        dropout=model.dropout,
        **options,
    )
    with_descriptors = "descriptors" in weights
    return PretrainModel(
        encoder,
        descriptor_mean=torch.as_tensor(mean) if with_descriptors else None,
        descriptor_std=torch.as_tensor(std) if with_descriptors else None,
        atom_types=atom_type_columns(spec.atom_features) if "masking" in weights else 0,
        bond_types=BOND_TYPE_COLUMNS[1] - BOND_TYPE_COLUMNS[0],
        contrastive="contrastive" in weights,
        ffn_hidden_dim=model.ffn_hidden_dim,
        ffn_layers=model.ffn_layers,
        dropout=model.dropout,
    )


def _corpus_path(cfg: RunConfig, spec: DatasetSpec | None) -> Path:
    if spec is None:
        return Path(cfg.data.name)
    from molgen.data.sources import resolve

    return Path(resolve(spec.remote))


def fit(
    cfg: RunConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    extra_callbacks: list[Any] | None = None,
    export: bool = True,
    test: bool = True,
) -> common.RunResult:
    """Pretrains ``cfg.model`` on the corpus ``cfg.data.name`` and exports it (``test`` is unused: no test split).

    Args:
        resume: continue from ``checkpoints/last.ckpt`` (the weights, the optimizer and the stream position).
        overwrite: replace the run in a folder that holds one.
    """
    from molgen.chem.descriptors import pretraining_descriptors
    from molgen.families.pretraining.corpus import CorpusStream, ValidationBatches, plan_corpus, read_chunk
    from molgen.families.pretraining.datamodule import CorpusDataModule
    from molgen.training.pretraining import PretrainModule
    from molgen.training.stream import StreamPosition, StreamState
    from molgen.training.trainer import FolderCheckpoint, build_trainer, quiet_lightning, run, seed_everything

    with quiet_lightning(), ExitStack() as folder:
        cfg, dataset = resolve_config(cfg)
        model_cfg, pre = model_section(cfg, GraphModelConfig), cfg.pretrain
        weights = parse_objectives(pre.objectives)
        spec = featurizer(cfg)
        names = pretraining_descriptors() if "descriptors" in weights else None
        path = _corpus_path(cfg, dataset)
        corpus = plan_corpus(
            path, cfg.data.smiles_column, pre.chunk_size, spec, names, cfg.data.max_atoms, cfg.data.max_rows
        )
        validation = read_chunk(corpus, 0)
        if len(validation.graphs) < 2:
            raise InvalidInputError(
                f"{path}: chunk 0 (the validation chunk) holds {len(validation.graphs)} valid molecules"
            )
        mean = std = None
        if names is not None:
            assert validation.descriptors is not None
            with np.errstate(all="ignore"):
                mean, std = np.nanmean(validation.descriptors, 0), np.nanstd(validation.descriptors, 0)
        cfg = replace(cfg, output=str(default_output(cfg)))
        record = {
            "type": "stream",
            "seed": cfg.trainer.seed,
            "source": cfg.data.name,
            "chunk_size": pre.chunk_size,
            "n_chunks": len(corpus.shards),
            "n_rows": corpus.n_rows,
            "validation": "chunk 0",
            "index": "chunk k holds rows k * chunk_size … of the corpus (files in name order)",
        }
        run_dir = folder.enter_context(open_run_folder(cfg, record, resume=resume, overwrite=overwrite))
        paths = run_paths(run_dir)
        seed_everything(cfg.trainer.seed)
        model = build_model(model_cfg, spec, weights, mean, std)
        state = StreamState(chunks=tuple(range(1, len(corpus.shards))))
        train_rows = corpus.n_rows - corpus.shards[0].n_rows
        module = PretrainModule(
            model,
            weights,
            cfg.optim,
            mask_rate=pre.mask_rate,
            descriptor_mask_rate=pre.descriptor_mask_rate,
            atom_columns=atom_type_columns(spec.atom_features),
            bond_columns=BOND_TYPE_COLUMNS,
            steps_per_epoch=max(train_rows / cfg.data.batch_size, 1.0),
            log_every=pre.checkpoint_every_n_steps,
        )
        every = FolderCheckpoint(
            dirpath=paths["checkpoints"],
            filename="last",
            every_n_train_steps=pre.checkpoint_every_n_steps,
            save_top_k=1,
            monitor=None,
            enable_version_counter=False,
        )
        callbacks = [*(extra_callbacks or []), StreamPosition(state), every]
        trainer = build_trainer(cfg.trainer, run_dir, monitor=f"val/{MONITOR}", mode="min", extra_callbacks=callbacks)
        if trainer.world_size > 1:  # each process would stream every chunk, and only rank 0 saves the position
            raise ConfigError(
                f"molgen pretrain runs on one device for now ({trainer.world_size} processes asked); pass --devices 1"
            )
        stream = CorpusStream(corpus, state, cfg.data.batch_size, cfg.trainer.seed)
        datamodule = CorpusDataModule(stream, ValidationBatches(validation, cfg.data.batch_size), pre.workers)
        outcome = run(module, datamodule, trainer, resume=resume, test=False)
        n_invalid = validation.n_invalid + state.invalid
        throughput = {
            "molecules": module.molecules,
            "train_seconds": round(module.train_seconds, 3),
            "molecules_per_s": round(module.molecules_per_s, 2),
            "passes_completed": state.pass_index,
            "corpus_rows_read": validation.n_rows + state.rows,
            "invalid_molecules": n_invalid,
            "workers": pre.workers,
        }
        log.info(
            "pretraining: %d molecules in %.1f s of training (%.0f molecules/s); %d invalid molecules skipped",
            module.molecules,
            module.train_seconds,
            module.molecules_per_s,
            n_invalid,
        )
        metrics: dict[str, Any] = {"val": outcome.val}
        if is_rank_zero():
            write_json(paths["metrics"], {**metrics, "pretraining": throughput, "stopped": outcome.stopped})
            if export:
                section = {
                    "objectives": weights,
                    "descriptors": list(names or []),
                    "mask_rate": pre.mask_rate,
                    "descriptor_mask_rate": pre.descriptor_mask_rate,
                    "atom_types": atom_type_columns(spec.atom_features),
                }
                trained_on = {"seed": cfg.trainer.seed, "rows": corpus.n_rows, "max_rows": cfg.data.max_rows,
                              "stopped": [outcome.stopped], "molecules_seen": module.molecules}  # fmt: skip
                spec_out = model_spec(
                    cfg,
                    dataset,
                    metrics,
                    trained_on=trained_on,
                    input={"kind": "smiles", "column": cfg.data.smiles_column},
                    featurizer=spec.to_dict(),
                    model=cfg.model.model_dump(),
                    pretraining=section,
                )
                from molgen.training.model_card import pretrain_model_card

                export_model(paths["model"], [model], spec_out, pretrain_model_card(spec_out, cfg, metrics, throughput))
    return common.RunResult(
        run_dir=run_dir,
        metrics=metrics,
        config=cfg,
        n_invalid=n_invalid,
        details={"pretraining": throughput, "stopped": outcome.stopped, "epochs": outcome.epochs},
    )


def load_pretrained(spec: ModelSpec, states: list[dict[str, torch.Tensor]]) -> list[PretrainModel]:
    """The exported pretraining model(s) rebuilt from ``model.yaml`` (strict key and shape match)."""
    section = getattr(spec, "pretraining", None)
    if not isinstance(section, dict) or spec.model is None or spec.featurizer is None:
        raise ModelFormatError(f"{spec.source}: a pretrain model needs model, featurizer and pretraining sections")
    try:
        model_cfg = model_section(model_config(spec.model), GraphModelConfig)
    except ConfigError as err:
        raise ModelFormatError(f"{spec.source}: {err}") from None
    weights = dict(section.get("objectives") or {})
    n = len(section.get("descriptors") or [])
    members = []
    for state in states:
        model = build_model(model_cfg, FeaturizerSpec.from_dict(spec.featurizer), weights, np.zeros(n), np.ones(n))
        load_state(model, state, spec.source)
        model.eval()
        members.append(model)
    return members


@register_family("pretrain")
class PretrainFamily:
    """Unlabelled SMILES → graph encoder with self-supervised heads (fine-tune it with ``--init-from``)."""

    name = "pretrain"
    models = ("dmpnn", "gin", "gcn", "gat", "attentivefp")
    resolve_config = staticmethod(resolve_config)
    fit = staticmethod(fit)
    load_predictors = staticmethod(load_pretrained)

    def predict_frame(self, spec: Any, members: list[Any], frame: Any, **options: Any) -> Any:
        raise ModelFormatError(
            f"{spec.source} holds a pretrained encoder without a property head: write its embeddings with "
            "`molgen embed`, or fine-tune it with `molgen train --init-from DIR`"
        )
