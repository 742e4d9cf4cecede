"""The served models: each exported folder loaded once per worker (``model.yaml`` + safetensors, never a
pickle), and the synchronous work of each endpoint (run in a worker thread by :mod:`molgen.serving.app`).

Predictions go through :func:`molgen.analysis.prediction.predict_frame`, the function ``molgen predict`` uses:
its one-row-per-input table becomes one item per input, every column kept."""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from pathlib import Path
from typing import Any

from molgen.errors import ConfigError, InvalidInputError, ModelFormatError
from molgen.training.artifacts import CARD_FILE, read_spec

log = logging.getLogger("molgen.serve")

PREDICT_BATCH = 256
"""Molecules or sequences per forward pass."""


@dataclasses.dataclass
class ServedModel:
    """One exported model under its served ``name``.

    Attributes:
        predictor: a :class:`molgen.analysis.prediction.LoadedModel` (property/expression) or a generator.
        precision: ``"32"`` or ``"bf16-mixed"``, the inference precision of its predictions.
        lock: one computation at a time per model (torch modules and RDKit are not shared across threads).
    """

    name: str
    folder: Path
    family: str
    input_kind: str | None
    targets: list[str]
    spec: dict[str, Any]
    card: str
    predictor: Any
    precision: str = "32"
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    @property
    def endpoints(self) -> list[str]:
        if self.family == "generation":
            return ["generate"]
        if self.input_kind == "dna":
            return ["predict", "variant-effect", "attribute"]
        return ["predict"]

    @property
    def input_column(self) -> str:
        column = self.predictor.spec.input.column
        return str(column or ("smiles" if self.input_kind == "smiles" else "sequence"))


def load_served(name: str, folder: str | Path, precision: str = "32") -> ServedModel:
    """Loads ``folder`` (a run folder or its ``model/``) as ``name``; a bad folder is a :class:`ModelFormatError`.
    ``precision`` applies to SMILES property models (``molgen predict --precision``); other models run in float32.
    """
    from molgen.analysis.prediction import load_model
    from molgen.families.generation.family import load_generator

    folder = Path(folder)
    model_dir = folder if (folder / "model.yaml").is_file() else folder / "model"
    spec = read_spec(model_dir)
    predictor = load_generator(model_dir) if spec.family == "generation" else load_model(model_dir)
    card_path = model_dir / CARD_FILE
    card = card_path.read_text(encoding="utf-8") if card_path.is_file() else ""
    targets = [str(t) for t in spec.task.targets] if spec.task is not None else []
    kind = spec.input.kind if spec.input is not None else None
    if precision != "32" and (spec.family != "property" or kind != "smiles"):
        log.info(
            "model %s (%s, %s inputs) is served in float32: --precision applies to molecule models",
            name,
            spec.family,
            kind,
        )
        precision = "32"
    log.info("loaded model %s (%s) from %s", name, spec.family, model_dir)
    plain = _plain(spec.model_dump())
    return ServedModel(name, model_dir, spec.family, kind, targets, plain, card, predictor, precision)


def predict_items(model: ServedModel, inputs: list[str]) -> list[dict[str, Any]]:
    """One item per input: the columns of ``molgen predict``'s table, ``invalid_reason`` as ``reason``."""
    import pandas as pd

    from molgen.analysis.prediction import predict_frame

    if not inputs:
        return []
    column = model.input_column
    frame = pd.DataFrame({column: inputs})
    with model.lock:
        out = predict_frame(
            model.predictor, frame, input_column=column, batch_size=PREDICT_BATCH, n_jobs=1, precision=model.precision
        )
    return [_item(row) for row in records(out)]


def records(frame: Any) -> list[dict[str, Any]]:
    """Rows of a DataFrame as dicts of plain Python values (exact floats; NaN and None → None)."""
    columns = [str(c) for c in frame.columns]
    values = [[_scalar(v) for v in frame[c].tolist()] for c in frame.columns]
    return [dict(zip(columns, row)) for row in zip(*values)]


def _scalar(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return _scalar(value.item())
    try:
        if value != value:  # pandas NA / NaT
            return None
    except (TypeError, ValueError):
        return None
    return str(value)


def _item(row: dict[str, Any]) -> dict[str, Any]:
    reason = row.pop("invalid_reason", None)
    row["reason"] = reason or None
    row["valid"] = bool(row.get("valid"))
    return row


def generate_items(
    model: ServedModel, n: int, *, seed: int | None, temperature: float | None, **objective: Any
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """``n`` sampled molecules (``valid`` says whether RDKit parses each), or with ``objective`` the best ``n``
    of a latent optimization with their scores and the before/after statistics."""
    from molgen.analysis.sampling import sample_many
    from molgen.chem.molecules import iter_molecules

    generator = model.predictor
    with model.lock:
        if objective.get("objective"):
            return _optimize(generator, n, seed=seed or 0, **objective)
        smiles = sample_many(generator, n, seed=seed, batch_size=min(n, 512), temperature=temperature)
    invalid = {i for i, mol, _ in iter_molecules(smiles) if mol is None}
    return [{"smiles": s, "valid": i not in invalid} for i, s in enumerate(smiles)], None


def _optimize(
    generator: Any, n: int, *, seed: int, objective: str, direction: str, rounds: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from molgen.analysis.design import build_objective, optimize_latent
    from molgen.analysis.sampling import _finite
    from molgen.models.generative import LatentGenerator

    if not isinstance(generator, LatentGenerator):
        raise ConfigError(f"objective needs a generator with a latent space (VAE); {type(generator).__name__} has none")
    result = optimize_latent(generator, build_objective(objective, direction), n, seed=seed, rounds=rounds)
    items = [{"smiles": s, "valid": True, "score": float(v)} for s, v in zip(result.smiles, result.scores)]
    return items, _finite(result.summary())


def variant_effect_items(
    model: ServedModel, sequences: dict[str, str], variants: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Effects (``<target>_ref``/``_alt``/``_diff``) of each variant on the inline sequences, in order."""
    import pandas as pd

    from molgen.genomics.variant_effects import score_variants

    table = pd.DataFrame(variants, columns=["variant_id", "sequence_id", "position", "ref", "alt"])
    table["variant_id"] = [v or f"variant_{i + 1}" for i, v in enumerate(table["variant_id"])]
    with model.lock:
        out = score_variants(_sequence_model(model), sequences, table)
    rows = records(out)
    for row in rows:
        row["reason"] = row.pop("error", None) or None
    return rows


def attribute_items(model: ServedModel, sequences: list[str], *, target: str | None, method: str) -> list[dict]:
    """Per-sequence predictions and per-base importance (``[L]``, NaN-free; ``None`` for invalid items)."""
    from molgen.genomics.attribution import compute_attributions

    seq_model = _sequence_model(model)
    records = [(f"sequence_{i + 1}", s) for i, s in enumerate(sequences)]
    with model.lock:
        attributions = compute_attributions(seq_model, records, target=target, method=method)
    importance = attributions.importance()
    items = []
    for i in range(len(sequences)):
        valid = bool(attributions.valid[i])
        item: dict[str, Any] = {"valid": valid, "reason": attributions.errors[i] or None}
        item["target"] = attributions.target
        item["offset"] = int(attributions.offsets[i])
        for t, name in enumerate(attributions.targets):
            value = float(attributions.predictions[i, t])
            item[name] = value if valid and math.isfinite(value) else None
        item["importance"] = [float(v) for v in importance[i]] if valid else None
        items.append(item)
    return items


def _sequence_model(model: ServedModel) -> Any:
    from molgen.genomics.attribution import SequenceModel

    if model.input_kind != "dna":
        raise InvalidInputError(f"model {model.name!r} is a {model.family} model, not a DNA sequence model")
    return SequenceModel.from_loaded(model.predictor)


def _plain(value: Any) -> Any:
    """``model.yaml`` values as JSON-safe primitives (NaN → None)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ModelFormatError(f"model.yaml holds a {type(value).__name__}, not a plain value")
