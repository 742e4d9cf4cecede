"""Basset/DeepSEA-style convolutional network."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from molgen.models.sequence.base import (
    SequenceReadout,
    check_sizes,
    conv_bn,
    input_tensor,
    pool_sizes,
    pooled_length,
    reset_children,
)

_KERNELS = (11, 7, 5)  # Basset's second and third layers, then 5 for deeper stacks
_POOLS = (3, 4, 4)


class BassetCNN(nn.Module):
    """Stacked ``conv → batch norm → ReLU → max-pool → dropout`` blocks, then a readout.

    After Basset (`Kelley et al. 2016 <https://doi.org/10.1101/gr.200535.115>`_): first filters of width
    19, then 11 and 7, pooling 3, 4, 4; the fully connected layers are the prediction head. Every conv
    layer has ``hidden_dim`` filters (Basset: 300/200/200, a GPU size; the default 128 trains on a CPU).
    A pooling step that would leave fewer than two positions is skipped, so short inputs (50 bp) work too.

    Args:
        length: input length ``L`` (the flatten readout's size depends on it).
        hidden_dim: filters per conv layer.
        depth: conv blocks.
        dropout: after every block.
        kernel_size: width of the first layer's filters (motif detectors); default 19.
        readout: ``flatten`` (default, position-aware like Basset's dense layer), ``mean`` or ``max``.

    Shapes:
        ``x [B, 4, L]`` (or a batch with ``.x``) → ``[B, out_dim]``.
    """

    def __init__(
        self,
        length: int,
        hidden_dim: int = 128,
        depth: int = 3,
        dropout: float = 0.2,
        kernel_size: int | None = None,
        readout: str | None = None,
    ) -> None:
        super().__init__()
        check_sizes(length, hidden_dim, depth, dropout)
        self.length, self.hidden_dim, self.depth, self.dropout = length, hidden_dim, depth, dropout
        self.kernel_size = kernel_size or 19
        kernels = [self.kernel_size] + [_KERNELS[min(i, len(_KERNELS) - 1)] for i in range(depth - 1)]
        self.pools = pool_sizes(length, [_POOLS[min(i, len(_POOLS) - 1)] for i in range(depth)])
        blocks: list[nn.Module] = []
        for i, (kernel, pool) in enumerate(zip(kernels, self.pools, strict=True)):
            layers = [*conv_bn(4 if i == 0 else hidden_dim, hidden_dim, kernel), nn.ReLU()]
            if pool > 1:
                layers.append(nn.MaxPool1d(pool))
            layers.append(nn.Dropout(dropout))
            blocks.append(nn.Sequential(*layers))
        self.blocks = nn.Sequential(*blocks)
        self.readout = SequenceReadout(readout or "flatten", hidden_dim, pooled_length(length, self.pools))
        self.out_dim = self.readout.out_dim

    def reset_parameters(self) -> None:
        reset_children(self)

    def forward(self, batch: Any) -> Tensor:
        return self.readout(self.blocks(input_tensor(batch)))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(length={self.length}, hidden_dim={self.hidden_dim}, depth={self.depth}, "
            f"kernel_size={self.kernel_size}, pools={self.pools}, dropout={self.dropout}, "
            f"readout={self.readout.kind!r}, out_dim={self.out_dim})"
        )
