"""GATv2 with bond features."""

from __future__ import annotations

from torch import nn
from torch_geometric.nn import GATv2Conv

from molgen.models.graph.base import ConvEncoder


class GATv2(ConvEncoder):
    """Graph attention network v2 (`Brody et al. 2022 <https://arxiv.org/abs/2105.14491>`_).

    Each layer is PyG's ``GATv2Conv`` with ``edge_dim=bond_dim`` (bond features enter the
    attention scores), self-loops added. ``hidden_dim`` is split across ``heads`` whose
    outputs are concatenated, so a layer costs about the same for any head count. Layers
    are wrapped as ``h ← h + dropout(ReLU(BatchNorm(conv(h))))``.

    Args:
        atom_dim: atom feature size.
        bond_dim: bond feature size.
        hidden_dim: width of atom embeddings and of the output; divisible by ``heads``.
        depth: number of attention layers.
        dropout: dropout probability after each layer.
        readout: ``"mean" | "sum" | "attention"``.
        heads: attention heads per layer.

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
        heads: int = 4,
    ) -> None:
        if heads < 1 or hidden_dim % heads:
            raise ValueError(f"hidden_dim ({hidden_dim}) must be a positive multiple of heads ({heads})")
        super().__init__(atom_dim, bond_dim, hidden_dim, depth, dropout, readout, heads=heads)

    def init_conv(self) -> nn.Module:
        h, heads = self.hparams["hidden_dim"], self.hparams["heads"]
        # No conv bias: BatchNorm follows and supplies the shift.
        return GATv2Conv(h, h // heads, heads=heads, concat=True, edge_dim=self.hparams["bond_dim"], bias=False)
