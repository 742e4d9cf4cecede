"""Batches built from packed arrays: the collate objects of each input kind (no Lightning here).

A collate object turns row indices ``[B]`` into one batch with a ``y`` attribute ``[B, T]`` in a single
vectorized call; DataModules (training) and prediction (inference) share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from molgen.chem.featurize.graphs import PackedGraphs
from molgen.genomics.encoding import indices_to_onehot, onehot_table


class Collate(Protocol):
    """Turns row indices ``[B]`` into a batch object with a ``y`` attribute ``[B, T]``."""

    def __call__(self, indices: np.ndarray) -> Any: ...


class GraphCollate:
    """Batches packed molecular graphs with their labels.

    Args:
        graphs: featurized molecules (row i of ``targets`` belongs to graph i).
        targets: ``[n, T]`` float labels (NaN = missing), or None for unlabelled data.
    """

    def __init__(self, graphs: PackedGraphs, targets: np.ndarray | None = None) -> None:
        if targets is not None and len(targets) != len(graphs):
            raise ValueError(f"{len(targets)} label rows for {len(graphs)} graphs")
        self.graphs = graphs
        self.targets = None if targets is None else torch.as_tensor(np.asarray(targets, dtype=np.float32))

    def __call__(self, indices: np.ndarray) -> Any:
        batch = self.graphs.collate(indices)
        if self.targets is not None:
            batch.y = self.targets[torch.as_tensor(indices)]
        return batch


@dataclass(frozen=True)
class FeatureBatch:
    """A batch of dense per-example features: ``x`` ``float32 [B, D]`` and optional labels ``y`` ``[B, T]``."""

    x: torch.Tensor
    y: torch.Tensor | None = None

    def to(self, device: Any, non_blocking: bool = False) -> FeatureBatch:
        """Moved to ``device`` (Lightning calls this to transfer a batch)."""
        y = None if self.y is None else self.y.to(device, non_blocking=non_blocking)
        return FeatureBatch(self.x.to(device, non_blocking=non_blocking), y)

    def __len__(self) -> int:
        return self.x.shape[0]


class FeatureCollate:
    """Batches rows of a dense feature matrix (fingerprints) with their labels.

    Args:
        features: ``[n, D]`` float features.
        targets: ``[n, T]`` float labels (NaN = missing), or None for unlabelled data.
    """

    def __init__(self, features: np.ndarray, targets: np.ndarray | None = None) -> None:
        if targets is not None and len(targets) != len(features):
            raise ValueError(f"{len(targets)} label rows for {len(features)} feature rows")
        self.features = torch.as_tensor(np.asarray(features, dtype=np.float32))
        self.targets = None if targets is None else torch.as_tensor(np.asarray(targets, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.features)

    def __call__(self, indices: np.ndarray) -> FeatureBatch:
        rows = torch.as_tensor(np.asarray(indices, dtype=np.int64))
        return FeatureBatch(self.features[rows], None if self.targets is None else self.targets[rows])


@dataclass(frozen=True)
class SequenceBatch:
    """A batch of DNA sequences: ``x`` one-hot ``float32 [B, 4, L]`` (channels ``ACGT``; N per the model's
    ``n_value``, padding zeros) and optional labels ``y`` ``[B, T]`` (NaN = missing)."""

    x: torch.Tensor
    y: torch.Tensor | None = None

    def to(self, device: Any, non_blocking: bool = False) -> SequenceBatch:
        """Moved to ``device`` (Lightning calls this to transfer a batch)."""
        y = None if self.y is None else self.y.to(device, non_blocking=non_blocking)
        return SequenceBatch(self.x.to(device, non_blocking=non_blocking), y)

    def __len__(self) -> int:
        return self.x.shape[0]


class SequenceCollate:
    """Batches pre-encoded DNA with its labels; one-hot is built per batch from ``uint8`` codes.

    Args:
        codes: ``uint8 [n, L]`` from ``encode_indices(..., pad_value=PAD_CODE)`` (A0 C1 G2 T3 N4 pad5).
        targets: ``[n, T]`` float labels (NaN = missing), or None for unlabelled data.
        n_value: ``uniform`` (N = 0.25 per channel) or ``zero``.
    """

    def __init__(self, codes: np.ndarray, targets: np.ndarray | None = None, n_value: str = "uniform") -> None:
        if targets is not None and len(targets) != len(codes):
            raise ValueError(f"{len(targets)} label rows for {len(codes)} sequences")
        onehot_table(n_value)  # fail early on a bad name
        self.codes = np.ascontiguousarray(codes, dtype=np.uint8)
        self.n_value = n_value
        self.targets = None if targets is None else torch.as_tensor(np.asarray(targets, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.codes)

    def __call__(self, indices: np.ndarray) -> SequenceBatch:
        indices = np.asarray(indices, dtype=np.int64)
        x = torch.from_numpy(indices_to_onehot(self.codes[indices], self.n_value))
        y = None if self.targets is None else self.targets[torch.from_numpy(indices)]
        return SequenceBatch(x, y)


def padded_graph_batch(batch: Any, edge_multiple: int = 256, atom_multiple: int = 128) -> tuple[Any, int]:
    """``batch`` with one padding graph appended so its edge count is a multiple of ``edge_multiple`` and its atom
    count a multiple of ``atom_multiple``, and the number of real graphs.

    For bfloat16 inference on CPU: oneDNN builds (and caches) a kernel per matrix shape, so batches of varying
    atom and edge counts each paid that build and grew the cache by ~0.4 GB over 16k molecules; padded, the shapes
    repeat. The padding graph holds pairs of atoms joined by a bond in both directions (keeping the D-MPNN
    contract that edge ``e ^ 1`` reverses ``e``) and isolated atoms, all with zero features; its output row is the
    last, to be dropped: the real graphs' outputs do not depend on it.

    Shapes: ``x [A, F]``, ``edge_index [2, E]``, ``edge_attr [E, F_e]``, ``batch [A]``, ``ptr [B + 1]``,
    ``mol_features [B, D]`` → ``A' ≥ A + 1`` atoms, ``E' ≥ E`` edges, ``B + 1`` graphs.
    """
    from torch_geometric.data import Batch, Data

    n_atoms, n_edges, n_graphs = batch.x.size(0), batch.edge_index.size(1), int(batch.num_graphs)
    pairs = (-n_edges % edge_multiple) // 2  # E is even (paired), so is the padding if edge_multiple is
    padded_atoms = -(-(n_atoms + 2 * pairs + 1) // atom_multiple) * atom_multiple
    extra_atoms = padded_atoms - n_atoms
    first = torch.arange(pairs, device=batch.x.device) * 2 + n_atoms  # pair i: atoms first[i], first[i] + 1
    pair_edges = torch.stack([torch.stack([first, first + 1]), torch.stack([first + 1, first])], dim=2).reshape(2, -1)
    out = Batch(_base_cls=Data)
    out.x = torch.cat([batch.x, batch.x.new_zeros(extra_atoms, batch.x.size(1))])
    out.edge_index = torch.cat([batch.edge_index, pair_edges.to(batch.edge_index.dtype)], dim=1)
    out.edge_attr = torch.cat([batch.edge_attr, batch.edge_attr.new_zeros(2 * pairs, batch.edge_attr.size(1))])
    out.batch = torch.cat([batch.batch, batch.batch.new_full((extra_atoms,), n_graphs)])
    out.ptr = torch.cat([batch.ptr, batch.ptr.new_tensor([padded_atoms])])
    if getattr(batch, "mol_features", None) is not None:
        out.mol_features = torch.cat([batch.mol_features, batch.mol_features.new_zeros(1, batch.mol_features.size(1))])
    out._num_graphs = n_graphs + 1
    return out, n_graphs
