"""AttentiveFP (wraps PyG's implementation)."""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.models import AttentiveFP as _PyGAttentiveFP

from molgen.models.graph.base import GraphEncoder, graph_index


class AttentiveFP(GraphEncoder):
    """AttentiveFP (`Xiong et al. 2020 <https://doi.org/10.1021/acs.jmedchem.9b00959>`_).

    Wraps ``torch_geometric.nn.models.AttentiveFP`` with ``in_channels=atom_dim``,
    ``hidden_channels=out_channels=hidden_dim``, ``edge_dim=bond_dim``,
    ``num_layers=depth`` (atom attention layers, the first one bond-aware) and
    ``num_timesteps`` (graph-level attention steps).

    **Readout**: AttentiveFP always pools with its own GRU-attention over a virtual graph
    node, so the only accepted ``readout`` is ``"attention"`` (the default). Any other value
    raises ``ValueError`` rather than being silently ignored.

    Args:
        atom_dim: atom feature size.
        bond_dim: bond feature size.
        hidden_dim: hidden size and output size.
        depth: number of atom-level attention layers.
        dropout: dropout probability (PyG applies it after every attention layer).
        readout: must be ``"attention"``.
        num_timesteps: graph-level attention steps.

    Shapes:
        batch (``x [A, atom_dim]``, ``edge_index [2, E]``, ``edge_attr [E, bond_dim]``,
        ``batch [A]``) → ``[num_graphs, out_dim]`` with ``out_dim = hidden_dim``.
        Every graph must have at least one atom.
    """

    def __init__(
        self,
        atom_dim: int,
        bond_dim: int,
        hidden_dim: int = 300,
        depth: int = 3,
        dropout: float = 0.0,
        readout: str = "attention",
        num_timesteps: int = 2,
    ) -> None:
        if readout != "attention":
            raise ValueError(
                f"AttentiveFP has its own attention readout; readout must be 'attention', "
                f"got {readout!r} (valid names: ['attention'])"
            )
        if num_timesteps < 1:
            raise ValueError(f"num_timesteps must be >= 1, got {num_timesteps}")
        super().__init__(
            atom_dim=atom_dim,
            bond_dim=bond_dim,
            hidden_dim=hidden_dim,
            depth=depth,
            dropout=dropout,
            readout=readout,
            num_timesteps=num_timesteps,
        )
        self.net = _PyGAttentiveFP(
            in_channels=atom_dim,
            hidden_channels=hidden_dim,
            out_channels=hidden_dim,
            edge_dim=bond_dim,
            num_layers=depth,
            num_timesteps=num_timesteps,
            dropout=dropout,
        )
        self.out_dim: int = hidden_dim
        self.dropout = dropout

    def reset_parameters(self) -> None:
        self.net.reset_parameters()

    def embed_atoms(self, batch: Any) -> Tensor:
        """Atom vectors after the atom-level attention layers (PyG's atom embedding), ``[A, hidden_dim]``."""
        self.check_batch(batch)
        net, p = self.net, self.dropout
        x = F.leaky_relu(net.lin1(batch.x))
        h = F.elu(net.gate_conv(x, batch.edge_index, batch.edge_attr))
        x = net.gru(F.dropout(h, p=p, training=self.training), x).relu()
        for conv, gru in zip(net.atom_convs, net.atom_grus):
            h = F.elu(conv(x, batch.edge_index))
            x = gru(F.dropout(h, p=p, training=self.training), x).relu()
        return x

    def forward(self, batch: Any) -> Tensor:
        self.check_batch(batch)
        index, num_graphs = graph_index(batch)
        out = self.net(batch.x, batch.edge_index, batch.edge_attr, index)
        if out.size(0) != num_graphs:
            raise ValueError(
                f"AttentiveFP got {out.size(0)} graph rows for num_graphs={num_graphs}; "
                "every graph needs at least one atom"
            )
        return out
