"""Shared building blocks: MLPs, graph readouts and molecule-level feature concatenation.

Plain ``torch.nn``; sizes come in as ints. A readout maps atom vectors to one row per
graph and always returns ``num_graphs`` rows, also for graphs that have no atoms.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, cast

import torch
from torch import Tensor, nn
from torch_geometric.nn.aggr import AttentionalAggregation
from torch_geometric.utils import scatter

from molgen.errors import ConfigError, UnknownNameError

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "selu": nn.SELU,
    "prelu": nn.PReLU,
    "tanh": nn.Tanh,
}


def build_activation(name: str) -> nn.Module:
    """Return a fresh activation module by name (see ``ACTIVATIONS``).

    Raises:
        ValueError: if ``name`` is unknown; the message lists the valid names.
    """
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; valid names: {sorted(ACTIVATIONS)}") from None


def reset_module(module: nn.Module) -> None:
    """Call ``reset_parameters()`` on every submodule of ``module`` that defines it."""
    for child in module.modules():
        reset = getattr(child, "reset_parameters", None) if child is not module else None
        if reset is not None:
            reset()


class MLP(nn.Module):
    """Feed-forward network ``Linear → (act → dropout → Linear) × (n_layers − 1)``.

    ``n_layers`` counts linear layers; ``n_layers=1`` is a single ``Linear(in_dim, out_dim)``
    (``hidden_dim`` unused). No activation or dropout follows the last layer, so the output
    is raw (logits, standardized values, embeddings).

    Args:
        in_dim: input features.
        hidden_dim: width of the hidden layers.
        out_dim: output features.
        n_layers: number of linear layers (≥ 1).
        dropout: dropout probability before every linear layer except the first.
        activation: activation name, one of ``ACTIVATIONS``.

    Shapes:
        input ``[N, in_dim]`` → output ``[N, out_dim]``.
    """

    def __init__(
        self,
        in_dim: int,
        hidden_dim: int,
        out_dim: int,
        n_layers: int = 2,
        dropout: float = 0.0,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ConfigError(f"n_layers must be >= 1, got {n_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        build_activation(activation)  # fail early on a bad name
        self.in_dim, self.hidden_dim, self.out_dim = in_dim, hidden_dim, out_dim
        self.n_layers, self.dropout, self.activation = n_layers, dropout, activation
        dims = [in_dim] + [hidden_dim] * (n_layers - 1) + [out_dim]
        layers: list[nn.Module] = [nn.Linear(dims[0], dims[1])]
        for d_in, d_out in itertools.pairwise(dims[1:]):
            layers += [build_activation(activation), nn.Dropout(dropout), nn.Linear(d_in, d_out)]
        self.net = nn.Sequential(*layers)

    def reset_parameters(self) -> None:
        reset_module(self.net)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(in_dim={self.in_dim}, hidden_dim={self.hidden_dim}, "
            f"out_dim={self.out_dim}, n_layers={self.n_layers}, dropout={self.dropout}, "
            f"activation={self.activation!r})"
        )


class _ScatterReadout(nn.Module):
    reduce = "sum"

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def reset_parameters(self) -> None:
        pass

    def forward(self, x: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        return scatter(x, batch, dim=0, dim_size=num_graphs, reduce=self.reduce)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"


class SumReadout(_ScatterReadout):
    """Sum of atom vectors per graph. Shapes: ``[A, dim], [A], B → [B, dim]``."""

    reduce = "sum"


class MeanReadout(_ScatterReadout):
    """Mean of atom vectors per graph (zeros for a graph without atoms).

    Shapes: ``[A, dim], [A], B → [B, dim]``.
    """

    reduce = "mean"


class AttentionReadout(nn.Module):
    """Gated attention pooling (`Li et al. 2016 <https://arxiv.org/abs/1511.05493>`_).

    Weights each atom by a softmax (within its graph) of a gate MLP ``dim → dim → 1`` and
    sums; wraps PyG's ``AttentionalAggregation``. The gate's last layer has no bias: the
    softmax ignores a constant shift, so that bias would never get a gradient.

    Shapes: ``[A, dim], [A], B → [B, dim]``.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        gate = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, 1, bias=False))
        self.aggr = AttentionalAggregation(gate_nn=gate)

    def reset_parameters(self) -> None:
        self.aggr.reset_parameters()

    def forward(self, x: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        return self.aggr(x, index=batch, dim_size=num_graphs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"


READOUTS: dict[str, type[nn.Module]] = {
    "mean": MeanReadout,
    "sum": SumReadout,
    "attention": AttentionReadout,
}


def build_readout(name: str, dim: int) -> nn.Module:
    """Build a readout by name: ``"mean" | "sum" | "attention"``.

    The module's ``forward(x [A, dim], batch [A], num_graphs) -> [num_graphs, dim]``.

    Raises:
        ValueError: if ``name`` is unknown; the message lists the valid names.
    """
    if name not in READOUTS:
        raise UnknownNameError(f"unknown readout {name!r}; valid names: {sorted(READOUTS)}")
    return READOUTS[name](dim)


class WithMoleculeFeatures(nn.Module):
    """Append standardized molecule-level features (e.g. RDKit descriptors) to an encoding.

    ``forward(batch) = cat(encoder(batch), (batch.mol_features − mean) / std)``. ``mean`` and
    ``std`` are buffers, so they travel in the ``state_dict``; zero (or non-finite) entries of
    ``std`` are replaced by 1 so constant features do not divide by zero.

    Args:
        encoder: a graph encoder with an ``out_dim`` attribute.
        feature_mean: per-feature mean ``[D]`` (from the training split).
        feature_std: per-feature standard deviation ``[D]``.

    Shapes:
        ``batch.mol_features`` ``[B, D]`` → output ``[B, encoder.out_dim + D]``.
    """

    feature_mean: Tensor
    feature_std: Tensor

    def __init__(self, encoder: nn.Module, feature_mean: Tensor, feature_std: Tensor) -> None:
        super().__init__()
        mean = torch.as_tensor(feature_mean, dtype=torch.float32).detach().clone()
        std = torch.as_tensor(feature_std, dtype=torch.float32).detach().clone()
        if mean.dim() != 1 or mean.shape != std.shape:
            raise ValueError(
                f"feature_mean and feature_std must both have shape [D], got {tuple(mean.shape)} and {tuple(std.shape)}"
            )
        std = torch.where(torch.isfinite(std) & (std > 0), std, torch.ones_like(std))
        self.encoder = encoder
        self.register_buffer("feature_mean", mean)
        self.register_buffer("feature_std", std)
        self.n_features = mean.numel()
        self.out_dim: int = cast(int, encoder.out_dim) + self.n_features

    def reset_parameters(self) -> None:
        # the encoder is any nn.Module whose contract includes reset_parameters(); nn.Module.__getattr__ hides that
        reset = cast(Callable[[], None], self.encoder.reset_parameters)
        reset()

    def forward(self, batch: Any) -> Tensor:
        h = self.encoder(batch)
        feats = getattr(batch, "mol_features", None)
        if feats is None:
            raise ValueError("batch has no 'mol_features'; featurize with molecule features on")
        if feats.dim() != 2 or feats.shape != (h.size(0), self.n_features):
            raise ValueError(
                f"batch.mol_features must have shape [num_graphs, {self.n_features}] = "
                f"{[h.size(0), self.n_features]}, got {list(feats.shape)} "
                "(store them as [1, D] per graph so batching stacks rows)"
            )
        feats = (feats.to(h.dtype) - self.feature_mean) / self.feature_std
        return torch.cat([h, feats], dim=1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.encoder!r}, n_features={self.n_features})"
