"""GIN with bond features (GINE)."""

from __future__ import annotations

from torch import nn
from torch_geometric.nn import GINEConv

from molgen.models.graph.base import ConvEncoder


class GIN(ConvEncoder):
    """Graph Isomorphism Network with edge features (GINE).

    Each layer is PyG's ``GINEConv``: ``h_v ← MLP(h_v + Σ_u ReLU(h_u + Linear(e_uv)))`` with a
    two-layer MLP, as in `Hu et al. 2020 <https://arxiv.org/abs/1905.12265>`_ (edge-aware
    variant of `Xu et al. 2019 <https://arxiv.org/abs/1810.00826>`_). Layers are wrapped as
    ``h ← h + dropout(ReLU(BatchNorm(conv(h))))``; atoms are first projected to
    ``hidden_dim`` by a linear layer.

    Args:
        atom_dim: atom feature size.
        bond_dim: bond feature size.
        hidden_dim: width of atom embeddings and of the output.
        depth: number of GINE layers.
        dropout: dropout probability after each layer.
        readout: ``"mean" | "sum" | "attention"``.

    Shapes:
        batch (``x [A, atom_dim]``, ``edge_index [2, E]``, ``edge_attr [E, bond_dim]``,
        ``batch [A]``) → ``[num_graphs, out_dim]`` with ``out_dim = hidden_dim``.
    """

    def __init__(
        self,
        atom_dim: int,
        bond_dim: int,
        hidden_dim: int = 300,
        depth: int = 3,
        dropout: float = 0.0,
        readout: str = "mean",
    ) -> None:
        super().__init__(atom_dim, bond_dim, hidden_dim, depth, dropout, readout)

    def init_conv(self) -> nn.Module:
        h = self.hparams["hidden_dim"]
        mlp = nn.Sequential(nn.Linear(h, 2 * h), nn.ReLU(), nn.Linear(2 * h, h))
        return GINEConv(mlp, edge_dim=self.hparams["bond_dim"])
