"""The exported form of a supervised model (plain ``nn.Module``; no Lightning, so prediction starts fast)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from molgen.training.tasks import Task

PRECISIONS = ("32", "bf16-mixed")
"""Inference precisions: float32, or bfloat16 autocast (the dense layers and the D-MPNN's message sums)."""


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`, else a :class:`~molgen.errors.ConfigError` listing them."""
    if precision not in PRECISIONS:
        from molgen.errors import ConfigError

        raise ConfigError(f"unknown inference precision {precision!r}; valid: {', '.join(PRECISIONS)}")
    return precision


class Predictor(nn.Module):
    """The exported form of a supervised model: ``task.predict(head(encoder(batch)))``.

    Its state-dict keys (``encoder.*``, ``head.*``, ``task.*``) match :class:`SupervisedModule`'s.
    """

    def __init__(self, encoder: nn.Module, head: nn.Module, task: Task) -> None:
        super().__init__()
        self.encoder, self.head, self.task = encoder, head, task

    def forward(self, batch: Any) -> torch.Tensor:
        return self.task.predict(self.head(self.encoder(batch)))

    def outputs(self, batch: Any, precision: str = "32") -> torch.Tensor:
        """``head(encoder(batch))`` in float32; with ``precision="bf16-mixed"`` computed under bfloat16 autocast
        (about 2× faster on a CPU with AVX512-BF16; predictions move by ~0.1 % of their scale), the outputs
        cast back to float32 before the task unscales them. A graph batch is then padded to repeating shapes
        (:func:`~molgen.training.batches.padded_graph_batch`) so oneDNN's per-shape kernels are reused."""
        if check_precision(precision) == "32":
            return self.head(self.encoder(batch))
        from molgen.training.batches import padded_graph_batch

        n_rows = None
        if hasattr(batch, "edge_index"):
            batch, n_rows = padded_graph_batch(batch)
        with torch.autocast(next(self.parameters()).device.type, dtype=torch.bfloat16):
            out = self.head(self.encoder(batch))
        return out[:n_rows].float()

    @torch.inference_mode()
    def predict_rows(self, collate: Any, indices: Any, batch_size: int = 256, precision: str = "32") -> torch.Tensor:
        """Predictions for rows ``indices`` of a collate's data, in batches; ``[n, T]`` (``[n, T, C]``)."""
        self.eval()
        parts = [
            self.task.predict(self.outputs(collate(indices[start : start + batch_size]), precision))
            for start in range(0, len(indices), batch_size)
        ]
        return torch.cat(parts) if parts else torch.empty(0, self.task.n_targets)

    @torch.inference_mode()
    def predict_samples(
        self, collate: Any, indices: Any, *, batch_size: int = 256, mc_samples: int = 0, precision: str = "32"
    ) -> dict[str, torch.Tensor]:
        """The task's ``predict_dist`` for rows ``indices``, each value ``[S, n, …]``: ``S = 1`` deterministic pass,
        or ``S = mc_samples`` passes with dropout on (MC dropout; batch norm stays in eval mode; masks seeded with 0,
        the global RNG left as it was); ``precision`` as in :meth:`outputs`."""
        from molgen.training.uncertainty import dropout_on

        self.eval()
        passes = []
        rng = torch.random.fork_rng() if mc_samples > 0 else contextlib.nullcontext()
        with rng:  # MC-dropout masks seeded: predicting the same rows twice gives the same values
            if mc_samples > 0:
                torch.manual_seed(0)
            for _ in range(max(mc_samples, 1)):
                with dropout_on(self) if mc_samples > 0 else contextlib.nullcontext():
                    parts = [
                        self.task.predict_dist(self.outputs(collate(indices[start : start + batch_size]), precision))
                        for start in range(0, len(indices), batch_size)
                    ]
                if not parts:
                    parts = [self.task.predict_dist(torch.empty(0, self.task.output_dim))]
                passes.append({key: torch.cat([p[key] for p in parts]) for key in parts[0]})
        return {key: torch.stack([p[key] for p in passes]) for key in passes[0]}


def member_predictions(
    members: list[Predictor], x: torch.Tensor, *, batch_size: int = 256, rc_average: bool = True
) -> torch.Tensor:
    """Predictions of every DNA member ``[M, N, T]`` (``[M, N, T, C]`` multiclass) for one-hot ``x [N, 4, L]``,
    each the mean of the forward and reverse-complement strands when ``rc_average``."""
    from molgen.genomics.encoding import reverse_complement_onehot
    from molgen.training.batches import SequenceBatch

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
                    pred = (pred + member(SequenceBatch(reverse_complement_onehot(chunk)))) / 2
                parts.append(pred.float().cpu())
            outputs.append(torch.cat(parts) if parts else torch.empty(0, member.task.n_targets))
    return torch.stack(outputs)


def predict_onehot(
    members: list[Predictor], x: torch.Tensor, *, batch_size: int = 256, rc_average: bool = True
) -> torch.Tensor:
    """Mean prediction of the DNA members ``[N, T]`` (user units) for one-hot ``x [N, 4, L]``; with
    ``rc_average`` each member's prediction is the mean over the forward and the reverse-complement strand.
    Pass ``rc_average=spec.reverse_complement.predict_average`` to predict as ``molgen predict`` does."""
    return member_predictions(members, x, batch_size=batch_size, rc_average=rc_average).mean(0)


def sequence_predictions(
    members: list[Predictor],
    sequences: Sequence[str],
    encode: Callable[[Sequence[str]], np.ndarray],
    *,
    batch_size: int = 256,
    rc_average: bool = True,
    chunk: int = 4096,
) -> np.ndarray:
    """:func:`member_predictions` ``[M, N, T]`` of DNA ``sequences``, one-hot encoded by ``encode`` (``[n, 4, L]``)
    ``chunk`` sequences at a time, so memory stays bounded for any number of sequences."""
    parts = [
        member_predictions(
            members, torch.from_numpy(encode(sequences[i : i + chunk])), batch_size=batch_size, rc_average=rc_average
        ).numpy()
        for i in range(0, len(sequences), chunk)
    ]
    return np.concatenate(parts, axis=1)
