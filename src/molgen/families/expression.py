"""Expression: DNA sequence → one-hot → CNN / dilated CNN / transformer → expression levels or labels.

The same shared core as property prediction (``SupervisedModule(encoder, head, task)``, ``build_trainer``,
``run``, the run folder and the safetensors export); only the input side differs. ``--model kmer`` is a
k-mer count + ridge (or L2-logistic) baseline that is fitted with scikit-learn instead of Lightning but
uses the same data, split, metrics, run folder and export format.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

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
from molgen.data.catalog import DatasetSpec, catalog_entry, data_from_catalog
from molgen.data.splits import Split
from molgen.data.tables import report_invalid
from molgen.errors import ConfigError, InvalidInputError, ModelFormatError, UnknownNameError
from molgen.evaluation.supervised import DEFAULT_METRICS, REGRESSION
from molgen.families.base import register_family
from molgen.families.supervised import SupervisedFamily, with_head
from molgen.genomics.datasets import SequenceData, read_labelled_sequences, sequence_length
from molgen.genomics.encoding import (
    PAD_CODE,
    check_lengths,
    encode_indices,
    one_hot,
    prediction_inputs,
    sequence_lengths,
)
from molgen.models.heads import PredictionHead
from molgen.models.kmer import KmerCounts
from molgen.models.sequence import BassetCNN, ConvTransformer, DilatedCNN
from molgen.registry import Registry
from molgen.training.artifacts import ModelSpec
from molgen.training.batches import SequenceCollate
from molgen.training.model_card import expression_model_card
from molgen.training.prediction_tables import input_values, output_table
from molgen.training.predictor import Predictor, predict_onehot, sequence_predictions
from molgen.training.tasks import Task

log = logging.getLogger("molgen")

SEQUENCE_ENCODERS: Registry[type[torch.nn.Module]] = Registry(
    "DNA model", {"cnn": BassetCNN, "dilated": DilatedCNN, "transformer": ConvTransformer}
)
REGRESSION_METRICS = ("pearson", "spearman", "r2", "mse")
"""Default regression metrics of the expression family (headline: pearson)."""
DNA_MODELS = (*SEQUENCE_ENCODERS.names(), "kmer")
"""Model names of the expression family (``kmer``: the k-mer count + linear baseline)."""
_STRAND_SYMMETRIC = {"chipseq_oct4_mafk"}  # datasets whose default is reverse-complement augmentation


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
        data = data_from_catalog(data, spec, "sequence_column")
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
    spec = catalog_entry(name, "CSV/TSV/Parquet/FASTA/BED file")
    if spec is not None and spec.kind != "sequences":
        raise InvalidInputError(f"dataset {spec.name!r} holds {spec.kind}, not DNA sequences; use the property family")
    return spec


def load_data(cfg: RunConfig, spec: DatasetSpec | None) -> SequenceData:
    """Reads and checks the training sequences; invalid records raise (listed) or are skipped."""
    data = read_labelled_sequences(cfg.data, spec)
    if data.invalid:
        header = f"{len(data.invalid)} invalid sequence(s) in {data.source} (column {cfg.data.sequence_column!r})"
        report_invalid([str(bad) for bad in data.invalid], header, cfg.data.on_invalid, "records")
    return data


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


def predict_frame(
    spec: ModelSpec,
    members: list[Predictor],
    frame: pd.DataFrame,
    input_column: str | None = None,
    *,
    batch_size: int = 256,
    n_jobs: int = -1,
    on_length_mismatch: str = "warn",
) -> pd.DataFrame:
    """One output row per input row: input columns, one column per target (+ ``_std``), ``valid``,
    ``invalid_reason`` (the record and what is wrong with it). ``n_jobs`` is unused (encoding is vectorized).

    A sequence of another length than the model's input is cropped or padded (``spec.input.pad``), with one
    warning counting them (``on_length_mismatch="warn"``), or refused (``"error"``). A sequence longer than
    :data:`MAX_PREDICT_LENGTH` nt is an invalid row, not minutes of work."""
    assert spec.input is not None and spec.task is not None
    trained = spec.input.column
    column = input_column or (trained if trained in frame.columns else "sequence")
    raw = input_values(frame, column, "sequence")
    seqs = raw.where(raw.notna(), "").astype(str).tolist()
    names = frame["id"].astype(str).tolist() if "id" in frame.columns else [f"row {i + 1}" for i in range(len(frame))]
    valid_index, reasons = prediction_inputs(seqs, names)
    source = spec.input
    check_lengths(sequence_lengths([seqs[i] for i in valid_index]), valid_index, source.length, on_length_mismatch)
    rc = spec.reverse_complement is not None and spec.reverse_complement.predict_average
    n_value = source.n_value
    if n_value is None:
        raise ModelFormatError("model.yaml has no input.n_value (uniform | zero) for this DNA model")
    encode = functools.partial(one_hot, length=source.length, n_value=n_value, pad=source.pad or "center")
    valid = [seqs[i] for i in valid_index]
    preds = sequence_predictions(members, valid, encode, batch_size=batch_size, rc_average=rc) if valid else None
    return output_table(spec, frame, preds, valid_index, reasons)


@register_family("expression")
class ExpressionFamily(SupervisedFamily):
    """DNA sequence → one-hot → CNN / dilated CNN / transformer (or the k-mer baseline) → expression."""

    models = DNA_MODELS
    private_models = tuple(name for name in DNA_MODELS if name != "kmer")
    private_refusal = "the k-mer baseline is fitted in closed form (least squares), not by gradient steps"
    rows = "0-based data row (record) of the input table"
    resolve_config = staticmethod(resolve_config)
    load_data = staticmethod(load_data)
    predict_frame = staticmethod(predict_frame)
    model_card = staticmethod(expression_model_card)

    def check(self, cfg: RunConfig) -> None:
        if cfg.model.name == "kmer" and cfg.trainer.ensemble_size > 1:
            raise ConfigError("the kmer baseline is deterministic: use ensemble_size 1")

    def uncertainty_methods(self, cfg: RunConfig) -> tuple[str, ...]:
        return () if cfg.model.name == "kmer" else ("ensemble",)

    def prepare(self, cfg: RunConfig, data: SequenceData) -> tuple[RunConfig, SequenceCollate]:
        length = sequence_length(cfg.data, data)
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
        from molgen.training.callbacks import Throughput

        return [Throughput()]

    def fit_member(self, cfg: RunConfig, predictor: Predictor, collate: Any, split: Split, **options: Any) -> Any:
        if cfg.model.name != "kmer":
            return super().fit_member(cfg, predictor, collate, split, **options)
        from molgen.training.callbacks import Throughput
        from molgen.training.kmer import fit_kmer

        meter = next(c for c in options["callbacks"] if isinstance(c, Throughput))
        return fit_kmer(predictor, collate, split, resolved(cfg.task.monitor, "task.monitor"), options["test"], meter)

    def predict_rows(self, cfg: RunConfig, predictor: Predictor, collate: Any, rows: np.ndarray) -> torch.Tensor:
        return predict_onehot([predictor], collate(rows).x, rc_average=bool(cfg.data.rc_augment))

    def details(self, cfg: RunConfig, callbacks: list[Any]) -> dict[str, Any]:
        meter = callbacks[0]
        return {
            "train_seconds": meter.seconds,
            "train_sequences_per_s": meter.rows / meter.seconds if meter.seconds else float("nan"),
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
