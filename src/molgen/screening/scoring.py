"""Scoring one shard: read → featurize → predict (every member of every model) → filters.

A :class:`ScreenJob` holds only primitives (model folders with a fingerprint of their files,
filter names, the output layout), so it is cheap to send to worker processes; each process
loads a model once (:func:`cached_model`, keyed by folder and fingerprint) and keeps it for
every later shard. Featurization and inference run in blocks of ``block_size`` molecules, so a
worker's memory does not grow with the shard size.

Output: one row per input row, columns in :meth:`ScreenJob.columns` order: ``source``, ``row``
(0-based record number in its file), ``id``, ``smiles``, ``valid``, ``invalid_reason``, one
column per predicted quantity (the ensemble mean; ``…_std`` the spread over all members when
there are several), with models that have an applicability domain ``train_similarity`` (to the nearest
training molecule of any model) and ``in_domain`` (in the domain of at least one model), ``passes_filters`` (null for invalid rows) and ``failed_filters`` /
``filter_reasons`` (which filters failed, and why).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from molgen.data.shards import Shard, read_shard
from molgen.errors import (
    ConfigError,
    DataSourceError,
    InvalidInputError,
    ModelFormatError,
)
from molgen.screening.filters import get_filters

if TYPE_CHECKING:
    from molgen.chem.featurize.graphs import FeaturizationResult
    from molgen.training.artifacts import ModelSpec

__all__ = ["ModelRef", "PredictionLayout", "ScreenJob", "cached_model", "score_shard"]

log = logging.getLogger("molgen")

FIXED_COLUMNS = ("source", "row", "id", "smiles", "valid", "invalid_reason")
FILTER_COLUMNS = ("passes_filters", "failed_filters", "filter_reasons")
DOMAIN_COLUMNS = ("train_similarity", "in_domain")  # molgen.chem.domain's (not imported: it imports RDKit)
_RESERVED = {*FIXED_COLUMNS, *FILTER_COLUMNS, *DOMAIN_COLUMNS, "score", "rank"}
_MODELS: dict[tuple[str, str], Any] = {}  # this process's loaded models
# The export layout of molgen.training.artifacts (not imported here: it imports torch; a test checks they match).
MODEL_DIR, SPEC_FILE, WEIGHTS_FILE = "model", "model.yaml", "model.safetensors"


@dataclass(frozen=True)
class ModelRef:
    """A model folder and a sha256 of its spec and weights (what makes two runs the same)."""

    path: str
    fingerprint: str

    @classmethod
    def of(cls, path: str | Path) -> ModelRef:
        """Raises FileNotFoundError when ``path`` holds no exported model."""
        folder = Path(path).expanduser().resolve()
        if not (folder / SPEC_FILE).is_file() and (folder / MODEL_DIR / SPEC_FILE).is_file():
            folder = folder / MODEL_DIR
        if not (folder / SPEC_FILE).is_file() or not (folder / WEIGHTS_FILE).is_file():
            raise DataSourceError(
                f"{path} is not a model folder: it lacks {SPEC_FILE} and {WEIGHTS_FILE} (pass the run folder written "
                "by `molgen train`, or its model/)"
            )
        digest = hashlib.sha256()
        for name in (SPEC_FILE, WEIGHTS_FILE):
            with open(folder / name, "rb") as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
        return cls(str(folder), digest.hexdigest())

    def spec(self) -> ModelSpec:
        """The model's ``model.yaml`` (read without torch: the parent of Dask workers never needs it)."""
        from molgen.training.artifacts import read_spec

        spec = read_spec(self.path)
        if spec.task is None or spec.featurizer is None:
            raise ModelFormatError(f"{self.path}/{SPEC_FILE} is not a molgen property model spec")
        return spec


def cached_model(ref: ModelRef) -> Any:
    """The :class:`~molgen.analysis.prediction.LoadedModel` of ``ref``, loaded once per process."""
    key = (ref.path, ref.fingerprint)
    if key not in _MODELS:
        from molgen.analysis.prediction import load_model

        _MODELS[key] = load_model(ref.path)
    return _MODELS[key]


@dataclass(frozen=True)
class PredictionLayout:
    """What the models predict: task type, targets, classes, and how many members vote."""

    task_type: str
    targets: tuple[str, ...]
    n_classes: int | None
    n_members: int

    def _name(self, target: str) -> str:
        return f"{target}_pred" if target in _RESERVED else target

    def quantities(self) -> dict[str, str | None]:
        """Rankable columns (ensemble means) → their spread column (None for a single member)."""
        names = (
            [f"{self._name(t)}_prob_{c}" for t in self.targets for c in range(self.n_classes or 0)]
            if self.task_type == "multiclass"
            else [self._name(t) for t in self.targets]
        )
        return {name: f"{name}_std" if self.n_members > 1 else None for name in names}

    def columns(self) -> list[str]:
        """Every prediction column, in output order."""
        out = []
        for t in self.targets:
            if self.task_type == "multiclass":
                out.append(self._name(t))  # the most probable class
                names = [f"{self._name(t)}_prob_{c}" for c in range(self.n_classes or 0)]
            else:
                names = [self._name(t)]
            for name in names:
                out += [name] + ([f"{name}_std"] if self.n_members > 1 else [])
        return out


SCREEN_BATCH = 64
"""Molecules per inference batch: as ``molgen predict``'s (``molgen.families.property.PREDICT_BATCH``), a batch's
arrays stay in a core's L2 cache; 1.27x the rate of 256 on 100k MOSES molecules (docs/screening.md)."""


@dataclass(frozen=True)
class ScreenJob:
    """Everything a worker needs to score a shard (primitives only; cheap to pickle).

    Attributes:
        block_size: molecules featurized and predicted at a time inside a shard (bounds memory).
        precision: ``"32"`` or ``"bf16-mixed"`` (:meth:`~molgen.training.predictor.Predictor.outputs`).
        featurize_workers: worker processes that featurize the next blocks while the scoring process predicts
            (0: it featurizes each block itself); how a run uses its cores, not what it computes.
    """

    models: tuple[ModelRef, ...]
    layout: PredictionLayout
    filters: tuple[str, ...] = ()
    batch_size: int = SCREEN_BATCH
    block_size: int = 2048
    input_column: str | None = field(default=None, compare=False)
    domain: bool = False
    precision: str = "32"
    featurize_workers: int = field(default=0, compare=False)

    @classmethod
    def create(
        cls,
        model_dirs: Sequence[str | Path],
        filters: Sequence[str] = (),
        batch_size: int = SCREEN_BATCH,
        *,
        domain: bool = True,
        precision: str = "32",
    ) -> ScreenJob:
        """Reads each model's spec, checks they predict the same targets, builds the layout; ``domain``: add the
        applicability-domain columns when at least one model has a domain.

        Weights are loaded later, once per process that scores shards (:func:`cached_model`).

        Raises:
            ValueError: no model, a non-property model, or models predicting different targets.
        """
        if not model_dirs:
            raise ConfigError("pass at least one --model")
        if batch_size < 1:
            raise ConfigError(f"batch size must be ≥ 1, got {batch_size}")
        from molgen.training.predictor import check_precision

        check_precision(precision)
        refs = tuple(ModelRef.of(path) for path in model_dirs)
        specs = [ref.spec() for ref in refs]
        layouts = []
        for ref, spec in zip(refs, specs):
            if spec.family != "property" or spec.task is None:
                raise ConfigError(
                    f"{ref.path}: a {spec.family!r} model; molgen screen scores molecules with property models"
                )
            task = spec.task
            layouts.append((task.type, tuple(task.targets), task.n_classes, spec.ensemble_size))
        first = layouts[0]
        for ref, other in zip(refs[1:], layouts[1:]):
            if other[:3] != first[:3]:
                raise InvalidInputError(
                    f"models disagree on what they predict: {refs[0].path} is {first[0]} {list(first[1])}, "
                    f"{ref.path} is {other[0]} {list(other[1])}; an ensemble needs the same task and targets"
                )
        layout = PredictionLayout(first[0], first[1], first[2], sum(n for *_, n in layouts))
        input_column = specs[0].input.column if specs[0].input is not None else None
        has_domain = domain and any(spec.applicability_domain is not None for spec in specs)
        return cls(
            refs, layout, tuple(filters), batch_size, input_column=input_column, domain=has_domain, precision=precision
        )

    def describe(self) -> dict[str, Any]:
        """What must match between a run and its resume (model contents, not their paths)."""
        return (
            {
                "models": [ref.fingerprint[:16] for ref in self.models],
                "layout": asdict(self.layout) | {"targets": list(self.layout.targets)},
                "filters": list(self.filters),
            }
            | ({"domain": True} if self.domain else {})
            | ({"precision": self.precision} if self.precision != "32" else {})
        )

    def columns(self) -> list[str]:
        return [*FIXED_COLUMNS, *self.layout.columns(), *(DOMAIN_COLUMNS if self.domain else ()), *FILTER_COLUMNS]

    def arrow_schema(self) -> Any:
        import pyarrow as pa

        types = {"row": pa.int64(), "valid": pa.bool_(), "passes_filters": pa.bool_(), "in_domain": pa.bool_()}
        floats = {*self.layout.columns(), "train_similarity"}
        return pa.schema([(c, pa.float64() if c in floats else types.get(c, pa.string())) for c in self.columns()])


def score_shard(shard: Shard, job: ScreenJob) -> pd.DataFrame:
    """One output row per input row of ``shard`` (see the module docstring for the columns)."""
    rows = read_shard(shard)
    n = len(rows)
    layout = job.layout
    valid = np.zeros(n, dtype=bool)
    reasons = rows["read_error"].to_numpy(dtype=object).copy()
    quantity_columns = list(layout.quantities())
    means = np.full((n, len(quantity_columns)), np.nan)
    spreads = np.full((n, len(quantity_columns)), np.nan)
    passes = np.full(n, None, dtype=object)
    failed = np.full(n, None, dtype=object)
    why = np.full(n, None, dtype=object)
    similarity, in_domain = np.full(n, np.nan), np.zeros(n, dtype=bool)
    readable = np.flatnonzero(pd.isna(rows["read_error"]).to_numpy())
    smiles = rows["smiles"].to_numpy(dtype=object)
    with _featurized_blocks(job, smiles[readable].tolist()) as blocks:
        for block in blocks:
            valid_index, invalid, predictions, domain = _predict_block(job, block)
            for record in invalid:
                reasons[readable[record.index]] = record.reason
            rows_ok = readable[valid_index]
            valid[rows_ok] = True
            if not len(rows_ok):
                continue
            flat = predictions.reshape(predictions.shape[0], len(rows_ok), -1)  # [members, n, quantities]
            means[rows_ok] = flat.mean(0)
            spreads[rows_ok] = flat.std(0)
            if domain is not None:
                similarity[rows_ok], in_domain[rows_ok] = domain
            passes[rows_ok], failed[rows_ok], why[rows_ok] = _apply_filters(job.filters, smiles[rows_ok].tolist())
    out = pd.DataFrame(
        {
            "source": shard.file.name,
            "row": np.arange(shard.first_row, shard.first_row + n, dtype=np.int64),
            "id": rows["id"].to_numpy(dtype=object),
            "smiles": [s if isinstance(s, str) or s is None else (None if _is_missing(s) else str(s)) for s in smiles],
            "valid": valid,
            "invalid_reason": reasons,
        }
    )
    quantities = layout.quantities()
    for q, name in enumerate(quantity_columns):
        if layout.task_type == "multiclass" and name.endswith("_prob_0"):
            target = name[: -len("_prob_0")]
            probs = means[:, q : q + (layout.n_classes or 0)]
            out[target] = np.where(np.isnan(probs[:, 0]), np.nan, np.argmax(np.nan_to_num(probs), axis=1))
        out[name] = means[:, q]
        if quantities[name] is not None:
            out[quantities[name]] = spreads[:, q]
    if job.domain:
        out["train_similarity"], out["in_domain"] = similarity, in_domain
    out["passes_filters"], out["failed_filters"], out["filter_reasons"] = passes, failed, why
    return out[job.columns()]


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _featurizer_key(job: ScreenJob, ref: ModelRef) -> str:
    """What decides a model's graphs: its featurizer and its domain's fingerprint (models sharing both share
    their graphs)."""
    model = cached_model(ref)
    fingerprint = model.domain.fingerprint if job.domain and model.domain is not None else None
    return json.dumps([model.spec.featurizer, fingerprint], sort_keys=True)


@dataclass
class _Block:
    """One block's featurization per featurizer key (positions in the shard's readable molecules, not in the
    block) and, for a model whose domain a featurization worker searched, each valid molecule's nearest-training
    similarity."""

    featurized: dict[str, FeaturizationResult]
    nearest: dict[ModelRef, np.ndarray] = field(default_factory=dict)


@contextlib.contextmanager
def _featurized_blocks(job: ScreenJob, smiles: list[Any]) -> Iterator[Iterator[_Block]]:
    """The featurization of ``smiles``, ``job.block_size`` molecules at a time.

    With ``job.featurize_workers`` and one featurizer for every model, worker processes featurize the next
    blocks (and search the domain, when one model has it) while this process predicts
    (:class:`~molgen.chem.featurize.chunks.ChunksAhead`), and torch runs with that many fewer threads until
    they are done (:func:`molgen.threads.beside_workers`); otherwise each block is featurized here. Blocks are
    the same either way, so are the predictions."""
    from molgen.chem.featurize.chunks import ChunksAhead
    from molgen.chem.featurize.graphs import FeaturizerSpec
    from molgen.threads import beside_workers

    keys = list(dict.fromkeys(_featurizer_key(job, ref) for ref in job.models))
    if job.featurize_workers and len(keys) > 1 and len(smiles) > job.block_size:
        log.info("featurizing in this process: the models need %d different featurizations", len(keys))
    if job.featurize_workers < 1 or len(keys) > 1 or len(smiles) <= job.block_size:
        yield _blocks_here(keys, smiles, job.block_size)
        return
    featurizer, fingerprint = json.loads(keys[0])
    with_domain = [ref for ref in job.models if job.domain and cached_model(ref).domain is not None]
    searched = with_domain[0] if len(with_domain) == 1 else None  # a worker searches one reference set
    ahead = ChunksAhead(
        smiles,
        FeaturizerSpec.from_dict(featurizer),
        workers=job.featurize_workers,
        chunk_size=job.block_size,
        fingerprint=None if fingerprint is None else tuple(fingerprint),
        reference=None if searched is None else cached_model(searched).domain.reference,
    )
    with ahead, beside_workers(job.featurize_workers) as threads:

        def blocks() -> Iterator[_Block]:
            for chunk in ahead:
                if ahead.workers_done:
                    threads.restore()
                nearest = {} if searched is None or chunk.nearest is None else {searched: chunk.nearest}
                yield _Block({keys[0]: chunk.featurized}, nearest)

        yield blocks()


def _blocks_here(keys: list[str], smiles: list[Any], block_size: int) -> Iterator[_Block]:
    from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles

    for start in range(0, len(smiles), block_size):
        block = smiles[start : start + block_size]
        featurized = {}
        for key in keys:
            featurizer, fingerprint = json.loads(key)
            spec, fp = FeaturizerSpec.from_dict(featurizer), None if fingerprint is None else tuple(fingerprint)
            result = featurize_smiles(block, spec, n_jobs=1, fingerprint=fp)
            result.valid_index = result.valid_index + start
            result.invalid = [replace(bad, index=bad.index + start) for bad in result.invalid]
            featurized[key] = result
        yield _Block(featurized)


def _predict_block(
    job: ScreenJob, block: _Block
) -> tuple[np.ndarray, list[Any], np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """``(valid positions, invalid records, predictions [members, n_valid, …], domain)`` for a block
    (:func:`_featurized_blocks`); ``domain``: ``(nearest-training similarity, in_domain)`` per
    valid position over the models that have a domain (the largest similarity; in the domain of any model),
    None without a domain."""
    import torch

    from molgen.training.batches import GraphCollate

    predictions = []
    similarity: np.ndarray | None = None
    in_domain: np.ndarray | None = None
    for ref in job.models:
        model = cached_model(ref)
        domain = model.domain if job.domain else None
        result = block.featurized[_featurizer_key(job, ref)]
        collate = GraphCollate(result.graphs)
        rows = np.arange(len(result.graphs))
        predictions += [member.predict_rows(collate, rows, job.batch_size, job.precision) for member in model.members]
        if domain is not None:
            found = block.nearest.get(ref)
            if found is None:
                found = domain.reference.nearest(result.fingerprints)
            inside = found >= domain.threshold
            similarity = found if similarity is None else np.maximum(similarity, found)
            in_domain = inside if in_domain is None else in_domain | inside
    result = next(iter(block.featurized.values()))
    stacked = torch.stack(predictions).double().numpy() if predictions else np.zeros((0, 0))
    domain_columns = None if similarity is None or in_domain is None else (similarity, in_domain)
    return result.valid_index, result.invalid, stacked, domain_columns


def _apply_filters(names: Sequence[str], smiles: list[str]) -> tuple[list[bool], list[str | None], list[str | None]]:
    """Per molecule: passes every filter, the failed filters' names and their reasons."""
    if not names:
        return [True] * len(smiles), [None] * len(smiles), [None] * len(smiles)
    from molgen.chem.molecules import iter_molecules

    filters = list(zip(names, get_filters(names)))
    passes, failed, why = [], [], []
    for _, mol, _ in iter_molecules(smiles):
        hits = [(name, reason) for name, check in filters if (reason := check(mol)) is not None]
        passes.append(not hits)
        failed.append(",".join(name for name, _ in hits) or None)
        why.append("; ".join(f"{name}: {reason}" for name, reason in hits) or None)
    return passes, failed, why
