"""MolGAN: an implicit generator of small molecular graphs (De Cao & Kipf 2018, arXiv:1805.11973).

- :class:`GraphGenerator`: an MLP from noise ``z`` to node-type logits and symmetric edge-type logits.
- :class:`RelationalGCN`: the discriminator (critic) and, with a sigmoid on top, the reward network:
  relational graph convolutions over the edge types, a gated sum over nodes, then an MLP.
- :func:`discretize`: softmax, Gumbel-softmax or straight-through (hard) Gumbel samples of the logits,
  kept symmetric for the edges, as the critic's input during training.

Shapes: ``B`` molecules, ``N`` nodes, ``T`` node types (index 0 = empty), ``E`` edge types (index 0 = no
bond). Graph tensors are one-hot / probabilities: ``nodes [B, N, T]``, ``edges [B, N, N, E]``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from molgen.errors import UnknownNameError

if TYPE_CHECKING:
    from molgen.chem.featurize.dense_graphs import DenseGraphSpec

GUMBEL_MODES = ("softmax", "soft_gumbel", "hard_gumbel")


def _mlp(sizes: Sequence[int], activation: type[nn.Module], dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        layers += [nn.Linear(fan_in, fan_out), activation()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class GraphGenerator(nn.Module):
    """``z [B, noise_dim]`` → ``(node_logits [B, N, T], edge_logits [B, N, N, E])``.

    Edge logits are symmetric (the mean of the raw output and its transpose) and their diagonal is masked
    to "no bond". The paper's generator is an MLP of widths [128, 256, 512] with tanh.

    Args:
        noise_dim: size of ``z``.
        max_atoms: ``N``, nodes per graph.
        n_atom_types: ``T``, node types (index 0 = empty).
        n_bond_types: ``E``, edge types (index 0 = no bond).
        hidden_dims: widths of the MLP layers.
        dropout: dropout after each hidden layer.
    """

    def __init__(
        self,
        noise_dim: int,
        max_atoms: int,
        n_atom_types: int,
        n_bond_types: int,
        hidden_dims: Sequence[int] = (128, 256, 512),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.noise_dim, self.max_atoms = noise_dim, max_atoms
        self.n_atom_types, self.n_bond_types = n_atom_types, n_bond_types
        self.hidden_dims = tuple(hidden_dims)
        self.body = _mlp((noise_dim, *hidden_dims), nn.Tanh, dropout)
        self.node_out = nn.Linear(hidden_dims[-1], max_atoms * n_atom_types)
        self.edge_out = nn.Linear(hidden_dims[-1], max_atoms * max_atoms * n_bond_types)
        diagonal = torch.zeros(max_atoms, max_atoms, n_bond_types)
        diagonal[torch.arange(max_atoms), torch.arange(max_atoms), 1:] = -1e4
        self.register_buffer("diagonal_mask", diagonal, persistent=False)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(z)
        n, t, e = self.max_atoms, self.n_atom_types, self.n_bond_types
        nodes = self.node_out(h).view(-1, n, t)
        edges = self.edge_out(h).view(-1, n, n, e)
        edges = 0.5 * (edges + edges.transpose(1, 2)) + self.diagonal_mask
        return nodes, edges

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(noise_dim={self.noise_dim}, max_atoms={self.max_atoms}, "
            f"n_atom_types={self.n_atom_types}, n_bond_types={self.n_bond_types}, hidden_dims={self.hidden_dims})"
        )


def _gumbel(shape: torch.Size, like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Standard Gumbel noise ``-log(-log(u))``, ``u ~ U(0, 1)``, shaped and typed like ``like``."""
    uniform = torch.rand(shape, generator=generator, device=like.device, dtype=like.dtype)
    uniform = uniform.clamp(1e-10, 1.0 - 1e-7)
    return -torch.log(-torch.log(uniform))


def _symmetric_gumbel(shape: torch.Size, like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Gumbel noise ``[B, N, N, E]`` with ``g[:, i, j] == g[:, j, i]`` (the upper triangle, mirrored)."""
    noise = _gumbel(shape, like, generator)
    upper = torch.triu(torch.ones(shape[1], shape[2], device=like.device, dtype=torch.bool), diagonal=1)
    noise = torch.where(upper[None, :, :, None], noise, 0.0)
    return noise + noise.transpose(1, 2)


def discretize(
    node_logits: torch.Tensor,
    edge_logits: torch.Tensor,
    mode: str = "hard_gumbel",
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Turns logits into the graph tensors fed to the critic.

    Args:
        mode: ``softmax`` (probabilities), ``soft_gumbel`` (Gumbel-softmax samples) or ``hard_gumbel``
            (one-hot samples with the Gumbel-softmax gradient, "straight-through").
        temperature: Gumbel-softmax temperature.

    Returns:
        ``nodes [B, N, T]`` and ``edges [B, N, N, E]`` (symmetric), each summing to 1 over the last axis.
    """
    if mode not in GUMBEL_MODES:
        raise UnknownNameError(f"unknown gumbel mode {mode!r}; valid names: {', '.join(GUMBEL_MODES)}")
    if mode == "softmax":
        return F.softmax(node_logits / temperature, -1), F.softmax(edge_logits / temperature, -1)
    node_noise = _gumbel(node_logits.shape, node_logits, generator)
    edge_noise = _symmetric_gumbel(edge_logits.shape, edge_logits, generator)
    nodes = F.softmax((node_logits + node_noise) / temperature, -1)
    edges = F.softmax((edge_logits + edge_noise) / temperature, -1)
    if mode == "hard_gumbel":
        nodes = _straight_through(nodes)
        edges = _straight_through(edges)
    return nodes, edges


def _straight_through(probs: torch.Tensor) -> torch.Tensor:
    hard = F.one_hot(probs.argmax(-1), probs.shape[-1]).to(probs.dtype)
    return hard + probs - probs.detach()


class RelationalGraphConv(nn.Module):
    """One R-GCN layer: ``h' = tanh(Σ_r A_r h W_r + h W_self)`` over the bond types ``r`` (no-bond excluded).

    Shapes: ``h [B, N, D_in]``, ``adjacency [B, R, N, N]`` → ``[B, N, D_out]``.
    """

    def __init__(self, in_dim: int, out_dim: int, n_relations: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.n_relations, self.out_dim = n_relations, out_dim
        self.relation = nn.Linear(in_dim, out_dim * n_relations)
        self.self_loop = nn.Linear(in_dim, out_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        b, n, _ = h.shape
        messages = self.relation(h).view(b, n, self.n_relations, self.out_dim).transpose(1, 2)  # [B, R, N, D]
        out = torch.matmul(adjacency, messages).sum(1) + self.self_loop(h)
        return self.dropout(torch.tanh(out))


class GraphAggregation(nn.Module):
    """Gated sum over nodes (Li et al. 2016): ``tanh(Σ_v σ(i(h_v)) ⊙ tanh(j(h_v)))``; ``[B, N, D]`` → ``[B, out]``."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.gate = nn.Linear(in_dim, out_dim)
        self.value = nn.Linear(in_dim, out_dim)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.tanh((torch.sigmoid(self.gate(h)) * torch.tanh(self.value(h))).sum(1))


class RelationalGCN(nn.Module):
    """MolGAN's discriminator / reward network: ``(nodes [B,N,T], edges [B,N,N,E])`` → ``[B]``.

    The node types are concatenated to every layer's input, as in the paper. The output is a raw score
    (the WGAN critic) or, with ``sigmoid=True``, a value in (0, 1) (the reward network predicting a
    normalized property such as QED).

    Args:
        n_atom_types: ``T``, node types.
        n_bond_types: ``E``, edge types (channel 0, "no bond", is ignored).
        conv_dims: widths of the R-GCN layers (paper: [128, 64]).
        aggregation_dim: width of the graph-level vector (paper: 128).
        mlp_dims: widths of the MLP on the graph vector (paper: [128, 64]).
    """

    def __init__(
        self,
        n_atom_types: int,
        n_bond_types: int,
        conv_dims: Sequence[int] = (128, 64),
        aggregation_dim: int = 128,
        mlp_dims: Sequence[int] = (128, 64),
        dropout: float = 0.0,
        sigmoid: bool = False,
    ) -> None:
        super().__init__()
        self.n_atom_types, self.n_bond_types, self.sigmoid = n_atom_types, n_bond_types, sigmoid
        self.convs = nn.ModuleList()
        width = 0
        for dim in conv_dims:
            self.convs.append(RelationalGraphConv(width + n_atom_types, dim, n_bond_types - 1, dropout))
            width = dim
        self.aggregate = GraphAggregation(width + n_atom_types, aggregation_dim)
        self.mlp = _mlp((aggregation_dim, *mlp_dims), nn.Tanh, dropout)
        self.out = nn.Linear(mlp_dims[-1] if mlp_dims else aggregation_dim, 1)

    def forward(self, nodes: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
        adjacency = edges[..., 1:].permute(0, 3, 1, 2)  # [B, R, N, N]
        h = nodes
        for conv in self.convs:
            h = torch.cat([conv(h, adjacency), nodes], -1)
        score = self.out(self.mlp(self.aggregate(h))).squeeze(-1)
        return torch.sigmoid(score) if self.sigmoid else score


@torch.no_grad()
def sample_graphs(
    generator: GraphGenerator,
    decode: Callable[[np.ndarray, np.ndarray], list[str]],
    n: int,
    *,
    seed: int | None = None,
    batch_size: int = 512,
) -> list[str]:
    """Samples ``n`` molecules: noise → generator → argmax node and edge types → ``decode``.

    The noise is drawn on the CPU from ``seed`` (same seed, same molecules on any device).
    """
    was_training = generator.training
    generator.eval()
    device = next(generator.parameters()).device
    rng = torch.Generator().manual_seed(seed) if seed is not None else None
    out: list[str] = []
    for start in range(0, n, batch_size):
        z = torch.randn(min(batch_size, n - start), generator.noise_dim, generator=rng).to(device)
        nodes, edges = generator(z)
        out += decode(nodes.argmax(-1).cpu().numpy(), edges.argmax(-1).cpu().numpy())
    generator.train(was_training)
    return out


class MolGANNetworks(nn.Module):
    """The exported weights: generator, critic and (optional) reward network."""

    def __init__(self, generator: GraphGenerator, critic: RelationalGCN, reward_net: RelationalGCN | None) -> None:
        super().__init__()
        self.generator, self.critic, self.reward_net = generator, critic, reward_net


class MolGANSampler:
    """A trained MolGAN as a :class:`~molgen.models.generative.Generator` (argmax node and edge types)."""

    def __init__(self, generator: GraphGenerator, decode: Callable[[np.ndarray, np.ndarray], list[str]]) -> None:
        """``decode(atom types [B, N], bond types [B, N, N]) -> SMILES`` (``chem.featurize.dense_graphs``)."""
        self.generator, self.decode = generator.eval(), decode

    def sample(self, n: int, *, seed: int | None = None, batch_size: int = 512) -> list[str]:
        return sample_graphs(self.generator, self.decode, n, seed=seed, batch_size=batch_size)


def build_networks(graph_spec: DenseGraphSpec, sizes: dict[str, Any], reward: bool) -> MolGANNetworks:
    generator = GraphGenerator(
        sizes["noise_dim"],
        graph_spec.max_atoms,
        graph_spec.n_atom_types,
        graph_spec.n_bond_types,
        hidden_dims=sizes["generator_dims"],
        dropout=sizes["dropout"],
    )

    def gcn(sigmoid: bool) -> RelationalGCN:
        return RelationalGCN(
            graph_spec.n_atom_types,
            graph_spec.n_bond_types,
            conv_dims=sizes["conv_dims"],
            aggregation_dim=sizes["aggregation_dim"],
            mlp_dims=sizes["mlp_dims"],
            dropout=sizes["dropout"],
            sigmoid=sigmoid,
        )

    return MolGANNetworks(generator, gcn(False), gcn(True) if reward else None)


DEFAULT_NOISE_DIM = 32


def network_sizes(hidden_dim: int, depth: int, noise_dim: int | None = None, dropout: float = 0.0) -> dict[str, Any]:
    """The generator's widths double up to ``hidden_dim`` over ``depth`` layers; the discriminator's graph
    convolutions, aggregation and MLP are ``hidden_dim / 4`` wide (512 → the paper's [128, 64], 128, [128, 64])."""
    depth, c = max(depth, 1), max(hidden_dim // 4, 8)
    return {
        "noise_dim": noise_dim or DEFAULT_NOISE_DIM,
        "generator_dims": [max(hidden_dim >> (depth - 1 - i), 8) for i in range(depth)],
        "conv_dims": [c, c // 2],
        "aggregation_dim": c,
        "mlp_dims": [c, c // 2],
        "dropout": dropout,
    }
