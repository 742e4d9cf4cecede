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
