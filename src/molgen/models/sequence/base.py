"""Pieces every DNA encoder shares: reading the one-hot input, pooling sizes and the readout.

Every sequence encoder maps a batch with ``x`` one-hot ``float32 [B, 4, L]`` (or that tensor itself) to
``[B, out_dim]``. It reads ``x`` with differentiable operations only, so gradient × input attributions
work on the one-hot input.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from molgen.errors import ConfigError, UnknownNameError

READOUTS = ("flatten", "mean", "max")
MAX_BINS = 16
"""``flatten`` readout: positions are average-pooled to at most this many bins before flattening."""


def input_tensor(batch: Any) -> Tensor:
    """``batch.x`` of a :class:`~molgen.training.datamodules.SequenceBatch`, or a tensor ``[B, 4, L]``."""
    x = batch.x if hasattr(batch, "x") else batch
    if x.dim() != 3 or x.shape[1] != 4:
        raise ValueError(f"expected one-hot DNA of shape [B, 4, L], got {tuple(x.shape)}")
    return x


def pool_sizes(length: int, wanted: list[int], min_length: int = 2) -> list[int]:
    """Pool size per stage: the wanted one, or 1 where pooling would leave fewer than ``min_length`` positions."""
    sizes = []
    for size in wanted:
        if size > 1 and length // size >= min_length:
            sizes.append(size)
            length //= size
        else:
            sizes.append(1)
    return sizes


def pooled_length(length: int, sizes: list[int]) -> int:
    for size in sizes:
        length //= size
    return length


class SequenceReadout(nn.Module):
    """Positions → one vector per sequence.

    Args:
        kind: ``flatten`` (average-pool to at most ``MAX_BINS`` bins, then concatenate: keeps coarse
            position, as Basset's fully connected layer does), ``mean`` or ``max`` (global pooling).
        channels: channels of the input.
        length: positions of the input (fixed by the model's input length).

    Shapes:
        ``[B, channels, length]`` → ``[B, out_dim]``.
    """

    def __init__(self, kind: str, channels: int, length: int) -> None:
        super().__init__()
        if kind not in READOUTS:
            raise UnknownNameError(f"unknown sequence readout {kind!r}; valid names: {', '.join(READOUTS)}")
        if length < 1:
            raise ValueError(f"the readout needs at least one position, got length {length}")
        self.kind, self.channels, self.length = kind, channels, length
        self.bins = min(length, MAX_BINS)
        self.out_dim = channels * self.bins if kind == "flatten" else channels

    def reset_parameters(self) -> None:
        pass

    def forward(self, h: Tensor) -> Tensor:
        if self.kind == "mean":
            return h.mean(-1)
        if self.kind == "max":
            return h.amax(-1)
        if h.shape[-1] != self.bins:
            h = nn.functional.adaptive_avg_pool1d(h, self.bins)
        return h.flatten(1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.kind!r}, channels={self.channels}, length={self.length}, out_dim={self.out_dim})"


def conv_bn(c_in: int, c_out: int, kernel: int, dilation: int = 1) -> nn.Sequential:
    """``Conv1d`` (length-preserving padding, no bias) followed by ``BatchNorm1d``."""
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, kernel, padding="same", dilation=dilation, bias=False), nn.BatchNorm1d(c_out)
    )


def reset_children(module: nn.Module) -> None:
    for child in module.modules():
        reset = getattr(child, "reset_parameters", None) if child is not module else None
        if reset is not None:
            reset()


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def check_sizes(length: int, hidden_dim: int, depth: int, dropout: float) -> None:
    if length < 1:
        raise ConfigError(f"sequence length must be >= 1, got {length}")
    if hidden_dim < 1 or depth < 1:
        raise ConfigError(f"hidden_dim and depth must be >= 1, got {hidden_dim} and {depth}")
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"dropout must be in [0, 1), got {dropout}")


__all__ = [
    "MAX_BINS",
    "READOUTS",
    "SequenceReadout",
    "check_sizes",
    "conv_bn",
    "count_parameters",
    "input_tensor",
    "pool_sizes",
    "pooled_length",
    "reset_children",
]
