"""Token batching (length buckets), the KL schedule and the per-token loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molgen.chem.tokens import PAD_ID
from molgen.training.generative import KLSchedule, TokenBatches, token_nll


def _sequences(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(4, 20, size=rng.integers(3, 60)) for _ in range(n)]


def test_batches_cover_every_sequence_once_and_bucket_by_length() -> None:
    sequences = _sequences(1000)
    bucketed = TokenBatches(sequences, 32, seed=1)
    plain = TokenBatches(sequences, 32, bucket=False)
    rows = np.concatenate(bucketed.batches)
    assert sorted(rows.tolist()) == list(range(1000))
    assert bucketed.padding_fraction < 0.1 < plain.padding_fraction
    ids, lengths = bucketed[0]
    assert ids.shape == (len(bucketed.batches[0]), int(lengths.max()))
    assert all(ids[i, lengths[i] :].eq(PAD_ID).all() for i in range(len(lengths)))


def test_batches_are_seeded() -> None:
    sequences = _sequences(200)
    first = TokenBatches(sequences, 16, seed=3).batches
    assert all(np.array_equal(a, b) for a, b in zip(first, TokenBatches(sequences, 16, seed=3).batches))
    assert not all(np.array_equal(a, b) for a, b in zip(first, TokenBatches(sequences, 16, seed=4).batches))


def test_kl_schedule_rises_linearly_then_holds() -> None:
    schedule = KLSchedule(start=0.0, end=0.1, begin=2, epochs=4)
    assert schedule.weight(0) == 0.0 and schedule.weight(2) == 0.0
    assert schedule.weight(4) == pytest.approx(0.05)
    assert schedule.weight(6) == pytest.approx(0.1) and schedule.weight(50) == pytest.approx(0.1)
    assert KLSchedule(0.0, 0.2, 1, 0).weight(1) == 0.2


def test_token_nll_ignores_padding() -> None:
    logits = torch.zeros(2, 3, 10)
    targets = torch.tensor([[5, 6, PAD_ID], [7, PAD_ID, PAD_ID]])
    total, count = token_nll(logits, targets)
    assert int(count) == 3
    assert float(total) == pytest.approx(3 * np.log(10), rel=1e-5)


def test_max_minutes_becomes_a_training_time_limit(tmp_path) -> None:
    from datetime import timedelta

    from lightning.pytorch.callbacks import Timer

    from molgen.config import TrainerConfig
    from molgen.training.trainer import build_trainer

    trainer = build_trainer(TrainerConfig(max_minutes=1.5, accelerator="cpu"), tmp_path, monitor="val/loss", mode="min")
    timers = [c for c in trainer.callbacks if isinstance(c, Timer)]
    assert len(timers) == 1 and timers[0]._duration == timedelta(minutes=1.5).total_seconds()
    unlimited = build_trainer(TrainerConfig(accelerator="cpu"), tmp_path, monitor="val/loss", mode="min")
    assert not any(isinstance(c, Timer) for c in unlimited.callbacks)
