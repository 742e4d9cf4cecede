"""Directed message passing neural network (Chemprop's bond message passing)."""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from molgen.models.graph.base import GraphEncoder, graph_index
from molgen.models.layers import build_readout, reset_module


class DMPNN(GraphEncoder):
    r"""Directed MPNN (`Yang et al. 2019 <https://doi.org/10.1021/acs.jcim.9b00237>`_).

    Hidden states live on directed bonds, and a bond never hears back its own reverse:

    .. math::
        h^0_{vw} &= \mathrm{ReLU}(W_i [x_v \Vert e_{vw}]) \\
        m_{vw} &= \textstyle\sum_{k \in N(v) \setminus w} h_{kv}
                = \sum_{k \in N(v)} h_{kv} - h_{wv} \\
        h_{vw} &\leftarrow \mathrm{dropout}(\mathrm{ReLU}(W_i [x_v \Vert e_{vw}] + W_h m_{vw}))
                \quad (\text{depth} - 1 \text{ times}) \\
        h_v &= \mathrm{dropout}(\mathrm{ReLU}(W_o [x_v \Vert \textstyle\sum_{k} h_{kv}]))

    followed by the readout over atoms. The reverse of edge ``e`` is ``e ^ 1`` (batch
    contract). Atoms without bonds get ``ReLU(W_o [x_v ‖ 0])``. Defaults follow Chemprop v2's
    ``BondMessagePassing``: hidden 300, depth 3, no bias in ``W_i``/``W_h``, bias in ``W_o``.

    Args:
        atom_dim: atom feature size.
        bond_dim: bond feature size.
        hidden_dim: bond/atom hidden size and output size.
        depth: message passing steps counting the initial one (``depth − 1`` updates).
        dropout: dropout probability on bond updates and atom outputs.
        readout: ``"mean" | "sum" | "attention"``.

    Shapes:
        batch (``x [A, atom_dim]``, ``edge_index [2, E]``, ``edge_attr [E, bond_dim]``,
        ``batch [A]``) → ``[num_graphs, out_dim]`` with ``out_dim = hidden_dim``;
        :meth:`embed_atoms` → ``[A, hidden_dim]``.
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
        super().__init__(
            atom_dim=atom_dim,
            bond_dim=bond_dim,
            hidden_dim=hidden_dim,
            depth=depth,
            dropout=dropout,
            readout=readout,
        )
        self.readout = build_readout(readout, hidden_dim)
        self.W_i = nn.Linear(atom_dim + bond_dim, hidden_dim, bias=False)
        self.W_h = nn.Linear(hidden_dim, hidden_dim, bias=False)
        self.W_o = nn.Linear(atom_dim + hidden_dim, hidden_dim)
        self.depth, self.dropout = depth, dropout
        self.out_dim: int = hidden_dim

    def reset_parameters(self) -> None:
        reset_module(self)

    def embed_atoms(self, batch: Any) -> Tensor:
        """Atom hidden vectors ``h_v`` before the readout, ``[A, hidden_dim]``."""
        self.check_batch(batch)
        x, edge_index = batch.x, batch.edge_index
        src, dst = edge_index
        num_edges, num_atoms = src.numel(), x.size(0)
        if num_edges % 2:
            raise ValueError(f"DMPNN needs paired directed edges (reverse of e is e ^ 1); got E={num_edges}")
        rev = torch.arange(num_edges, device=src.device) ^ 1
        if not torch.equal(edge_index[:, rev], edge_index.flip(0)):
            raise ValueError("edge_index breaks the pairing contract: edge e ^ 1 must reverse e")

        incoming_sum = _incidence(dst, num_atoms, x.dtype)  # [A, E]: sums edge rows into their target atom
        h0 = self.W_i(torch.cat([x[src], batch.edge_attr], dim=1))  # [E, H]
        h = F.relu(h0)
        for _ in range(self.depth - 1):
            incoming = incoming_sum @ h  # [A, H]
            m = incoming[src] - h[rev]  # drop the message coming back along the reverse bond
            h = F.dropout(F.relu(h0 + self.W_h(m)), p=self.dropout, training=self.training)

        m_atom = incoming_sum @ h  # [A, H]
        h_atom = F.relu(self.W_o(torch.cat([x, m_atom], dim=1)))
        return F.dropout(h_atom, p=self.dropout, training=self.training)

    def forward(self, batch: Any) -> Tensor:
        index, num_graphs = graph_index(batch)
        return self.readout(self.embed_atoms(batch), index, num_graphs)


def _incidence(dst: Tensor, num_atoms: int, dtype: torch.dtype) -> Tensor:
    """Sparse CSR ``[A, E]`` matrix with a 1 at ``(dst[e], e)``: ``S @ h`` sums edge rows per target atom.

    Built once per forward and reused at every depth; on CPU its matmul is ~4× faster than a scatter-add
    of ``[E, H]`` rows (same result, gradients included).
    """
    order = torch.argsort(dst, stable=True)  # sorted column indices keep the fast kernel
    counts = torch.bincount(dst, minlength=num_atoms)
    crow = torch.zeros(num_atoms + 1, dtype=torch.int64, device=dst.device)
    crow[1:] = torch.cumsum(counts, 0)
    ones = torch.ones(dst.numel(), dtype=dtype, device=dst.device)
    with warnings.catch_warnings():  # "Sparse CSR tensor support is in beta": known, and tested here
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, order, ones, size=(num_atoms, dst.numel()), check_invariants=False)
