"""The exported form of a supervised model (plain ``nn.Module``; no Lightning, so prediction starts fast)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from molgen.training.tasks import Task


class Predictor(nn.Module):
    """The exported form of a supervised model: ``task.predict(head(encoder(batch)))``.

    Its state-dict keys (``encoder.*``, ``head.*``, ``task.*``) match :class:`SupervisedModule`'s.
    """

    def __init__(self, encoder: nn.Module, head: nn.Module, task: Task) -> None:
        super().__init__()
        self.encoder, self.head, self.task = encoder, head, task

    def forward(self, batch: Any) -> torch.Tensor:
        return self.task.predict(self.head(self.encoder(batch)))

    @torch.inference_mode()
    def predict_rows(self, collate: Any, indices: Any, batch_size: int = 256) -> torch.Tensor:
        """Predictions for rows ``indices`` of a collate's data, in batches; ``[n, T]`` (``[n, T, C]``)."""
        self.eval()
        parts = [self(collate(indices[start : start + batch_size])) for start in range(0, len(indices), batch_size)]
        return torch.cat(parts) if parts else torch.empty(0, self.task.n_targets)
