"""Which bases drive a DNA model's prediction: in-silico saturation mutagenesis and gradient × input.

* **ISM** predicts every single-base mutant of a sequence (``3·L`` of them; ``4`` per ``N``) in
  batches and scores each as ``prediction(mutant) − prediction(reference)``: a ``[4, L]`` matrix per
  target, zero at the reference base. A position's *importance* is minus the mean effect of its
  mutations (positive where mutating the base lowers the prediction).
* **Gradient × input** differentiates the members' mean prediction (averaged with the reverse
  complement's, as prediction is) with respect to the one-hot input. The gradient is centered over the
  four bases at each position before multiplying by the input (Majdandzic et al. 2023,
  doi:10.1186/s13059-023-02956-3), which removes the part that no one-hot input can see.

Both work on any ensemble of modules that take a ``SequenceBatch`` (``x`` of shape ``[B, 4, L]``);
:class:`SequenceModel` adapts an exported expression model (``molgen.analysis.prediction.load_model``).
:func:`compute_attributions` runs them over many sequences, and :func:`annotate_motifs` finds the JASPAR
motifs that best match each sequence's top-attribution windows. :mod:`molgen.genomics.attribution_report` writes the
files of ``molgen attribute``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import torch

from molgen.errors import InvalidInputError

if TYPE_CHECKING:
    from molgen.training.predictor import Predictor

from molgen.errors import UnknownNameError

Predict = Callable[[torch.Tensor], torch.Tensor]

METHODS = ("ism", "gradxinput", "both")

__all__ = [
    "METHODS",
    "Attributions",
    "SequenceModel",
    "annotate_motifs",
    "compute_attributions",
    "grad_x_input",
    "ism",
    "ism_importance",
    "top_windows",
]


@dataclasses.dataclass
class SequenceModel:
    """What attributions and variant effects need from a DNA model: its members, input length,
    target names and encoding, with batched prediction (``predict_onehot``) and a differentiable
    forward pass.

    Args:
        members: ensemble members (``torch.nn.Module`` in eval mode) taking a ``SequenceBatch``.
        length: the model's input length ``L``; sequences are padded/cropped to it.
        targets: output names, one per column of a prediction (a multiclass target gives one
            ``<target>_prob_<c>`` column per class).
        n_value: how ``N`` is encoded (the model's ``spec["input"]["n_value"]``).
        pad: where sequences are padded or cropped (``center``, ``left``, ``right``), as in training.
        rc_average: average each prediction with the reverse complement's.
        batch_size: sequences per forward pass.
    """

    members: Sequence[torch.nn.Module]
    length: int
    targets: list[str]
    n_value: str = "uniform"
    pad: str = "center"
    rc_average: bool = True
    batch_size: int = 256

    @classmethod
    def from_loaded(cls, model: Any, *, rc_average: bool | None = None, batch_size: int = 256) -> SequenceModel:
        """From ``molgen.analysis.prediction.load_model(dir)``; only DNA (``expression``) models qualify.
        ``rc_average`` defaults to what ``molgen predict`` does for the model."""
        spec, source = model.spec, model.spec.input
        if spec.family != "expression" or source is None or source.kind != "dna" or spec.task is None:
            raise ValueError(
                f"{model.path} is a {spec.family!r} model; attributions and variant effects need a DNA "
                "sequence model (family 'expression', trained with molgen train on sequences)"
            )
        targets = [str(t) for t in spec.task.targets]
        if spec.task.type == "multiclass":
            targets = [f"{t}_prob_{c}" for t in targets for c in range(int(spec.task.n_classes or 0))]
        if rc_average is None:
            rc_average = spec.reverse_complement is not None and spec.reverse_complement.predict_average
        return cls(
            members=list(model.members),
            length=int(source.length or 0),
            targets=targets,
            n_value=source.n_value or "uniform",
            pad=source.pad or "center",
            rc_average=rc_average,
            batch_size=batch_size,
        )

    def target_index(self, name: str | None) -> int:
        """Column of target ``name`` (the first target when ``None``); a miss lists the targets."""
        if name is None:
            return 0
        if name not in self.targets:
            raise UnknownNameError(f"unknown target {name!r}; the model's targets are: {', '.join(self.targets)}")
        return self.targets.index(name)

    def offset(self, n: int) -> int:
        """Where the first base of an ``n``-base sequence lands in the ``L``-base input (negative when
        cropped), following ``one_hot(pad=...)``: with ``center`` an odd remainder goes to the right."""
        excess = abs(self.length - n)
        shift = {"center": excess // 2, "right": 0, "left": excess}[self.pad]
        return shift if n <= self.length else -shift

    def encode(self, sequences: Sequence[str]) -> torch.Tensor:
        """Strings → one-hot ``[N, 4, L]`` float32, padded/cropped to ``L`` (padding is all-zero
        columns) exactly as the model saw its training data."""
        from molgen.genomics.encoding import one_hot

        x = one_hot(list(sequences), length=self.length, n_value=self.n_value, pad=self.pad)
        return torch.from_numpy(np.ascontiguousarray(x))

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, 4, L]`` → ``[N, T]`` predictions (ensemble mean, batched, no gradients)."""
        from molgen.training.predictor import predict_onehot

        # predict_onehot only calls the members (its annotation names the Predictors it usually gets)
        members = cast("list[Predictor]", list(self.members))
        out = predict_onehot(members, x, batch_size=self.batch_size, rc_average=self.rc_average)
        return out.reshape(len(x), -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Differentiable ``[B, 4, L]`` → ``[B, T]``: the mean over members (and over both strands)."""
        from molgen.training.batches import SequenceBatch

        def mean_prediction(inputs: torch.Tensor) -> torch.Tensor:
            outs = []
            for member in self.members:
                device = next(iter(member.parameters()), inputs).device
                outs.append(member(SequenceBatch(x=inputs.to(device))).float().to(inputs.device))
            return torch.stack(outs).mean(0).reshape(len(inputs), -1)

        out = mean_prediction(x)
        if self.rc_average:
            out = 0.5 * (out + mean_prediction(x.flip(1, 2)))  # ACGT: complement = reversed channels
        return out


def ism(
    predict: Predict, x: torch.Tensor, *, span: tuple[int, int] | None = None, chunk_size: int = 1024
) -> tuple[torch.Tensor, torch.Tensor]:
    """In-silico saturation mutagenesis of one sequence.

    Every base that is not already 1 at a position (3 per ACGT base, 4 per ``N``) is substituted in
    turn; ``chunk_size`` mutants at a time go to ``predict`` (which batches them itself). ``span``
    ``(start, end)`` limits the mutated positions (the sequence, not its padding).

    Shapes:
        x: ``[4, L]`` one-hot.
        returns: ``(reference [T], effects [T, 4, L])`` with ``effects = mutant − reference`` (0 at the
        reference base).
    """
    if x.ndim != 2 or x.shape[0] != 4:
        raise ValueError(f"ism expects one one-hot sequence [4, L], got shape {tuple(x.shape)}")
    x = x.float()
    reference = predict(x[None])[0].float()
    mutable = x < 1.0
    if span is not None:
        mutable[:, : span[0]] = False
        mutable[:, span[1] :] = False
    bases, positions = torch.nonzero(mutable, as_tuple=True)
    effects = torch.zeros(reference.shape[0], 4, x.shape[1])
    for start in range(0, len(bases), chunk_size):
        b, p = bases[start : start + chunk_size], positions[start : start + chunk_size]
        rows = torch.arange(len(b))
        mutants = x.expand(len(b), -1, -1).clone()
        mutants[rows, :, p] = 0.0
        mutants[rows, b, p] = 1.0
        preds = predict(mutants).float()  # [k, T]
        effects[:, b, p] = (preds - reference).T
    return reference, effects


def ism_importance(effects: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per-position importance from an ISM matrix: minus the mean effect of the mutations.

    Shapes: ``effects`` ``[..., 4, L]``, ``x`` ``[..., 4, L]`` one-hot → ``[..., L]``.
    """
    mutated = (np.asarray(x) < 1.0).sum(axis=-2)
    return -np.asarray(effects).sum(axis=-2) / np.maximum(mutated, 1)


def grad_x_input(
    forward: Predict, x: torch.Tensor, target: int, *, batch_size: int = 256, correct: bool = True
) -> torch.Tensor:
    """Gradient × input of output ``target``.

    ``forward`` must be differentiable (:meth:`SequenceModel.forward`). With ``correct`` the gradient
    is centered over the four bases at each position first.

    Shapes:
        x: ``[N, 4, L]`` one-hot.
        returns: ``[N, 4, L]``; for ACGT bases only the reference base's row is non-zero.
    """
    parts = []
    for start in range(0, len(x), batch_size):
        chunk = x[start : start + batch_size].detach().float().clone().requires_grad_(True)
        with torch.enable_grad():
            out = forward(chunk)[:, target].sum()
            (grad,) = torch.autograd.grad(out, chunk)
        if correct:
            grad = grad - grad.mean(dim=1, keepdim=True)
        parts.append((grad * chunk).detach())
    return torch.cat(parts) if parts else torch.empty_like(x)


def top_windows(
    track: np.ndarray, width: int, n: int, *, valid: tuple[int, int] | None = None
) -> list[tuple[int, int, float]]:
    """The ``n`` non-overlapping windows of ``width`` bases with the largest total ``|track|``.

    ``valid`` ``(start, end)`` keeps windows inside that span (the real sequence, not padding).
    Returns ``(start, end, signed sum)`` with 0-based, end-exclusive coordinates, best first.
    """
    track = np.nan_to_num(np.asarray(track, dtype=np.float64))
    lo, hi = valid if valid is not None else (0, len(track))
    width = max(1, min(width, hi - lo))
    if hi - lo <= 0:
        return []
    magnitude = np.convolve(np.abs(track[lo:hi]), np.ones(width), mode="valid")
    signed = np.convolve(track[lo:hi], np.ones(width), mode="valid")
    available = np.ones(len(magnitude), dtype=bool)
    out = []
    for _ in range(n):
        if not available.any():
            break
        best = int(np.argmax(np.where(available, magnitude, -np.inf)))
        out.append((lo + best, lo + best + width, float(signed[best])))
        available[max(0, best - width + 1) : best + width] = False
    return out


@dataclasses.dataclass
class Attributions:
    """Attributions of one target for ``N`` sequences, on the model's ``L``-base input windows.

    ``offsets[i]`` is where sequence ``i``'s first base sits in its window (negative when the
    sequence was longer than ``L`` and cropped). Arrays are NaN for invalid sequences.
    """

    ids: list[str]
    sequences: list[str]
    offsets: np.ndarray  # int [N]
    valid: np.ndarray  # bool [N]
    errors: list[str]
    targets: list[str]
    target: str
    onehot: np.ndarray  # float32 [N, 4, L]
    predictions: np.ndarray  # float32 [N, T]
    ism: np.ndarray | None = None  # float32 [N, 4, L]: mutant − reference, for ``target``
    gradxinput: np.ndarray | None = None  # float32 [N, 4, L]

    @property
    def length(self) -> int:
        return int(self.onehot.shape[2])

    def span(self, i: int) -> tuple[int, int]:
        """The part of window ``i`` holding real sequence: ``(start, end)``, 0-based, end exclusive."""
        start = max(0, int(self.offsets[i]))
        return start, min(self.length, int(self.offsets[i]) + len(self.sequences[i]))

    def importance(self) -> np.ndarray:
        """``[N, L]``: ISM importance when ISM was run, else grad × input summed over bases."""
        if self.ism is not None:
            return ism_importance(self.ism, self.onehot)
        assert self.gradxinput is not None
        return self.gradxinput.sum(axis=1)

    def logo_matrix(self, i: int) -> np.ndarray:
        """``[4, L]`` letter heights: grad × input, or the one-hot scaled by ISM importance."""
        if self.gradxinput is not None:
            return self.gradxinput[i]
        return self.onehot[i] * self.importance()[i][None, :]


def compute_attributions(
    model: SequenceModel,
    records: Sequence[tuple[str, str]],
    *,
    target: str | None = None,
    method: str = "both",
) -> Attributions:
    """ISM and/or gradient × input (``method``: ``ism``, ``gradxinput``, ``both``) for ``target``
    (default: the model's first) of each ``(id, sequence)``. A sequence with characters other than
    ACGTN is reported in ``errors`` (``valid`` false), never dropped."""
    from molgen.genomics.encoding import validate_sequence

    if method not in METHODS:
        raise UnknownNameError(f"unknown attribution method {method!r}; choose one of {', '.join(METHODS)}")
    t = model.target_index(target)
    n, length = len(records), model.length
    ids, sequences, errors = [], [], []
    windows, offsets = [], np.zeros(n, dtype=np.int64)
    for i, (record_id, raw) in enumerate(records):
        ids.append(str(record_id))
        try:
            seq = validate_sequence(raw, record=str(record_id))
            if not seq:
                raise InvalidInputError(f"record {record_id}: empty sequence")
            errors.append("")
        except ValueError as err:
            seq = ""
            errors.append(str(err))
        sequences.append(seq)
        offsets[i] = model.offset(len(seq)) if seq else 0
        windows.append(seq or "N" * length)  # the encoder pads/crops, as in training
    valid = np.array([not e for e in errors], dtype=bool)
    x = model.encode(windows) if n else torch.zeros(0, 4, length)
    predictions = model.predict(x).float().numpy() if n else np.zeros((0, len(model.targets)), np.float32)
    out = Attributions(
        ids,
        sequences,
        offsets,
        valid,
        errors,
        list(model.targets),
        model.targets[t],
        x.numpy().astype(np.float32),
        predictions.astype(np.float32),
    )
    if method in ("ism", "both"):
        effects = np.full((n, 4, length), np.nan, dtype=np.float32)
        for i in np.flatnonzero(valid).tolist():
            span = out.span(i)
            effects[i] = ism(model.predict, x[i], span=span, chunk_size=4 * model.batch_size)[1][t].numpy()
        out.ism = effects
    if method in ("gradxinput", "both"):
        scores = np.full((n, 4, length), np.nan, dtype=np.float32)
        index = np.flatnonzero(valid)
        if len(index):
            scores[index] = grad_x_input(model.forward, x[index], t, batch_size=model.batch_size).numpy()
        out.gradxinput = scores
    out.predictions[~valid] = np.nan
    return out


def annotate_motifs(
    attributions: Attributions, scanner: Any, *, n_windows: int = 3, window: int = 20, top: int = 5
) -> pd.DataFrame:
    """The ``top`` best-matching motifs (by p-value) in each sequence's ``n_windows`` windows of
    largest attribution; one row per (sequence, window, motif) with 1-based, inclusive positions in
    the input sequence. ``scanner`` is a :class:`molgen.genomics.motifs.MotifScanner`."""
    flank = max(m.width for m in scanner.motifs)
    importance = attributions.importance()
    windows, pieces, regions = [], [], []
    for i in np.flatnonzero(attributions.valid).tolist():
        offset = int(attributions.offsets[i])
        spans = top_windows(importance[i], window, n_windows, valid=attributions.span(i))
        for rank, (start, end, total) in enumerate(spans, 1):
            s0, s1 = start - offset, end - offset  # window in sequence coordinates (0-based)
            lo = max(0, s0 - flank)  # scan with flanks, so a motif wider than the window fits
            windows.append((int(i), rank, s0, s1, total, lo))
            pieces.append(attributions.sequences[i][lo : s1 + flank])
            regions.append((s0 - lo, s1 - lo))
    rows = []
    for (i, rank, s0, s1, total, lo), hits in zip(windows, scanner.best_hits_many(pieces, regions, top=top)):
        for motif_rank, hit in enumerate(hits, 1):
            rows.append(
                {
                    "sequence_id": attributions.ids[i],
                    "window_rank": rank,
                    "window_start": s0 + 1,
                    "window_end": s1,
                    "window_attribution": total,
                    "motif_rank": motif_rank,
                    "motif_id": hit["motif_id"],
                    "motif_name": hit["motif_name"],
                    "score": hit["score"],
                    "p_value": hit["p_value"],
                    "start": lo + hit["start"] + 1,
                    "end": lo + hit["end"],
                    "strand": hit["strand"],
                    "match": hit["match"],
                }
            )
    columns = [
        "sequence_id",
        "window_rank",
        "window_start",
        "window_end",
        "window_attribution",
        "motif_rank",
        "motif_id",
        "motif_name",
        "score",
        "p_value",
        "start",
        "end",
        "strand",
        "match",
    ]
    return pd.DataFrame(rows, columns=columns)
