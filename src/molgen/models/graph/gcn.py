"""Graph convolutional network (bond features ignored)."""

from __future__ import annotations

from torch import nn
from torch_geometric.nn import GCNConv

from molgen.models.graph.base import ConvEncoder


class GCN(ConvEncoder):
    """Graph Convolutional Network (`Kipf & Welling 2017 <https://arxiv.org/abs/1609.02907>`_).

    Each layer is PyG's ``GCNConv`` (symmetric normalisation, self-loops added), wrapped as
    ``h ← h + dropout(ReLU(BatchNorm(conv(h))))``. **Bond features are ignored**: GCN sees
    only which atoms are bonded, so bond order and aromaticity reach it only through atom
    features. ``bond_dim`` is accepted for a uniform signature and not used.

    Args:
        atom_dim: atom feature size.
        bond_dim: bond feature size (unused).
        hidden_dim: width of atom embeddings and of the output.
        depth: number of GCN layers.
        dropout: dropout probability after each layer.
        readout: ``"mean" | "sum" | "attention"``.

    Shapes:
        batch (``x [A, atom_dim]``, ``edge_index [2, E]``, ``batch [A]``) →
        ``[num_graphs, out_dim]`` with ``out_dim = hidden_dim``.
    """

    uses_edge_attr = False

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
        return GCNConv(h, h, bias=False)  # BatchNorm follows and supplies the shift
