"""``FingerprintMLP``: a multilayer perceptron encoder over Morgan count fingerprints."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from molgen.errors import ConfigError


class FingerprintMLP(nn.Module):
    """``log1p(counts)`` → ``(Linear → ReLU → Dropout)`` per hidden width.

    Counts are compressed with ``log1p`` so that a fragment seen 20 times does not dominate one seen once.
    Only ``Linear``, ``ReLU`` and ``Dropout``: Opacus computes its per-sample gradients exactly (DP-SGD).

    Args:
        in_dim: fingerprint length (``n_bits``).
        hidden_dims: width of each hidden layer (at least one).
        dropout: dropout probability after each hidden layer.

    Shapes:
        batch with ``x [B, in_dim]`` float counts → ``[B, out_dim]`` with ``out_dim = hidden_dims[-1]``.
    """

    def __init__(self, in_dim: int, hidden_dims: list[int], dropout: float = 0.0) -> None:
        super().__init__()
        if not hidden_dims or min(hidden_dims) < 1:
            raise ConfigError(f"fpmlp needs at least one hidden width >= 1, got {hidden_dims}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        self.hparams: dict[str, Any] = {"in_dim": in_dim, "hidden_dims": list(hidden_dims), "dropout": dropout}
        layers: list[nn.Module] = []
        for d_in, d_out in zip([in_dim, *hidden_dims[:-1]], hidden_dims, strict=True):
            layers += [nn.Linear(d_in, d_out), nn.ReLU(), nn.Dropout(dropout)]
        self.net = nn.Sequential(*layers)
        self.out_dim: int = hidden_dims[-1]

    def forward(self, batch: Any) -> Tensor:
        x = batch.x
        if x.dim() != 2 or x.size(1) != self.hparams["in_dim"]:
            raise ValueError(f"FingerprintMLP expects x of shape [B, {self.hparams['in_dim']}], got {list(x.shape)}")
        return self.net(torch.log1p(x))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hparams.items())
        return f"{type(self).__name__}({args})"
