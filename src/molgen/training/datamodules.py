"""DataModules: a split of row indices plus a collate object that turns indices into a batch.

The input kind lives in the collate object (graphs here; sequences and tokens reuse the same module), so
there is one DataModule class and one ``Collate`` per input kind. Batches are built from packed arrays
in one vectorized call per batch; the DataLoader only hands out index lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import lightning.pytorch as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from molgen.chem.graphs import PackedGraphs
from molgen.data.splits import Split


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


class _Indices(Dataset):
    def __init__(self, indices: np.ndarray) -> None:
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> int:
        return int(self.indices[i])


class _CollateIndices:
    """DataLoader ``collate_fn``: a list of row indices → one batch (picklable for worker processes)."""

    def __init__(self, collate: Collate) -> None:
        self.collate = collate

    def __call__(self, items: list[int]) -> Any:
        return self.collate(np.asarray(items, dtype=np.int64))


class SplitDataModule(L.LightningDataModule):
    """Train/val/test loaders over one split of row indices.

    Args:
        collate: builds a batch from row indices.
        split: row indices of each subset.
        batch_size: examples per batch.
        seed: seeds the training shuffle.
    """

    def __init__(self, collate: Collate, split: Split, batch_size: int = 64, seed: int = 0) -> None:
        super().__init__()
        self.collate, self.split, self.batch_size, self.seed = collate, split, batch_size, seed

    def _loader(self, indices: Sequence[int], shuffle: bool) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed) if shuffle else None
        return DataLoader(
            _Indices(np.asarray(indices)),
            batch_size=self.batch_size,
            shuffle=shuffle,
            generator=generator,
            collate_fn=_CollateIndices(self.collate),
            num_workers=0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.split.train, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.split.val, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.split.test, shuffle=False)
