"""Training DNA models: the Lightning loop for neural encoders and the closed-form k-mer baseline."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import lightning.pytorch as L
import numpy as np
import torch

from molgen.errors import ConfigError
from molgen.config import RunConfig
from molgen.config import replace as config_replace
from molgen.data.catalog import DatasetSpec
from molgen.data.splits import Split
from molgen.evaluation.supervised import BINARY, MULTILABEL, REGRESSION, higher_is_better
from molgen.genomics.encoding import PAD_CODE, encode_indices
from molgen.models.kmer import fit_linear
from molgen.families import common
from molgen.families.expression import (
    SequenceData,
    build_predictor,
    expression_model_card,
    load_data,
    make_splits,
    predict_onehot,
    resolve_config,
    sequence_length,
)
from molgen.training.artifacts import export_model, run_paths, write_json
from molgen.training.batches import SequenceCollate
from molgen.training.datamodules import SequenceDataModule
from molgen.training.modules import SupervisedModule
from molgen.training.predictor import Predictor
from molgen.training.tasks import Task, build_task
from molgen.training.trainer import build_trainer, quiet_lightning, run, seed_everything


class _Throughput(L.Callback):
    """Training sequences per second, from the start of each training epoch to its last batch."""

    def __init__(self) -> None:
        self.seconds, self.sequences, self._start = 0.0, 0, 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer: L.Trainer, module: L.LightningModule, outputs: Any, batch: Any, i: int) -> None:
        self.sequences += len(batch)
        now = time.perf_counter()
        self.seconds += now - self._start
        self._start = now


def fit(
    cfg: RunConfig,
    *,
    resume: bool = False,
    extra_callbacks: list[Any] | None = None,
    export: bool = True,
    test: bool = True,
) -> common.RunResult:
    """Trains every fold × ensemble member, writes the run folder and exports the model.

    Args:
        resume: continue each member from its ``last.ckpt`` (neural models).
        extra_callbacks: added to every trainer (e.g. Optuna pruning).
        export: write ``model/``; test: score on the test split.
    """
    quiet_lightning()
    cfg, spec = resolve_config(cfg)
    data = load_data(cfg, spec)
    length = sequence_length(cfg, data)
    cfg = config_replace(cfg, data=config_replace(cfg.data, seq_length=length))
    splits = make_splits(cfg, data)
    codes = encode_indices(data.sequences, length, pad=cfg.data.pad, pad_value=PAD_CODE)
    collate = SequenceCollate(codes, data.targets, cfg.data.n_value)
    monitor, task_type = cfg.task.monitor, cfg.task.type
    if cfg.model.name == "kmer" and cfg.trainer.ensemble_size > 1:
        raise ConfigError("the kmer baseline is deterministic: use ensemble_size 1")
    multi = len(splits) > 1 or cfg.trainer.ensemble_size > 1
    throughput = _Throughput()
    with common.run_directory(cfg, f"{Path(cfg.data.name).stem}-{cfg.model.name}") as run_dir:
        cfg = config_replace(cfg, output=str(run_dir))
        paths = run_paths(run_dir)
        if common.is_rank_zero():
            cfg.save(paths["config"])
            write_json(paths["splits"], _splits_record(cfg, data, splits))
        outcomes, predictors, ensemble_metrics = [], [], None
        for fold, split in enumerate(splits):
            member_preds = []
            for member in range(cfg.trainer.ensemble_size):
                seed = cfg.trainer.seed + member
                seed_everything(seed)
                task = build_task(task_type, data.target_names, metrics=cfg.task.metrics, n_classes=cfg.task.n_classes,
                                  train_targets=data.targets[split.train])
                predictor = build_predictor(cfg.model, task, length)
                if cfg.model.name == "kmer":
                    outcomes.append(_fit_kmer(predictor, collate, split, monitor, test, throughput))
                else:
                    module = SupervisedModule(predictor.encoder, predictor.head, predictor.task, cfg.optim)
                    tag = f"fold_{fold}/member_{member}" if multi else ""
                    mode = "max" if higher_is_better(task_type, monitor) else "min"
                    trainer = build_trainer(cfg.trainer, run_dir, monitor=f"val/{monitor}", mode=mode,
                                            extra_callbacks=[*(extra_callbacks or []), throughput], tag=tag)
                    datamodule = SequenceDataModule(collate, split, cfg.data.batch_size, seed, cfg.data.rc_augment)
                    outcomes.append(run(module, datamodule, trainer, resume=resume, test=test))
                predictors.append(predictor)
                if test and cfg.trainer.ensemble_size > 1:
                    x = collate(split.test).x
                    member_preds.append(predict_onehot([predictor], x, rc_average=cfg.data.rc_augment))
            if member_preds and len(splits) == 1:
                ensemble_metrics = task.evaluate(torch.stack(member_preds).mean(0), torch.as_tensor(data.targets[split.test]), "test")
        metrics = {"val": common.aggregate([o.val for o in outcomes])}
        if test:
            metrics["test"] = common.aggregate([o.test for o in outcomes])
            if ensemble_metrics is not None:
                metrics["test_ensemble"] = ensemble_metrics
        if common.is_rank_zero():
            write_json(paths["metrics"], metrics)
            if export:
                model_spec = _model_spec(cfg, predictors[0].task, spec, metrics)
                export_model(paths["model"], predictors, model_spec, expression_model_card(model_spec, cfg, metrics))
    return common.RunResult(
        run_dir=run_dir, metrics=metrics, config=cfg, n_invalid=len(data.invalid),
        details={
            "epochs": [o.epochs for o in outcomes],
            "best_checkpoints": [o.best_checkpoint for o in outcomes],
            "train_seconds": throughput.seconds,
            "train_sequences_per_s": throughput.sequences / throughput.seconds if throughput.seconds else float("nan"),
            "seq_length": length,
        },
    )


def _fit_kmer(predictor: Predictor, collate: SequenceCollate, split: Split, monitor: str, test: bool,
              throughput: _Throughput) -> Any:
    """Counts k-mers, fits one linear model per penalty on the training rows, keeps the best on validation."""
    from molgen.training.trainer import FitOutcome

    start = time.perf_counter()
    encoder, task = predictor.encoder, predictor.task
    rows = np.concatenate([split.train, split.val, split.test])
    counts = torch.cat([encoder.counts(collate(rows[i : i + 1024])) for i in range(0, len(rows), 1024)])
    encoder.fit_scaling(counts[: len(split.train)])
    features = ((counts - encoder.mean) / encoder.std).numpy()
    parts = dict(zip(("train", "val", "test"), np.split(features, np.cumsum([len(split.train), len(split.val)])), strict=True))
    labels = collate.targets.numpy()
    regression = task.kind == REGRESSION
    if not regression and task.kind not in (BINARY, MULTILABEL):
        raise ConfigError(f"the kmer baseline supports regression and binary tasks, not {task.kind}")
    train_y = labels[split.train]
    if regression:  # fit standardized targets; the task un-scales predictions
        train_y = (train_y - task.target_mean.numpy()) / task.target_std.numpy()
    candidates = fit_linear("ridge" if regression else "logistic", parts["train"], train_y)
    best, best_score = None, None
    sign = 1 if higher_is_better(task.kind, monitor) else -1
    for coef, intercept in candidates:
        preds = task.predict(torch.as_tensor(parts["val"] @ coef.T + intercept))
        score = task.evaluate(preds, torch.as_tensor(labels[split.val]), "val").get(monitor, float("nan"))
        if best is None or (not np.isnan(score) and (best_score is None or np.isnan(best_score) or sign * score > sign * best_score)):
            best, best_score = (coef, intercept), score
    linear = predictor.head.mlp.net[0]
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(best[0]))
        linear.bias.copy_(torch.as_tensor(best[1]))
    throughput.seconds += time.perf_counter() - start
    throughput.sequences += len(split.train)
    outcome = FitOutcome(epochs=1)
    for part in ("val", "test") if test else ("val",):
        with torch.no_grad():
            preds = task.predict(predictor.head(torch.as_tensor(parts[part])))
        setattr(outcome, part, task.evaluate(preds, torch.as_tensor(labels[getattr(split, part)]), part))
    return outcome


def _splits_record(cfg: RunConfig, data: SequenceData, splits: list[Split]) -> dict[str, Any]:
    """splits.json: indices are 0-based data rows (records) of the input table (invalid rows excluded)."""
    rows = data.valid_index
    return {
        "type": cfg.data.split, "seed": cfg.trainer.seed, "sizes": cfg.data.split_sizes, "n_folds": len(splits),
        "index": "0-based data row (record) of the input table",
        "invalid_rows": [bad.index for bad in data.invalid],
        "folds": [{part: rows[getattr(split, part)].tolist() for part in ("train", "val", "test")} for split in splits],
    }


def _model_spec(cfg: RunConfig, task: Task, spec: DatasetSpec | None, metrics: dict) -> dict[str, Any]:
    d = cfg.data
    return {
        "family": "expression",
        "input": {"kind": "dna", "column": d.sequence_column, "length": d.seq_length, "n_value": d.n_value, "pad": d.pad},
        "reverse_complement": {"train_augment": bool(d.rc_augment), "predict_average": bool(d.rc_augment)},
        "model": cfg.model.model_dump(),
        "task": task.describe(),
        "trained_on": {"data": spec.name if spec is not None else str(d.name), "split": d.split,
                       "seed": cfg.trainer.seed, "n_folds": d.n_folds},
        "metrics": metrics,
    }
