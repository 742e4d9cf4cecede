"""Basenji-style dilated residual convolutional network."""

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


class DilatedResidualBlock(nn.Module):
    """Basenji's dilated block: ``GELU → conv(k=3, dilation d, C → C/2) → BN → GELU → conv 1×1 (C/2 → C)
    → BN → dropout``, added to its input.

    Shapes:
        ``[B, C, L] → [B, C, L]``.
    """

    def __init__(self, channels: int, dilation: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.channels, self.dilation = channels, dilation
        inner = max(channels // 2, 1)
        self.body = nn.Sequential(
            nn.GELU(),
            *conv_bn(channels, inner, 3, dilation),
            nn.GELU(),
            *conv_bn(inner, channels, 1),
            nn.Dropout(dropout),
        )

    def reset_parameters(self) -> None:
        reset_children(self)

    def forward(self, h: Tensor) -> Tensor:
        return h + self.body(h)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(channels={self.channels}, dilation={self.dilation})"


class DilatedCNN(nn.Module):
    """A convolutional stem that downsamples 4× (two conv + max-pool 2 stages), then ``depth`` dilated
    residual blocks with dilation 1, 2, 4, … so the receptive field grows exponentially with depth.

    After Basenji (`Kelley et al. 2018 <https://doi.org/10.1101/gr.227819.117>`_), scaled down to
    sequence-level outputs: Basenji predicts coverage per 128-bp bin of a 131-kb input; here a readout
    turns the positions into one vector per sequence.

    Args:
        length: input length ``L``.
        hidden_dim: channels ``C`` of the stem and the residual tower.
        depth: dilated residual blocks.
        dropout: inside every residual block.
        kernel_size: width of the stem's first filters; default 15.
        readout: ``flatten`` (default), ``mean`` or ``max``.

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
        self.kernel_size = kernel_size or 15
        self.pools = pool_sizes(length, [2, 2], min_length=4)
        stem: list[nn.Module] = []
        for i, (kernel, pool) in enumerate(zip((self.kernel_size, 5), self.pools, strict=True)):
            stem += [*conv_bn(4 if i == 0 else hidden_dim, hidden_dim, kernel), nn.GELU()]
            if pool > 1:
                stem.append(nn.MaxPool1d(pool))
        self.stem = nn.Sequential(*stem)
        self.tower = nn.Sequential(*(DilatedResidualBlock(hidden_dim, 2**i, dropout) for i in range(depth)))
        self.final = nn.Sequential(nn.GELU(), *conv_bn(hidden_dim, hidden_dim, 1), nn.GELU())
        self.readout = SequenceReadout(readout or "flatten", hidden_dim, pooled_length(length, self.pools))
        self.out_dim = self.readout.out_dim

    def reset_parameters(self) -> None:
        reset_children(self)

    def forward(self, batch: Any) -> Tensor:
        return self.readout(self.final(self.tower(self.stem(input_tensor(batch)))))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(length={self.length}, hidden_dim={self.hidden_dim}, depth={self.depth}, "
            f"kernel_size={self.kernel_size}, dilations={[2**i for i in range(self.depth)]}, dropout={self.dropout}, "
            f"readout={self.readout.kind!r}, out_dim={self.out_dim})"
        )
