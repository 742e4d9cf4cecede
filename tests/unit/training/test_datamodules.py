"""``SplitDataModule``: subset sizes, batch counts, and a seeded shuffle of the training rows only."""

import math

import numpy as np
import pytest
import torch
from tests.unit.training.helpers import make_datamodule

from molgen.data.splits import Split
from molgen.training.batches import SequenceCollate
from molgen.training.datamodules import SplitDataModule


def _rows(loader) -> list[int]:
    """Row index of every example a loader hands out (targets are the row numbers)."""
    return [int(v) for batch in loader for v in batch.y[:, 0]]


def _numbered(n: int, split: Split, batch_size: int, seed: int = 0) -> SplitDataModule:
    codes = np.zeros((n, 6), dtype=np.uint8)
    targets = np.arange(n, dtype=np.float32)[:, None]
    return SplitDataModule(SequenceCollate(codes, targets), split, batch_size=batch_size, seed=seed)


SPLIT = Split(np.arange(0, 23), np.arange(23, 30), np.arange(30, 33))


@pytest.mark.parametrize("batch_size", [1, 4, 8, 64])
def test_split_sizes_and_batch_counts(batch_size):
    dm = _numbered(33, SPLIT, batch_size)
    for loader, part in (
        (dm.train_dataloader(), SPLIT.train),
        (dm.val_dataloader(), SPLIT.val),
        (dm.test_dataloader(), SPLIT.test),
    ):
        batches = list(loader)
        assert len(batches) == len(loader) == math.ceil(len(part) / batch_size)
        assert sum(len(b) for b in batches) == len(part)
        assert all(len(b) == batch_size for b in batches[:-1])
        assert sorted(_rows(batches)) == part.tolist()


def test_only_training_rows_are_shuffled_and_the_shuffle_is_seeded():
    dm = _numbered(33, SPLIT, 4, seed=3)
    first, second = _rows(dm.train_dataloader()), _rows(dm.train_dataloader())
    assert first != SPLIT.train.tolist() and sorted(first) == SPLIT.train.tolist()
    assert first == second  # a fresh loader with the same seed replays the order
    assert _rows(_numbered(33, SPLIT, 4, seed=4).train_dataloader()) != first
    assert _rows(dm.val_dataloader()) == SPLIT.val.tolist()
    assert _rows(dm.test_dataloader()) == SPLIT.test.tolist()
    assert _rows(dm.val_dataloader()) == _rows(dm.val_dataloader())


def test_consecutive_epochs_of_one_loader_differ():
    loader = _numbered(33, SPLIT, 4, seed=0).train_dataloader()
    assert _rows(loader) != _rows(loader)


def test_graph_batches_carry_their_rows_labels(tiny):
    dm = make_datamodule(tiny, batch_size=5)
    batches = list(dm.val_dataloader())
    assert [b.num_graphs for b in batches] == [5, 3]
    expected = torch.as_tensor(tiny.targets[tiny.split.val])
    got = torch.cat([b.y for b in batches])
    assert torch.equal(torch.isnan(got), torch.isnan(expected))
    assert torch.equal(torch.nan_to_num(got), torch.nan_to_num(expected))
    atoms = np.diff(tiny.graphs.atom_ptr)[tiny.split.val]
    assert sum(b.x.shape[0] for b in batches) == atoms.sum()


def test_an_empty_subset_gives_no_batches():
    dm = _numbered(10, Split(np.arange(10), np.array([], dtype=np.int64), np.array([], dtype=np.int64)), 4)
    assert len(dm.val_dataloader()) == 0 and list(dm.test_dataloader()) == []
