"""Molecule generation: SMILES → (CharRNN | VAE | LatentGAN | MolGAN) → new SMILES.

This recipe owns what every generator shares: reading and validating the training SMILES (invalid rows are
reported with their file line, counted and, with ``data.on_invalid: skip``, left out), the seeded train/val
split (``splits.json``), the run folder, sampling ``model.sample_size`` molecules for the cheap metrics
(validity, uniqueness, novelty) and the export to ``model/``. Each generator lives in
``molgen.families.generation.<module>``, registered with ``@register_generator(name)``, with ``train(cfg, data, run_dir, …) -> TrainedGenerator`` and
``load(model_dir, spec) -> Generator``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import torch

from molgen import io as atomic
from molgen.chem.smiles_sets import read_valid_smiles, split_train_val
from molgen.config import GeneratorConfig, RunConfig, model_section, replace
from molgen.data.catalog import DatasetSpec, catalog_entry
from molgen.data.splits import splits_record
from molgen.errors import InvalidInputError, ModelFormatError
from molgen.families import common
from molgen.families.base import GENERATORS, register_family
from molgen.models.generative import Generator
from molgen.training.artifacts import export_model, model_spec, read_model, run_paths, write_json
from molgen.training.model_card import generator_model_card
from molgen.training.run_folder import default_output, is_rank_zero, open_run_folder

log = logging.getLogger("molgen")

TASK_TYPE = "generation"
MONITOR = "loss"


@dataclasses.dataclass
class TrainedGenerator:
    """What a generator recipe's ``train`` returns.

    Attributes:
        module: the ``nn.Module`` whose ``state_dict`` is exported (``model.safetensors``).
        spec: primitives for ``model.yaml``: ``"generator"`` (its name) and everything ``load`` needs.
        val: validation metrics of the best checkpoint (``loss`` at least).
        generator: the trained model ready to sample (used for the metrics after training); None: the
            recipe reloads it from the export.
        details: extras for ``RunResult.details`` (e.g. ``epochs``, ``n_too_long``).
        folders: ``{name: folder}`` exported inside ``model/`` (e.g. LatentGAN's autoencoder).
    """

    module: torch.nn.Module
    spec: dict[str, Any]
    val: dict[str, float]
    generator: Generator | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    folders: dict[str, Path] = dataclasses.field(default_factory=dict)


def resolve_config(cfg: RunConfig) -> tuple[RunConfig, DatasetSpec | None]:
    """Fills the SMILES column from the catalog (else ``smiles``); the monitored metric is ``val/loss``."""
    spec = catalog_entry(cfg.data.name, ".smi/CSV/TSV/Parquet file of SMILES")
    column = cfg.data.smiles_column or (spec.input_column if spec is not None else "smiles")
    data = replace(cfg.data, smiles_column=column)
    task = replace(cfg.task, type=TASK_TYPE, monitor=MONITOR)
    GENERATORS.get(cfg.model.name)  # fail early on an unknown generator
    return replace(cfg, family="generation", data=data, task=task), spec


def load_smiles(cfg: RunConfig, spec: DatasetSpec | None) -> tuple[list[str], np.ndarray, list[int], list[str]]:
    """The valid training SMILES of ``cfg.data`` (catalog entry ``spec`` or a file): see :func:`read_valid_smiles`."""
    from molgen.data.sources import resolve

    path = Path(resolve(spec.remote)) if spec is not None else Path(cfg.data.name)
    return read_valid_smiles(path, cfg.data.smiles_column or "smiles", cfg.data.max_rows, cfg.data.on_invalid)


def fit(
    cfg: RunConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    extra_callbacks: list[Any] | None = None,
    export: bool = True,
    test: bool = True,
) -> common.RunResult:
    """Trains the generator ``cfg.model.name``, samples ``model.sample_size`` molecules, writes the run
    folder and exports the model.

    Args:
        resume: continue from ``checkpoints/last.ckpt`` of an existing run folder (exact or refused).
        overwrite: replace the run in a folder that holds one (else a non-empty folder is refused).
        extra_callbacks: added to the trainer (e.g. Optuna pruning).
        export: write ``model/``; test: sample and score molecules (``metrics.json`` ``test``).
    """
    from molgen.training.trainer import quiet_lightning, seed_everything

    with quiet_lightning(), ExitStack() as folder:  # the run folder stays locked until the end
        cfg, spec = resolve_config(cfg)
        gen = model_section(cfg, GeneratorConfig)
        recipe = GENERATORS.get(gen.name)
        smiles, rows, invalid_rows, problems = load_smiles(cfg, spec)
        data = split_train_val(smiles, rows, gen.val_fraction, cfg.trainer.seed)
        data.invalid_rows = invalid_rows
        cfg = replace(cfg, output=str(default_output(cfg)))
        folds = [{"train": data.train_rows, "val": data.val_rows}]
        index = "0-based data row of the input (invalid rows excluded)"
        record = splits_record(
            "random", cfg.trainer.seed, folds, data.invalid_rows, index, val_fraction=gen.val_fraction
        )
        run_dir = folder.enter_context(open_run_folder(cfg, record, resume=resume, overwrite=overwrite))
        paths = run_paths(run_dir)
        seed_everything(cfg.trainer.seed)
        trained = recipe.train(cfg, data, run_dir, resume=resume, callbacks=extra_callbacks)
        metrics: dict[str, dict[str, float]] = {"val": dict(trained.val)}
        details: dict[str, Any] = dict(trained.details)
        if export and is_rank_zero():
            _export(paths["model"], cfg, spec, trained, metrics)
        if test and gen.sample_size > 0 and is_rank_zero():
            generator = trained.generator or load_generator(paths["model"])
            start = time.perf_counter()
            samples = generator.sample(gen.sample_size, seed=cfg.trainer.seed, batch_size=gen.sample_batch_size)
            elapsed = time.perf_counter() - start
            atomic.write_text(run_dir / "samples.smi", "".join(s + "\n" for s in samples))
            from molgen.evaluation.generation.basic import basic_metrics

            metrics["test"] = {
                **basic_metrics(samples, data.train, train_is_canonical=True),
                "samples_per_s": len(samples) / max(elapsed, 1e-9),
            }
            details["sampling_s"] = elapsed
            if export:  # the model card and model.yaml carry the sampled metrics too
                _export(paths["model"], cfg, spec, trained, metrics)
        if is_rank_zero():
            write_json(paths["metrics"], {**metrics, "stopped": details.get("stopped")})
    return common.RunResult(run_dir=run_dir, metrics=metrics, config=cfg, n_invalid=len(problems), details=details)


def _export(
    model_dir: Path, cfg: RunConfig, dataset: DatasetSpec | None, trained: TrainedGenerator, metrics: dict
) -> None:
    if "generator" not in trained.spec:
        raise InvalidInputError("a generator recipe's spec must name its generator (key 'generator')")
    trained_on = {"max_rows": cfg.data.max_rows, "seed": cfg.trainer.seed, "stopped": trained.details.get("stopped")}
    spec = model_spec(cfg, dataset, metrics, trained_on=trained_on, **trained.spec)
    export_model(model_dir, [trained.module], spec, generator_model_card(spec, cfg, metrics), folders=trained.folders)


def load_generator(model_dir: str | Path) -> Generator:
    """Loads an exported generator (a ``model/`` folder or the run folder holding it); never unpickles."""
    model_dir = Path(model_dir)
    spec, _ = read_model(model_dir)
    if spec.family != "generation" or spec.generator is None:
        raise InvalidInputError(
            f"{model_dir} holds a {spec.family!r} model, not a generator; "
            "pass a model trained with family generation (e.g. --config configs/generation/charrnn_moses.yaml)"
        )
    if not (model_dir / "model.yaml").is_file():
        model_dir = model_dir / "model"
    return GENERATORS.get(spec.generator).load(model_dir, spec)


@register_family("generation")
class GenerationFamily:
    """SMILES → CharRNN / VAE / LatentGAN / MolGAN → new SMILES (sampled with ``molgen generate``)."""

    name = "generation"
    resolve_config = staticmethod(resolve_config)
    fit = staticmethod(fit)

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(GENERATORS.names())

    def load_predictors(self, spec: Any, states: list[dict[str, torch.Tensor]]) -> list[Any]:
        raise ModelFormatError("this model folder holds a generator: sample it with `molgen generate --model DIR`")

    def predict_frame(self, spec: Any, members: list[Any], frame: Any, **options: Any) -> Any:
        raise ModelFormatError("this model folder holds a generator: sample it with `molgen generate --model DIR`")
