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
from molgen.errors import ConfigError, InvalidInputError
from molgen.config import ModelConfig, RunConfig
from molgen.config import model_config
from molgen.config import replace as config_replace
from molgen.data.catalog import DatasetSpec, get_dataset
from molgen.data.sources import cache_dir, resolve
from molgen.data.splits import Split, kfold_splits, make_split
from molgen.data.tables import MoleculeTable, load_molecule_table
from molgen.evaluation.supervised import DEFAULT_METRICS, REGRESSION, higher_is_better
from molgen.models import graph as graph_models
from molgen.models.heads import PredictionHead
from molgen.models.layers import WithMoleculeFeatures
from molgen.families import common
from molgen.families.model_card import property_model_card
from molgen.registry import Registry, UnknownNameError
from molgen.training.artifacts import export_model, run_paths, write_json
from molgen.training.batches import GraphCollate
from molgen.training.predictor import Predictor
from molgen.training.tasks import Task, build_task

log = logging.getLogger("molgen")

# name → class in molgen.models.graph (imported when first used)
GRAPH_ENCODERS: Registry[str] = Registry(
    "model", {"dmpnn": "DMPNN", "gin": "GIN", "gcn": "GCN", "gat": "GATv2", "attentivefp": "AttentiveFP"}
)




@dataclasses.dataclass
class MoleculeData:
    """A labelled molecule table, featurized: row ``i`` of ``targets`` belongs to graph ``i``."""

    table: MoleculeTable
    featurized: FeaturizationResult
    targets: np.ndarray  # float32 [n_valid, T]
    target_names: list[str]

    @property
    def smiles(self) -> list[str]:
        all_smiles = self.table.smiles
        return [all_smiles[i] for i in self.featurized.valid_index]


def resolve_config(cfg: RunConfig) -> tuple[RunConfig, DatasetSpec | None]:
    """Fills unset data/task options from the catalog (or generic defaults for a user's file)."""
    spec = _catalog_entry(cfg.data.name)
    data, task = cfg.data, cfg.task
    if spec is not None:
        data = config_replace(
            data,
            smiles_column=data.smiles_column or spec.input_column,
            target_columns=data.target_columns or list(spec.target_columns),
            split=data.split or spec.default_split,
            split_column=data.split_column or spec.split_column,
        )
        task = config_replace(task, type=task.type or spec.task_type)
        task = config_replace(task, monitor=task.monitor or _headline(spec.metric, task.type))
    else:
        data = config_replace(data, smiles_column=data.smiles_column or "smiles", split=data.split or "random")
        task = config_replace(task, type=task.type or REGRESSION)
        task = config_replace(task, monitor=task.monitor or DEFAULT_METRICS[task.type][0])
    return config_replace(cfg, data=data, task=task), spec


def _headline(metric: str, task_type: str) -> str:
    return metric if metric in DEFAULT_METRICS[task_type] or task_type == REGRESSION else DEFAULT_METRICS[task_type][0]


def _catalog_entry(name: str) -> DatasetSpec | None:
    try:
        return get_dataset(name)
    except UnknownNameError as err:
        if Path(name).exists() or Path(name).suffix:
            return None
        raise UnknownNameError(f"{err}; or pass the path of a CSV/TSV/SDF/Parquet file") from None


def load_data(cfg: RunConfig, spec: DatasetSpec | None) -> MoleculeData:
    """Reads, checks and featurizes the training table; invalid molecules raise or are skipped."""
    source: Any = resolve(spec.remote) if spec is not None else Path(cfg.data.name)
    table = load_molecule_table(source, cfg.data.smiles_column, cfg.data.target_columns or _numeric_columns(source, cfg))
    if cfg.data.max_rows is not None:
        table = dataclasses.replace(table, frame=table.frame.iloc[: cfg.data.max_rows].reset_index(drop=True))
    featurized = featurize_smiles(
        table.smiles,
        FeaturizerSpec(atom_features=cfg.data.featurizer, descriptors=cfg.data.descriptors),
        n_jobs=cfg.data.featurize_jobs,
        cache_dir=cache_dir() / "features" if cfg.data.cache else None,
    )
    if featurized.invalid:
        _report_invalid(table, featurized, cfg.data.on_invalid)
    targets = table.targets[featurized.valid_index]
    return MoleculeData(table, featurized, targets, list(table.target_columns))


def _numeric_columns(source: Path, cfg: RunConfig) -> list[str]:
    from molgen.data.tables import read_table

    frame = read_table(source)
    skip = {cfg.data.smiles_column, cfg.data.split_column}
    columns = [c for c in frame.select_dtypes("number").columns if c not in skip]
    if not columns:
        raise InvalidInputError(f"{source}: no numeric target column found; pass --target-columns (columns: {', '.join(map(str, frame.columns))})")
    return columns


def _report_invalid(table: MoleculeTable, featurized: FeaturizationResult, on_invalid: str) -> None:
    lines = [f"  {table.describe_row(bad.index)}: {bad.smiles!r}: {bad.reason}" for bad in featurized.invalid]
    shown = "\n".join(lines[:20]) + (f"\n  … and {len(lines) - 20} more" if len(lines) > 20 else "")
    header = f"{len(lines)} invalid molecule(s) in {table.source} (column {table.smiles_column!r})"
    if on_invalid == "skip":
        log.warning("%s skipped:\n%s", header, shown)
        return
    if on_invalid != "error":
        raise ConfigError(f"unknown on_invalid {on_invalid!r}; valid values: error, skip")
    raise InvalidInputError(f"{header}:\n{shown}\nFix or remove these rows, or pass --on-invalid skip to leave them out.")


def make_splits(cfg: RunConfig, data: MoleculeData) -> list[Split]:
    """One split, or one per fold; indices are positions among the valid molecules."""
    n, kind = len(data.targets), cfg.data.split
    labels = data.targets[:, 0] if kind == "stratified" else None
    if cfg.data.n_folds > 1:
        if kind == "predefined":
            raise ConfigError("a predefined split cannot be combined with n_folds > 1")
        return kfold_splits(kind, n, cfg.data.n_folds, seed=cfg.trainer.seed, smiles=data.smiles, labels=labels)
    groups = None
    if kind == "predefined":
        if not cfg.data.split_column:
            raise InvalidInputError("the predefined split needs --split-column (a column of train/val/test labels)")
        if cfg.data.split_column not in data.table.frame.columns:
            raise InvalidInputError(
                f"split column {cfg.data.split_column!r} not in {data.table.source}; "
                f"columns: {', '.join(map(str, data.table.frame.columns))}"
            )
        groups = data.table.frame[cfg.data.split_column].to_numpy()[data.featurized.valid_index]
    return [
        make_split(
            kind, n, sizes=tuple(cfg.data.split_sizes), seed=cfg.trainer.seed, smiles=data.smiles, labels=labels, groups=groups
        )
    ]


def build_predictor(model: ModelConfig, featurizer: FeaturizerSpec, task: Task, mol_features: np.ndarray | None = None) -> Predictor:
    """Encoder + head + task for a model config; ``mol_features`` ``[n_train, D]`` sets descriptor scaling."""
    encoder_cls = getattr(graph_models, GRAPH_ENCODERS.get(model.name))
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
    head = PredictionHead(
        encoder.out_dim, task.output_dim, hidden_dim=model.ffn_hidden_dim, n_layers=model.ffn_layers, dropout=model.dropout
    )
    return Predictor(encoder, head, task)


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
        resume: continue each member from its ``last.ckpt`` in an existing run folder.
        extra_callbacks: added to every trainer (e.g. Optuna pruning).
        export: write ``model/``; test: score on the test split.
    """
    # Lightning is imported here, not at module level, so that prediction never pays for it.
    from molgen.training.datamodules import SplitDataModule
    from molgen.training.modules import SupervisedModule
    from molgen.training.trainer import build_trainer, quiet_lightning, run, seed_everything

    quiet_lightning()
    cfg, spec = resolve_config(cfg)
    data = load_data(cfg, spec)
    splits = make_splits(cfg, data)
    featurizer = FeaturizerSpec(atom_features=cfg.data.featurizer, descriptors=cfg.data.descriptors)
    monitor, task_type = cfg.task.monitor, cfg.task.type
    mode = "max" if higher_is_better(task_type, monitor) else "min"
    collate = GraphCollate(data.featurized.graphs, data.targets)
    name = f"{Path(cfg.data.name).stem}-{cfg.model.name}"
    multi = len(splits) > 1 or cfg.trainer.ensemble_size > 1
    with common.run_directory(cfg, name) as run_dir:
        if resume and not (run_dir / "checkpoints").is_dir():
            raise ConfigError(f"--resume: {run_dir} holds no checkpoints/ to resume from (pass the run's --output)")
        cfg = config_replace(cfg, output=str(run_dir))
        paths = run_paths(run_dir)
        if common.is_rank_zero():
            cfg.save(paths["config"])
            write_json(paths["splits"], _splits_record(cfg, data, splits))
        outcomes, predictors = [], []
        for fold, split in enumerate(splits):
            member_preds = []
            for member in range(cfg.trainer.ensemble_size):
                seed = cfg.trainer.seed + member
                seed_everything(seed)
                train_features = data.featurized.graphs.mol_features
                task = build_task(
                    task_type,
                    data.target_names,
                    metrics=cfg.task.metrics,
                    n_classes=cfg.task.n_classes,
                    train_targets=data.targets[split.train],
                )
                predictor = build_predictor(
                    cfg.model, featurizer, task, None if train_features is None else train_features[split.train]
                )
                module = SupervisedModule(predictor.encoder, predictor.head, predictor.task, cfg.optim)
                tag = f"fold_{fold}/member_{member}" if multi else ""
                trainer = build_trainer(
                    cfg.trainer, run_dir, monitor=f"val/{monitor}", mode=mode, extra_callbacks=extra_callbacks, tag=tag
                )
                datamodule = SplitDataModule(collate, split, batch_size=cfg.data.batch_size, seed=seed)
                outcome = run(module, datamodule, trainer, resume=resume, test=test)
                outcomes.append(outcome)
                predictors.append(predictor)
                if test and cfg.trainer.ensemble_size > 1:
                    member_preds.append(predictor.predict_rows(collate, split.test))
            if member_preds and len(splits) == 1:
                ensemble_test = data.targets[split.test]
                ensemble_metrics = task.evaluate(torch.stack(member_preds).mean(0), torch.as_tensor(ensemble_test), "test")
        metrics = {"val": common.aggregate([o.val for o in outcomes])}
        if test:
            metrics["test"] = common.aggregate([o.test for o in outcomes])
            if cfg.trainer.ensemble_size > 1 and len(splits) == 1:
                metrics["test_ensemble"] = ensemble_metrics
        if common.is_rank_zero():
            write_json(paths["metrics"], metrics)
            if export:
                model_spec = _model_spec(cfg, featurizer, predictors[0].task, spec, metrics)
                export_model(paths["model"], predictors, model_spec, property_model_card(model_spec, cfg, metrics))
    return common.RunResult(
        run_dir=run_dir,
        metrics=metrics,
        config=cfg,
        n_invalid=len(data.featurized.invalid),
        details={"epochs": [o.epochs for o in outcomes], "best_checkpoints": [o.best_checkpoint for o in outcomes]},
    )


def _splits_record(cfg: RunConfig, data: MoleculeData, splits: list[Split]) -> dict[str, Any]:
    """splits.json: indices are 0-based data rows of the input table (invalid rows excluded)."""
    rows = data.featurized.valid_index
    return {
        "type": cfg.data.split,
        "seed": cfg.trainer.seed,
        "sizes": cfg.data.split_sizes,
        "n_folds": len(splits),
        "index": "0-based data row of the input table",
        "invalid_rows": [bad.index for bad in data.featurized.invalid],
        "folds": [
            {part: rows[getattr(split, part)].tolist() for part in ("train", "val", "test")} for split in splits
        ],
    }


def _model_spec(cfg: RunConfig, featurizer: FeaturizerSpec, task: Task, spec: DatasetSpec | None, metrics: dict) -> dict:
    return {
        "family": "property",
        "input": {"kind": "smiles", "column": cfg.data.smiles_column},
        "featurizer": featurizer.to_dict(),
        "model": cfg.model.model_dump(),
        "task": task.describe(),
        "trained_on": {
            "data": spec.name if spec is not None else str(cfg.data.name),
            "split": cfg.data.split,
            "seed": cfg.trainer.seed,
            "n_folds": cfg.data.n_folds,
        },
        "metrics": metrics,
    }


def load_predictors(spec: dict[str, Any], states: list[dict[str, torch.Tensor]]) -> list[Predictor]:
    """Rebuilds exported members from ``model.yaml`` and their weights (strict key match)."""
    featurizer = FeaturizerSpec.from_dict(spec["featurizer"])
    model = model_config(spec["model"], legacy=True)
    task_state = spec["task"]
    members = []
    for state in states:
        task = build_task(
            task_state["type"],
            task_state["targets"],
            metrics=task_state["metrics"],
            n_classes=task_state.get("n_classes"),
            state=task_state,
        )
        predictor = build_predictor(model, featurizer, task)
        predictor.load_state_dict(state, strict=True)
        predictor.eval()
        members.append(predictor)
    return members


def predict_frame(
    spec: dict[str, Any],
    members: list[Predictor],
    frame: pd.DataFrame,
    input_column: str | None = None,
    *,
    batch_size: int = 256,
    n_jobs: int = -1,
) -> pd.DataFrame:
    """One output row per input row: input columns, one column per target (+ ``_std``), ``valid``.

    Invalid molecules get ``valid=False``, empty predictions and the reason in ``invalid_reason``.
    """
    column = input_column or spec["input"]["column"]
    if column not in frame.columns:
        raise InvalidInputError(
            f"SMILES column {column!r} not in the input; columns: {', '.join(map(str, frame.columns))} "
            "(use --input-column)"
        )
    featurized = featurize_smiles(frame[column].tolist(), FeaturizerSpec.from_dict(spec["featurizer"]), n_jobs=n_jobs)
    collate = GraphCollate(featurized.graphs)
    rows = np.arange(len(featurized.graphs))
    preds = torch.stack([m.predict_rows(collate, rows, batch_size) for m in members]).numpy()
    out = frame.copy()
    valid = np.zeros(len(frame), dtype=bool)
    valid[featurized.valid_index] = True
    task = spec["task"]
    for t, target in enumerate(task["targets"]):
        name = target if target not in out.columns else f"{target}_pred"
        if task["type"] == "multiclass":
            probs = preds[:, :, t, :].mean(0)
            out[name] = _scatter(np.argmax(probs, axis=1).astype(float), featurized.valid_index, len(frame))
            for c in range(probs.shape[1]):
                out[f"{name}_prob_{c}"] = _scatter(probs[:, c], featurized.valid_index, len(frame))
            continue
        out[name] = _scatter(preds[:, :, t].mean(0), featurized.valid_index, len(frame))
        if len(members) > 1:
            out[f"{name}_std"] = _scatter(preds[:, :, t].std(0, ddof=0), featurized.valid_index, len(frame))
    out["valid"] = valid
    reasons = np.full(len(frame), "", dtype=object)
    for bad in featurized.invalid:
        reasons[bad.index] = f"{bad.reason}: {bad.smiles!r}"
    out["invalid_reason"] = reasons
    return out


def _scatter(values: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    full = np.full(n, np.nan)
    full[index] = values
    return full
