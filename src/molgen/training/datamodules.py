"""DataModules: a split of row indices plus a collate object that turns indices into a batch.

The input kind lives in the collate object (graphs, DNA sequences; tokens reuse the same module), so
there is one DataModule class and one ``Collate`` per input kind. Batches are built from packed arrays
in one vectorized call per batch (``training/batches.py``); the DataLoader only hands out index lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightning.pytorch as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from molgen.data.splits import Split
from molgen.training.batches import Collate, SequenceBatch


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
        self.private: Any = None
        """A :class:`~molgen.training.privacy.PrivateTraining` whose Poisson-sampled loader replaces the train
        loader (DP-SGD), or None."""

    def _loader(self, indices: Sequence[int] | np.ndarray, shuffle: bool) -> DataLoader:
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
        if self.private is not None:
            return self.private.train_loader(_Indices(self.split.train), _CollateIndices(self.collate))
        return self._loader(self.split.train, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.split.val, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.split.test, shuffle=False)


class SequenceDataModule(SplitDataModule):
    """:class:`SplitDataModule` plus reverse-complement augmentation of training batches.

    With ``rc_augment``, each training example is replaced by its reverse complement with probability
    1/2 (a fresh seeded draw per batch, after the batch reaches the device); validation and test
    batches are never changed.
    """

    def __init__(
        self, collate: Collate, split: Split, batch_size: int = 64, seed: int = 0, rc_augment: bool = False
    ) -> None:
        super().__init__(collate, split, batch_size=batch_size, seed=seed)
        self.rc_augment = rc_augment
        self._generator = torch.Generator().manual_seed(seed + 7919)

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        trainer = getattr(self, "trainer", None)
        if not (self.rc_augment and trainer is not None and trainer.training):
            return batch
        flip = torch.rand(len(batch), generator=self._generator) < 0.5
        flip = flip.to(batch.x.device)
        x = torch.where(flip[:, None, None], batch.x.flip((1, 2)), batch.x)
        return SequenceBatch(x, batch.y)
