"""``PretrainModule``: the Lightning side of self-supervised pretraining (weighted objectives, throughput).

Logs ``train/loss`` and ``val/loss`` (the weighted sum) and one ``<stage>/<objective>`` per objective; validation
masks are seeded by batch, so ``val/loss`` compares across epochs. It counts the molecules trained on and the
seconds spent in training batches (data waits included, validation excluded): ``molecules_per_s``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import lightning.pytorch as L
import torch

from molgen.config import OptimConfig
from molgen.models.pretraining import PretrainModel
from molgen.training.optim import build_optimizer
from molgen.training.stream import ChunkDone

log = logging.getLogger("molgen")


class PretrainModule(L.LightningModule):
    """Trains a :class:`~molgen.models.pretraining.PretrainModel` on the weighted sum of its objectives.

    Args:
        model: encoder + heads.
        weights: objective → loss weight (``descriptors``, ``masking``, ``contrastive``).
        optim: optimizer and schedule settings.
        mask_rate: fraction of atoms (and bonds) masked; descriptor_mask_rate: fraction of descriptor targets dropped.
        atom_columns / bond_columns: where the atom type and bond type one-hots are in the features.
        steps_per_epoch: optimizer steps of one pass over the corpus (the schedule's epoch; a stream has no length).
        log_every: log one throughput line every this many steps.
    """

    def __init__(
        self,
        model: PretrainModel,
        weights: dict[str, float],
        optim: OptimConfig,
        *,
        mask_rate: float,
        descriptor_mask_rate: float,
        atom_columns: int,
        bond_columns: tuple[int, int],
        steps_per_epoch: float,
        log_every: int = 200,
    ) -> None:
        super().__init__()
        self.save_hyperparameters({"optim": optim.model_dump(), "weights": dict(weights)})
        self.model, self.weights, self.optim = model, dict(weights), optim
        self.mask_rate, self.descriptor_mask_rate = mask_rate, descriptor_mask_rate
        self.atom_columns, self.bond_columns, self.log_every = atom_columns, bond_columns, log_every
        self.steps_per_epoch = steps_per_epoch
        self.results: dict[str, dict[str, float]] = {}
        self.molecules, self.train_seconds = 0, 0.0
        self._clock: float | None = None
        self._val: dict[str, float] = {}

    def losses(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """The loss of each objective for one batch."""
        out = {}
        if "descriptors" in self.weights:
            out["descriptors"] = self.model.descriptor_loss(batch, self.descriptor_mask_rate, generator)
        if "masking" in self.weights:
            out["masking"] = self.model.masking_loss(
                batch, self.mask_rate, self.atom_columns, self.bond_columns, generator
            )
        if "contrastive" in self.weights:
            out["contrastive"] = self.model.contrastive_loss(batch, self.mask_rate, generator)
        return out

    def _total(self, losses: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.stack([self.weights[name] * value for name, value in losses.items()]).sum()

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor | None:
        if isinstance(batch, ChunkDone):
            return None  # a chunk without valid molecules: nothing to learn, its end is still recorded
        losses = self.losses(batch)
        loss = self._total(losses)
        n = int(batch.num_graphs)
        self.log("train/loss", loss, batch_size=n, on_step=True, on_epoch=True, prog_bar=True)
        for name, value in losses.items():
            self.log(f"train/{name}", value, batch_size=n, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        generator = torch.Generator().manual_seed(batch_idx)
        losses = self.losses(batch, generator)
        n = int(batch.num_graphs)
        for name, value in {"loss": self._total(losses), **losses}.items():
            self._val[name] = self._val.get(name, 0.0) + float(value) * n
        self._val["_n"] = self._val.get("_n", 0.0) + n
        self.log("val/loss", self._total(losses), batch_size=n, on_epoch=True)

    def on_validation_epoch_end(self) -> None:
        n = self._val.pop("_n", 0.0)
        if n:
            self.results["val"] = {name: total / n for name, total in self._val.items()}
        self._val = {}
        self._clock = time.perf_counter()  # the next training interval starts now

    def on_train_start(self) -> None:
        self._clock = time.perf_counter()

    def on_train_epoch_start(self) -> None:
        self._clock = time.perf_counter()

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        now = time.perf_counter()
        self.train_seconds += now - (self._clock or now)
        self._clock = now
        if isinstance(batch, ChunkDone):
            return
        self.molecules += int(batch.num_graphs)
        self.log("train/molecules_per_s", self.molecules_per_s, on_step=True, on_epoch=False)
        step = self.global_step
        if self.log_every and step % self.log_every == 0 and self.trainer.is_global_zero:
            log.info(
                "pretrain step %d: %d molecules, %.0f molecules/s, loss %.4f",
                step,
                self.molecules,
                self.molecules_per_s,
                float(outputs["loss"]) if isinstance(outputs, dict) else float("nan"),
            )

    @property
    def molecules_per_s(self) -> float:
        return self.molecules / self.train_seconds if self.train_seconds > 0 else 0.0

    def configure_optimizers(self) -> Any:
        return build_optimizer(self.parameters(), self.optim, self.steps_per_epoch, self.trainer.max_epochs or 1)
