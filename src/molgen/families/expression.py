"""Expression: DNA sequence → one-hot → CNN / dilated CNN / transformer → expression levels or labels.

The same shared core as property prediction (``SupervisedModule(encoder, head, task)``, ``build_trainer``,
``run``, the run folder and the safetensors export); only the input side differs. ``--model kmer`` is a
k-mer count + ridge (or L2-logistic) baseline that is fitted with scikit-learn instead of Lightning but
uses the same data, split, metrics, run folder and export format.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import torch

from molgen.config import (
    DnaConvModelConfig,
    DnaTransformerModelConfig,
    KmerModelConfig,
    RunConfig,
    model_config,
    model_section,
    replace,
    resolved,
)
from molgen.data.catalog import DatasetSpec
from molgen.data.splits import Split, kfold_splits, make_split
from molgen.data.tables import FASTA_SUFFIXES, load_molecule_table, read_fasta, read_table
from molgen.errors import ConfigError, DataSourceError, InvalidInputError, ModelFormatError, UnknownNameError
from molgen.evaluation.supervised import BINARY, DEFAULT_METRICS, MULTILABEL, REGRESSION, higher_is_better
from molgen.families import common
from molgen.families.base import FAMILIES, register_family
from molgen.families.model_card import expression_model_card
from molgen.families.supervised import SupervisedFamily, with_head
from molgen.genomics.encoding import PAD_CODE, InvalidSequence, encode_indices, find_invalid, one_hot
from molgen.genomics.encoding import reverse_complement_onehot as rc_onehot
from molgen.genomics.io import bed_sequences, catalog_frame, is_bed, join_labels, read_bed
from molgen.models.heads import PredictionHead
from molgen.models.kmer import KmerCounts, fit_linear
from molgen.models.sequence import BassetCNN, ConvTransformer, DilatedCNN
from molgen.registry import Registry
from molgen.training.artifacts import ModelSpec
from molgen.training.batches import SequenceBatch, SequenceCollate
from molgen.training.predictor import Predictor
from molgen.training.tasks import RegressionTask, Task, prediction_columns

log = logging.getLogger("molgen")

SEQUENCE_ENCODERS: Registry[type[torch.nn.Module]] = Registry(
    "DNA model", {"cnn": BassetCNN, "dilated": DilatedCNN, "transformer": ConvTransformer}
)
REGRESSION_METRICS = ("pearson", "spearman", "r2", "mse")
"""Default regression metrics of the expression family (headline: pearson)."""
DNA_MODELS = (*SEQUENCE_ENCODERS.names(), "kmer")
"""Model names of the expression family (``kmer``: the k-mer count + linear baseline)."""
_STRAND_SYMMETRIC = {"chipseq_oct4_mafk"}  # datasets whose default is reverse-complement augmentation
_PREDICT_CHUNK = 4096


@dataclasses.dataclass
class SequenceData:
    """Labelled sequences: row ``i`` of ``targets`` belongs to ``sequences[i]`` = input row ``valid_index[i]``."""

    frame: pd.DataFrame
    source: str
    sequences: list[str]
    valid_index: np.ndarray
    invalid: list[InvalidSequence]
    targets: np.ndarray
    target_names: list[str]
    groups: np.ndarray | None = None


def resolve_config(cfg: RunConfig) -> tuple[RunConfig, DatasetSpec | None]:
    """Fills unset data/task options from the catalog, or generic defaults for a user's file."""
    spec = _catalog_entry(cfg.data.name)
    data, task = cfg.data, cfg.task
    if data.smiles_column is not None:
        raise InvalidInputError("data.smiles_column (--smiles-column) is for molecules; use --sequence-column for DNA")
    if cfg.model.name not in DNA_MODELS:
        raise UnknownNameError(
            f"unknown DNA model {cfg.model.name!r}; valid names: {', '.join(DNA_MODELS)} (pass --model)"
        )
    if spec is not None:
        data = common.data_from_catalog(data, spec, "sequence_column")
        task = replace(task, type=task.type or spec.task_type)
    else:
        data = replace(data, sequence_column=data.sequence_column or "sequence", split=data.split or "random")
        task = replace(task, type=task.type or REGRESSION)
    if data.rc_augment is None:
        data = replace(data, rc_augment=spec is not None and spec.name in _STRAND_SYMMETRIC)
    defaults = REGRESSION_METRICS if task.type == REGRESSION else DEFAULT_METRICS[task.type]
    metrics = task.metrics or list(defaults)
    headline = spec.metric if spec is not None and spec.metric in metrics else metrics[0]
    task = replace(task, metrics=metrics, monitor=task.monitor or headline)
    return replace(cfg, data=data, task=task), spec


def _catalog_entry(name: str) -> DatasetSpec | None:
    spec = common.catalog_entry(name, "CSV/TSV/Parquet/FASTA/BED file")
    if spec is not None and spec.kind != "sequences":
        raise InvalidInputError(f"dataset {spec.name!r} holds {spec.kind}, not DNA sequences; use the property family")
    return spec


def _read_input(cfg: RunConfig, spec: DatasetSpec | None) -> tuple[pd.DataFrame, Path | None, dict[int, str]]:
    """(table, file for line numbers or None, {row: problem}) of the training data."""
    if spec is not None:
        frame, path = catalog_frame(spec)
        return frame, path, {}
    path = Path(cfg.data.name)
    if not path.is_file():
        raise DataSourceError(f"training data not found: {path}")
    name = path.name.lower().removesuffix(".gz")
    problems: dict[int, str] = {}
    if is_bed(path):
        if not cfg.data.reference:
            raise InvalidInputError(f"{path} is a BED file: pass the reference genome with --reference FILE.fa")
        frame, problems = bed_sequences(
            read_bed(path), cfg.data.reference, one_based=cfg.data.one_based, source=path.name
        )
    elif name.endswith(FASTA_SUFFIXES):
        frame = read_fasta(path)
        if not cfg.data.labels:
            raise InvalidInputError(
                f"{path}: pass --labels TABLE with the target values of its records (joined on record id)"
            )
    else:
        return read_table(path), path, {}
    if cfg.data.labels:
        frame, missing = join_labels(frame, cfg.data.labels, id_column=cfg.data.id_column, source=path.name)
        problems = {**missing, **problems}
    return frame, None, problems


def load_data(cfg: RunConfig, spec: DatasetSpec | None) -> SequenceData:
    """Reads and checks the training sequences; invalid records raise (listed) or are skipped."""
    frame, path, problems = _read_input(cfg, spec)
    column = resolved(cfg.data.sequence_column, "data.sequence_column")
    targets = cfg.data.target_columns or _numeric_columns(frame, cfg, path)
    if path is not None:  # read from the file again so that messages name file lines
        table = load_molecule_table(path, column, targets)
        for extra in frame.columns.difference(table.frame.columns):  # e.g. an assembled split column
            table.frame[extra] = frame[extra].to_numpy()
    else:
        table = load_molecule_table(frame, column, targets)
    if cfg.data.max_rows is not None:
        table = dataclasses.replace(table, frame=table.frame.iloc[: cfg.data.max_rows].reset_index(drop=True))
        problems = {i: r for i, r in problems.items() if i < cfg.data.max_rows}
    source = str(path or cfg.data.name)
    seqs = table.frame[column].tolist()
    describe = _describer(table.frame, table.describe_row, source) if path is None else table.describe_row
    invalid = {bad.index: bad for bad in find_invalid(seqs)}
    for row, reason in problems.items():
        invalid[row] = InvalidSequence(row, "", reason)
    invalid_list = [dataclasses.replace(invalid[i], record=describe(i)) for i in sorted(invalid)]
    if invalid_list:
        header = f"{len(invalid_list)} invalid sequence(s) in {source} (column {column!r})"
        common.report_invalid([str(bad) for bad in invalid_list], header, cfg.data.on_invalid, "records")
    valid = np.setdiff1d(np.arange(len(seqs)), np.fromiter(invalid, dtype=np.int64, count=len(invalid)))
    groups = None
    if cfg.data.split == "predefined" and cfg.data.split_column:
        if cfg.data.split_column not in table.frame.columns:
            raise InvalidInputError(
                f"split column {cfg.data.split_column!r} not in {source}; columns: {', '.join(map(str, table.frame.columns))}"
            )
        groups = table.frame[cfg.data.split_column].to_numpy()[valid]
    return SequenceData(
        table.frame, source, [seqs[i] for i in valid], valid, invalid_list, table.targets[valid], list(targets), groups
    )


def _describer(frame: pd.DataFrame, describe_row: Callable[[int], str], source: str) -> Callable[[int], str]:
    if "id" in frame.columns:  # FASTA / BED records
        where = frame["file"] if "file" in frame.columns else pd.Series(Path(source).name, index=frame.index)
        return lambda i: f"{where.iloc[i]} record {i + 1} ({frame['id'].iloc[i]})"
    return describe_row


def _numeric_columns(frame: pd.DataFrame, cfg: RunConfig, path: Path | None) -> list[str]:
    skip = {cfg.data.sequence_column, cfg.data.split_column, cfg.data.id_column, "start", "end", "score"}
    columns = [c for c in frame.select_dtypes("number").columns if c not in skip]
    if not columns:
        raise InvalidInputError(
            f"{path or cfg.data.name}: no numeric target column; pass --target-columns "
            f"(columns: {', '.join(map(str, frame.columns))})"
        )
    return columns


def sequence_length(cfg: RunConfig, data: SequenceData) -> int:
    """The model's input length: ``data.seq_length``, else the longest sequence capped at ``max_seq_length``."""
    if cfg.data.seq_length is not None:
        return cfg.data.seq_length
    longest = max(map(len, data.sequences), default=1)
    if longest > cfg.data.max_seq_length:
        log.warning(
            "sequences up to %d nt are cropped to %d (set data.seq_length / data.max_seq_length)",
            longest,
            cfg.data.max_seq_length,
        )
    return min(longest, cfg.data.max_seq_length)


def make_splits(cfg: RunConfig, data: SequenceData) -> list[Split]:
    """One split or one per fold, over the valid sequences. A predefined split without validation rows
    gets a seeded validation draw of ``split_sizes[1]`` of all rows from its training rows."""
    n, kind, seed = len(data.targets), resolved(cfg.data.split, "data.split"), cfg.trainer.seed
    if kind == "scaffold":
        raise InvalidInputError("scaffold splits need molecules; use random, stratified or predefined for DNA")
    labels = data.targets[:, 0] if kind == "stratified" else None
    if cfg.data.n_folds > 1:
        if kind == "predefined":
            raise ConfigError("a predefined split cannot be combined with n_folds > 1")
        return kfold_splits(kind, n, cfg.data.n_folds, seed=seed, labels=labels)
    if kind == "predefined" and data.groups is None:
        raise InvalidInputError("the predefined split needs --split-column (a column of train/val/test labels)")
    groups = cast("Sequence[str] | None", data.groups)  # an array of train/val/test labels, one per row
    split = make_split(kind, n, sizes=tuple(cfg.data.split_sizes), seed=seed, labels=labels, groups=groups)
    if kind == "predefined" and not len(split.val):
        n_val = round(cfg.data.split_sizes[1] * n)
        val = np.random.default_rng(seed).choice(split.train, size=min(n_val, len(split.train) - 1), replace=False)
        split = Split(np.setdiff1d(split.train, val), val, split.test)
    return [split]


def build_predictor(model: DnaConvModelConfig | KmerModelConfig, task: Task, length: int) -> Predictor:
    """Encoder + head + task for a DNA model config; ``length`` is the one-hot input length."""
    if isinstance(model, KmerModelConfig):
        kmer = KmerCounts(model.kmer_size)
        return Predictor(kmer, PredictionHead(kmer.out_dim, task.output_dim, n_layers=1), task)
    encoder_cls = SEQUENCE_ENCODERS.get(model.name)
    options: dict[str, Any] = {"n_heads": model.n_heads} if isinstance(model, DnaTransformerModelConfig) else {}
    encoder: torch.nn.Module = encoder_cls(
        length,
        hidden_dim=model.hidden_dim,
        depth=model.depth,
        dropout=model.dropout,
        kernel_size=model.kernel_size,
        readout=model.readout,
        **options,
    )
    return with_head(encoder, task, model)


def member_predictions(
    members: list[Predictor], x: torch.Tensor, *, batch_size: int = 256, rc_average: bool = True
) -> torch.Tensor:
    """Predictions of every member ``[M, N, T]`` (``[M, N, T, C]`` multiclass) for one-hot ``x [N, 4, L]``,
    each the mean of the forward and reverse-complement strands when ``rc_average``."""
    outputs = []
    with torch.inference_mode():
        for member in members:
            member.eval()
            device = next(member.parameters()).device
            parts = []
            for start in range(0, len(x), batch_size):
                chunk = x[start : start + batch_size].to(device)
                pred = member(SequenceBatch(chunk))
                if rc_average:
                    pred = (pred + member(SequenceBatch(rc_onehot(chunk)))) / 2
                parts.append(pred.float().cpu())
            outputs.append(torch.cat(parts) if parts else torch.empty(0, member.task.n_targets))
    return torch.stack(outputs)


def predict_onehot(
    members: list[Predictor], x: torch.Tensor, *, batch_size: int = 256, rc_average: bool = True
) -> torch.Tensor:
    """Mean prediction of the members ``[N, T]`` (user units) for one-hot ``x [N, 4, L]``; with ``rc_average``
    each member's prediction is the mean over the forward and the reverse-complement strand. Pass
    ``rc_average=spec.reverse_complement.predict_average`` to predict as ``molgen predict`` does."""
    return member_predictions(members, x, batch_size=batch_size, rc_average=rc_average).mean(0)


def predict_frame(
    spec: ModelSpec,
    members: list[Predictor],
    frame: pd.DataFrame,
    input_column: str | None = None,
    *,
    batch_size: int = 256,
    n_jobs: int = -1,
) -> pd.DataFrame:
    """One output row per input row: input columns, one column per target (+ ``_std``), ``valid``,
    ``invalid_reason`` (the record and what is wrong with it). ``n_jobs`` is unused (encoding is vectorized)."""
    assert spec.input is not None and spec.task is not None
    trained = spec.input.column
    column = input_column or (trained if trained in frame.columns else "sequence")
    if column not in frame.columns:
        raise InvalidInputError(
            f"sequence column {column!r} not in the input; columns: {', '.join(map(str, frame.columns))} "
            "(use --input-column)"
        )
    raw = frame[column]
    seqs = raw.where(raw.notna(), "").astype(str).tolist()
    names = frame["id"].astype(str).tolist() if "id" in frame.columns else [f"row {i + 1}" for i in range(len(frame))]
    invalid = find_invalid(seqs, names)
    bad = np.fromiter((b.index for b in invalid), dtype=np.int64, count=len(invalid))
    valid_index = np.setdiff1d(np.arange(len(seqs)), bad)
    source = spec.input
    rc = spec.reverse_complement is not None and spec.reverse_complement.predict_average
    n_value = source.n_value
    if n_value is None:
        raise ModelFormatError("model.yaml has no input.n_value (uniform | zero) for this DNA model")
    chunks = []
    for start in range(0, len(valid_index), _PREDICT_CHUNK):
        rows = valid_index[start : start + _PREDICT_CHUNK]
        x = torch.from_numpy(
            one_hot([seqs[i] for i in rows], length=source.length, n_value=n_value, pad=source.pad or "center")
        )
        chunks.append(member_predictions(members, x, batch_size=batch_size, rc_average=rc).numpy())
    preds = np.concatenate(chunks, axis=1) if chunks else None
    out = frame.copy()
    columns = prediction_columns(spec.task.type, spec.task.targets, preds, valid_index, len(frame), list(out.columns))
    for name, values in columns.items():
        out[name] = values
    valid = np.zeros(len(frame), dtype=bool)
    valid[valid_index] = True
    out["valid"] = valid
    reasons = np.full(len(frame), "", dtype=object)
    for item in invalid:
        reasons[item.index] = str(item)
    out["invalid_reason"] = reasons
    return out


@register_family("expression")
class ExpressionFamily(SupervisedFamily):
    """DNA sequence → one-hot → CNN / dilated CNN / transformer (or the k-mer baseline) → expression."""

    models = DNA_MODELS
    rows = "0-based data row (record) of the input table"
    resolve_config = staticmethod(resolve_config)
    load_data = staticmethod(load_data)
    make_splits = staticmethod(make_splits)
    predict_frame = staticmethod(predict_frame)
    model_card = staticmethod(expression_model_card)

    def check(self, cfg: RunConfig) -> None:
        if cfg.model.name == "kmer" and cfg.trainer.ensemble_size > 1:
            raise ConfigError("the kmer baseline is deterministic: use ensemble_size 1")

    def prepare(self, cfg: RunConfig, data: SequenceData) -> tuple[RunConfig, SequenceCollate]:
        length = sequence_length(cfg, data)
        cfg = replace(cfg, data=replace(cfg.data, seq_length=length))
        codes = encode_indices(data.sequences, length, pad=cfg.data.pad, pad_value=PAD_CODE)
        return cfg, SequenceCollate(codes, data.targets, cfg.data.n_value)

    def build_predictor(self, cfg: RunConfig, task: Task, data: SequenceData, split: Split) -> Predictor:
        return build_predictor(
            model_section(cfg, (DnaConvModelConfig, KmerModelConfig)),
            task,
            resolved(cfg.data.seq_length, "data.seq_length"),
        )

    def row_inputs(self, data: SequenceData) -> tuple[str, list[str]]:
        if "id" in data.frame.columns:  # FASTA / BED records
            return "id", data.frame["id"].astype(str).to_numpy()[data.valid_index].tolist()
        return "sequence", data.sequences

    def datamodule(self, cfg: RunConfig, collate: SequenceCollate, split: Split, seed: int) -> Any:
        from molgen.training.datamodules import SequenceDataModule

        return SequenceDataModule(
            collate, split, cfg.data.batch_size, seed, resolved(cfg.data.rc_augment, "data.rc_augment")
        )

    def callbacks(self) -> list[Any]:
        return [_throughput()]

    def fit_member(self, cfg: RunConfig, predictor: Predictor, collate: Any, split: Split, **options: Any) -> Any:
        if cfg.model.name != "kmer":
            return super().fit_member(cfg, predictor, collate, split, **options)
        meter = next(c for c in options["callbacks"] if hasattr(c, "sequences"))
        return _fit_kmer(predictor, collate, split, resolved(cfg.task.monitor, "task.monitor"), options["test"], meter)

    def predict_rows(self, cfg: RunConfig, predictor: Predictor, collate: Any, rows: np.ndarray) -> torch.Tensor:
        return predict_onehot([predictor], collate(rows).x, rc_average=bool(cfg.data.rc_augment))

    def details(self, cfg: RunConfig, callbacks: list[Any]) -> dict[str, Any]:
        meter = callbacks[0]
        return {
            "train_seconds": meter.seconds,
            "train_sequences_per_s": meter.sequences / meter.seconds if meter.seconds else float("nan"),
            "seq_length": cfg.data.seq_length,
        }

    def spec_fields(self, cfg: RunConfig) -> dict[str, Any]:
        d = cfg.data
        return {
            "input": {
                "kind": "dna",
                "column": d.sequence_column,
                "length": d.seq_length,
                "n_value": d.n_value,
                "pad": d.pad,
            },
            "reverse_complement": {"train_augment": bool(d.rc_augment), "predict_average": bool(d.rc_augment)},
        }

    def build_from_spec(self, spec: ModelSpec, task: Task) -> Predictor:
        assert spec.model is not None and spec.input is not None and spec.input.length is not None
        return build_predictor(
            model_section(model_config(spec.model, legacy=True), (DnaConvModelConfig, KmerModelConfig)),
            task,
            spec.input.length,
        )


EXPRESSION = FAMILIES.get("expression")


def fit(cfg: RunConfig, **options: Any) -> common.RunResult:
    """Trains, evaluates and exports a DNA model (see :meth:`SupervisedFamily.fit`)."""
    return EXPRESSION.fit(cfg, **options)


def load_predictors(spec: ModelSpec, states: list[dict[str, torch.Tensor]]) -> list[Predictor]:
    """Rebuilds exported members from ``model.yaml`` and their weights (strict key match)."""
    return EXPRESSION.load_predictors(spec, states)


def _throughput() -> Any:
    """A Lightning callback counting training sequences per second (Lightning imported only when training)."""
    import lightning.pytorch as L

    class _Throughput(L.Callback):
        """Training sequences per second, from the start of each training epoch to its last batch."""

        def __init__(self) -> None:
            self.seconds, self.sequences, self._start = 0.0, 0, 0.0

        def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
            self._start = time.perf_counter()

        def on_train_batch_end(
            self, trainer: L.Trainer, module: L.LightningModule, outputs: Any, batch: Any, i: int
        ) -> None:
            self.sequences += len(batch)
            now = time.perf_counter()
            self.seconds += now - self._start
            self._start = now

    return _Throughput()


def _fit_kmer(
    predictor: Predictor, collate: SequenceCollate, split: Split, monitor: str, test: bool, throughput: Any
) -> Any:
    """Counts k-mers, fits one linear model per penalty on the training rows, keeps the best on validation."""
    from molgen.training.trainer import FitOutcome

    start = time.perf_counter()
    encoder, task = predictor.encoder, predictor.task
    assert isinstance(encoder, KmerCounts)  # fit_member routes only the kmer model here
    rows = np.concatenate([split.train, split.val, split.test])
    counts = torch.cat([encoder.counts(collate(rows[i : i + 1024])) for i in range(0, len(rows), 1024)])
    encoder.fit_scaling(counts[: len(split.train)])
    features = ((counts - encoder.mean) / encoder.std).numpy()
    parts = dict(
        zip(("train", "val", "test"), np.split(features, np.cumsum([len(split.train), len(split.val)])), strict=True)
    )
    assert collate.targets is not None  # training data are labelled
    labels = collate.targets.numpy()
    regression = task.kind == REGRESSION
    if not regression and task.kind not in (BINARY, MULTILABEL):
        raise ConfigError(f"the kmer baseline supports regression and binary tasks, not {task.kind}")
    train_y = labels[split.train]
    if regression:  # fit standardized targets; the task un-scales predictions
        assert isinstance(task, RegressionTask)
        train_y = (train_y - task.target_mean.numpy()) / task.target_std.numpy()
    candidates = fit_linear("ridge" if regression else "logistic", parts["train"], train_y)
    best, best_score = None, None
    sign = 1 if higher_is_better(task.kind, monitor) else -1
    for coef, intercept in candidates:
        preds = task.predict(torch.as_tensor(parts["val"] @ coef.T + intercept))
        score = task.evaluate(preds, torch.as_tensor(labels[split.val]), "val").get(monitor, float("nan"))
        if best is None or (
            not np.isnan(score) and (best_score is None or np.isnan(best_score) or sign * score > sign * best_score)
        ):
            best, best_score = (coef, intercept), score
    head = predictor.head
    assert isinstance(head, PredictionHead) and best is not None  # build_predictor's kmer head; >= 1 candidate
    linear = head.mlp.net[0]
    assert isinstance(linear, torch.nn.Linear)  # a one-layer head
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
