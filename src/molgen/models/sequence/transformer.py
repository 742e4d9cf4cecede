"""Enformer-style hybrid: a convolutional stem, then self-attention over the downsampled positions."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from molgen.errors import ConfigError
from molgen.models.sequence.base import (
    SequenceReadout,
    check_sizes,
    conv_bn,
    input_tensor,
    pool_sizes,
    pooled_length,
    reset_children,
)


def sinusoidal_positions(n: int, dim: int, device: Any = None, dtype: Any = None) -> Tensor:
    """``[n, dim]`` fixed sine/cosine position encodings (Vaswani et al. 2017)."""
    position = torch.arange(n, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(n, dim, device=device)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq[: dim // 2])
    return table.to(dtype) if dtype is not None else table


MAX_TOKENS = 128
"""The stem adds ``conv → max-pool 2`` stages (at least two) until at most this many positions remain."""


class ConvTransformer(nn.Module):
    """Conv stem (``conv → BN → GELU → max-pool 2`` stages: two, more for long inputs, so that at most
    ``MAX_TOKENS`` positions reach attention, whose cost grows with their square), fixed sinusoidal
    position encodings, ``depth`` pre-norm transformer layers (GELU feed-forward of width 2C), a final
    layer norm, then a readout.

    A small take on Enformer (`Avsec et al. 2021 <https://doi.org/10.1038/s41592-021-01252-x>`_):
    the same conv-then-attention split, with plain max pooling and absolute position encodings instead
    of Enformer's attention pooling and relative positional basis functions.

    Args:
        length: input length ``L``.
        hidden_dim: channels / model width ``C`` (divisible by ``n_heads``).
        depth: transformer layers.
        dropout: attention and feed-forward dropout.
        kernel_size: width of the stem's first filters; default 15.
        readout: ``flatten`` (default), ``mean`` or ``max``.
        n_heads: attention heads.

    Shapes:
        ``x [B, 4, L]`` (or a batch with ``.x``) → ``[B, out_dim]``.
    """

    def __init__(
        self,
        length: int,
        hidden_dim: int = 64,
        depth: int = 2,
        dropout: float = 0.1,
        kernel_size: int | None = None,
        readout: str | None = None,
        n_heads: int = 4,
    ) -> None:
        super().__init__()
        check_sizes(length, hidden_dim, depth, dropout)
        if n_heads < 1 or hidden_dim % n_heads:
            raise ConfigError(f"hidden_dim ({hidden_dim}) must be divisible by n_heads ({n_heads})")
        self.length, self.hidden_dim, self.depth, self.dropout = length, hidden_dim, depth, dropout
        self.kernel_size, self.n_heads = kernel_size or 15, n_heads
        stages = 2
        while length // 2**stages > MAX_TOKENS and stages < 7:
            stages += 1
        self.pools = pool_sizes(length, [2] * stages, min_length=4)
        stem: list[nn.Module] = []
        for i, (kernel, pool) in enumerate(zip((self.kernel_size, *[5] * (stages - 1)), self.pools, strict=True)):
            stem += [*conv_bn(4 if i == 0 else hidden_dim, hidden_dim, kernel), nn.GELU()]
            if pool > 1:
                stem.append(nn.MaxPool1d(pool))
        self.stem = nn.Sequential(*stem)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                hidden_dim,
                n_heads,
                dim_feedforward=2 * hidden_dim,
                dropout=dropout,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            for _ in range(depth)
        )
        self.norm = nn.LayerNorm(hidden_dim)
        self.readout = SequenceReadout(readout or "flatten", hidden_dim, pooled_length(length, self.pools))
        self.out_dim = self.readout.out_dim

    def reset_parameters(self) -> None:
        reset_children(self)

    def forward(self, batch: Any) -> Tensor:
        h = self.stem(input_tensor(batch)).transpose(1, 2)  # [B, T, C]
        h = h + sinusoidal_positions(h.shape[1], self.hidden_dim, h.device, h.dtype)
        for layer in self.layers:
            h = layer(h)
        return self.readout(self.norm(h).transpose(1, 2))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(length={self.length}, hidden_dim={self.hidden_dim}, depth={self.depth}, "
            f"n_heads={self.n_heads}, kernel_size={self.kernel_size}, dropout={self.dropout}, "
            f"readout={self.readout.kind!r}, out_dim={self.out_dim})"
        )
