"""Shared base for graph encoders: input checks, ``hparams``, ``__repr__`` and a conv template.

Batch contract (built by ``molgen.chem.featurize.graphs``): a ``torch_geometric.data.Batch`` with
``x`` ``[A, atom_dim]`` float, ``edge_index`` ``[2, E]`` long (directed; edges ``2k`` and
``2k+1`` are reverses, so ``reverse(e) == e ^ 1``), ``edge_attr`` ``[E, bond_dim]`` float,
``batch`` ``[A]`` long and ``num_graphs``. ``E`` may be 0.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn.norm import BatchNorm

from molgen.errors import ConfigError
from molgen.models.layers import build_readout, reset_module


def graph_index(batch: Any) -> tuple[Tensor, int]:
    """Return ``(batch vector [A], num_graphs)``; a lone ``Data`` counts as one graph."""
    index = getattr(batch, "batch", None)
    if index is None:
        return torch.zeros(batch.x.size(0), dtype=torch.long, device=batch.x.device), 1
    return index, int(batch.num_graphs)


class GraphEncoder(nn.Module):
    """Base class: stores constructor arguments as primitive ``hparams`` and checks inputs.

    ``hparams`` holds exactly the keyword arguments needed to rebuild the encoder, so a model
    can be exported as config + weights without pickling classes.
    """

    uses_edge_attr: bool = True

    def __init__(self, **hparams: Any) -> None:
        super().__init__()
        self.hparams: dict[str, Any] = dict(hparams)
        if hparams["depth"] < 1:
            raise ConfigError(f"depth must be >= 1, got {hparams['depth']}")
        if hparams["hidden_dim"] < 1:
            raise ConfigError(f"hidden_dim must be >= 1, got {hparams['hidden_dim']}")
        if not 0.0 <= hparams["dropout"] < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {hparams['dropout']}")

    def check_batch(self, batch: Any) -> None:
        """Raise ``ValueError`` naming the mismatch if ``batch`` breaks the input contract."""
        atom_dim, bond_dim = self.hparams["atom_dim"], self.hparams["bond_dim"]
        x = batch.x
        if x.dim() != 2 or x.size(1) != atom_dim:
            raise ValueError(
                f"{type(self).__name__} expects x of shape [A, {atom_dim}] (atom_dim), got {list(x.shape)}"
            )
        ei = batch.edge_index
        if ei.dim() != 2 or ei.size(0) != 2:
            raise ValueError(f"edge_index must have shape [2, E], got {list(ei.shape)}")
        if self.uses_edge_attr:
            ea = getattr(batch, "edge_attr", None)
            if ea is None or ea.dim() != 2 or ea.shape != (ei.size(1), bond_dim):
                got = None if ea is None else list(ea.shape)
                raise ValueError(
                    f"{type(self).__name__} expects edge_attr of shape "
                    f"[E={ei.size(1)}, {bond_dim}] (bond_dim), got {got}"
                )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hparams.items())
        return f"{type(self).__name__}({args})"


class ConvEncoder(GraphEncoder):
    """Template for PyG-conv encoders; a subclass implements only :meth:`init_conv`.

    ``h = Linear(x)``; then ``depth`` times
    ``h = h + dropout(ReLU(BatchNorm(conv(h, edge_index[, edge_attr]))))``; then readout.

    Shapes:
        batch with ``x [A, atom_dim]`` → ``[num_graphs, hidden_dim]``;
        :meth:`embed_atoms` → ``[A, hidden_dim]``.
    """

    def __init__(
        self,
        atom_dim: int,
        bond_dim: int,
        hidden_dim: int,
        depth: int,
        dropout: float,
        readout: str,
        **extra: Any,
    ) -> None:
        super().__init__(
            atom_dim=atom_dim,
            bond_dim=bond_dim,
            hidden_dim=hidden_dim,
            depth=depth,
            dropout=dropout,
            readout=readout,
            **extra,
        )
        self.readout = build_readout(readout, hidden_dim)
        self.atom_proj = nn.Linear(atom_dim, hidden_dim)
        self.convs = nn.ModuleList(self.init_conv() for _ in range(depth))
        # allow_single_element: a training batch holding one single-atom molecule must not fail.
        self.norms = nn.ModuleList(BatchNorm(hidden_dim, allow_single_element=True) for _ in range(depth))
        self.dropout = dropout
        self.out_dim: int = hidden_dim

    def init_conv(self) -> nn.Module:
        """Return one ``hidden_dim → hidden_dim`` conv layer (``self.hparams`` is set)."""
        raise NotImplementedError

    def reset_parameters(self) -> None:
        reset_module(self)

    def embed_atoms(self, batch: Any) -> Tensor:
        """Atom embeddings after message passing, ``[A, hidden_dim]``."""
        self.check_batch(batch)
        h = self.atom_proj(batch.x)
        edge_index = batch.edge_index
        edge_args = (batch.edge_attr,) if self.uses_edge_attr else ()
        for conv, norm in zip(self.convs, self.norms):
            out = F.relu(norm(conv(h, edge_index, *edge_args)))
            h = h + F.dropout(out, p=self.dropout, training=self.training)
        return h

    def forward(self, batch: Any) -> Tensor:
        index, num_graphs = graph_index(batch)
        return self.readout(self.embed_atoms(batch), index, num_graphs)
