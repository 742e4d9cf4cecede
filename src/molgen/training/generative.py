"""Lightning side of the token generators: a length-bucketed token DataModule, the language-model module
(CharRNN) and the VAE module (reconstruction + β·KL with linear annealing).

Both log ``train/loss`` and ``val/loss`` (per-token NLL for the language model; for the VAE, per-token
reconstruction NLL + ``kl_weight_end`` · KL per molecule, so that epochs compare under one fixed objective
while β is still rising), and keep the validation metrics of the last validation in ``results["val"]`` as
:func:`molgen.training.trainer.run` expects.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import lightning.pytorch as L
import numpy as np
import torch
from torch.nn import functional as F
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader, Dataset

from molgen.chem.tokens import PAD_ID
from molgen.config import OptimConfig
from molgen.models.generative.charrnn import CharRNN
from molgen.models.generative.smiles_vae import SmilesVAE, kl_divergence
from molgen.training.optim import build_optimizer

POOL_BATCHES = 50
"""Batches per pool sorted by length when bucketing (bigger: less padding, less randomness)."""


class TokenBatches(Dataset):
    """Pre-cut batches of token sequences, each returned as ``(ids [B, L] int64, lengths [B] int64)``.

    Sequences are shuffled (seeded), grouped in pools of ``POOL_BATCHES`` batches, sorted by length inside a pool
    and cut into batches, so that a batch holds sequences of similar length (little padding). The DataLoader
    then shuffles the batch order every epoch.
    """

    def __init__(self, sequences: Sequence[np.ndarray], batch_size: int, *, seed: int = 0, bucket: bool = True) -> None:
        if not sequences:
            raise ValueError("no token sequences to batch")
        order = np.random.default_rng(seed).permutation(len(sequences)) if bucket else np.arange(len(sequences))
        lengths = np.array([len(s) for s in sequences])
        batches: list[np.ndarray] = []
        pool = batch_size * POOL_BATCHES
        for start in range(0, len(order), pool):
            chunk = order[start : start + pool]
            if bucket:
                chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
        self.sequences, self.batches = sequences, batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        rows = [torch.from_numpy(self.sequences[j]) for j in self.batches[i]]
        return pad_sequence(rows, batch_first=True, padding_value=PAD_ID), torch.tensor([len(r) for r in rows])

    @property
    def padding_fraction(self) -> float:
        """Share of padded positions over all batches."""
        padded = sum(len(b) * max(len(self.sequences[j]) for j in b) for b in self.batches)
        real = sum(len(s) for s in self.sequences)
        return 1.0 - real / padded


class TokenDataModule(L.LightningDataModule):
    """Train/val loaders over id sequences (``<bos> … <eos>``), bucketed by length.

    Args:
        train: int64 id arrays of the training split.
        val: int64 id arrays of the validation split.
        batch_size: sequences per batch.
        seed: seeds the bucketing and the batch order.
    """

    def __init__(
        self, train: Sequence[np.ndarray], val: Sequence[np.ndarray], batch_size: int = 64, seed: int = 0
    ) -> None:
        super().__init__()
        self.train_batches = TokenBatches(train, batch_size, seed=seed)
        self.val_batches = TokenBatches(val, batch_size, seed=seed)
        self.seed = seed

    def train_dataloader(self) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(self.train_batches, batch_size=None, shuffle=True, generator=generator, num_workers=0)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_batches, batch_size=None, shuffle=False, num_workers=0)


def token_nll(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed NLL (nats) of ``targets [B, L]`` under ``logits [B, L, V]``, ``<pad>`` ignored; and the token count."""
    total = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1), ignore_index=PAD_ID, reduction="sum"
    )
    return total, (targets != PAD_ID).sum()


class _TokenModule(L.LightningModule):
    """Optimizer, validation sums and ``results`` shared by the token modules."""

    def __init__(self, optim: OptimConfig) -> None:
        super().__init__()
        self.optim = optim
        self.results: dict[str, dict[str, float]] = {}
        self._sums: dict[str, torch.Tensor] = {}

    def _accumulate(self, **values: torch.Tensor) -> None:
        for name, value in values.items():
            self._sums[name] = self._sums.get(name, 0) + value.detach().double()

    def _gathered_sums(self) -> dict[str, float]:
        sums = {}
        for name, value in self._sums.items():
            value = torch.as_tensor(value, device=self.device)
            if self.trainer.world_size > 1:
                value = cast(torch.Tensor, self.all_gather(value)).sum()  # a tensor in, a tensor out
            sums[name] = float(value)
        self._sums = {}
        return sums

    def on_validation_epoch_start(self) -> None:
        self._sums = {}

    def _publish(self, metrics: dict[str, float]) -> None:
        self.results["val"] = metrics
        self.log_dict({f"val/{k}": v for k, v in metrics.items()}, sync_dist=False, rank_zero_only=False)

    def configure_optimizers(self) -> Any:
        steps_per_epoch = self.trainer.estimated_stepping_batches / max(self.trainer.max_epochs or 1, 1)
        return build_optimizer(self.parameters(), self.optim, steps_per_epoch, self.trainer.max_epochs or 1)


class LanguageModelModule(_TokenModule):
    """Next-token prediction with a :class:`CharRNN`; loss = NLL per token (nats)."""

    def __init__(self, model: CharRNN, optim: OptimConfig) -> None:
        super().__init__(optim)
        self.save_hyperparameters({"optim": optim.model_dump()})
        self.model = model

    def _nll(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        ids, lengths = batch
        logits = self.model(ids[:, :-1], lengths - 1)
        return token_nll(logits, ids[:, 1:])

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        total, count = self._nll(batch)
        loss = total / count
        self.log("train/loss", loss, batch_size=int(count), on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        total, count = self._nll(batch)
        self._accumulate(nll=total, tokens=count)

    def on_validation_epoch_end(self) -> None:
        sums = self._gathered_sums()
        if sums:
            self._publish({"loss": sums["nll"] / max(sums["tokens"], 1.0)})


@dataclass(frozen=True)
class KLSchedule:
    """β rises linearly from ``start`` to ``end`` over ``epochs`` epochs beginning at epoch ``begin``."""

    start: float = 0.0
    end: float = 0.05
    begin: int = 0
    epochs: int = 10

    def weight(self, epoch: float) -> float:
        if self.epochs <= 0:
            return self.end if epoch >= self.begin else self.start
        progress = min(max((epoch - self.begin) / self.epochs, 0.0), 1.0)
        return self.start + (self.end - self.start) * progress


class VAEModule(_TokenModule):
    """Trains a :class:`SmilesVAE`: per-token reconstruction NLL + β(epoch) · KL per molecule.

    Logs ``train/loss``, ``train/recon``, ``train/kl``, ``train/beta`` and ``val/loss``, ``val/recon``, ``val/kl``
    (``val/loss`` uses β = ``schedule.end``).
    """

    def __init__(self, model: SmilesVAE, optim: OptimConfig, schedule: KLSchedule) -> None:
        super().__init__(optim)
        self.save_hyperparameters({"optim": optim.model_dump(), "kl": dataclasses.asdict(schedule)})
        self.model, self.schedule = model, schedule

    def _terms(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        ids, lengths = batch
        logits, mu, logvar = self.model(ids, lengths)
        total, count = token_nll(logits, ids[:, 1:])
        return total, count, kl_divergence(mu.float(), logvar.float())

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        total, count, kl = self._terms(batch)
        recon = total / count
        batches = self.trainer.num_training_batches
        epoch = self.current_epoch + (batch_idx / batches if math.isfinite(batches) and batches else 0.0)
        beta = self.schedule.weight(epoch)
        loss = recon + beta * kl
        size = batch[0].shape[0]
        self.log_dict(
            {"train/loss": loss, "train/recon": recon, "train/kl": kl, "train/beta": beta},
            batch_size=size,
            on_step=False,
            on_epoch=True,
        )
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        total, count, kl = self._terms(batch)
        size = torch.tensor(batch[0].shape[0], device=total.device)
        self._accumulate(nll=total, tokens=count, kl=kl * size, molecules=size)

    def on_validation_epoch_end(self) -> None:
        sums = self._gathered_sums()
        if sums:
            recon = sums["nll"] / max(sums["tokens"], 1.0)
            kl = sums["kl"] / max(sums["molecules"], 1.0)
            self._publish({"loss": recon + self.schedule.end * kl, "recon": recon, "kl": kl})
