"""``SupervisedModule(encoder, head, task)``: the one Lightning module for supervised models.

It serves graph networks and DNA models alike: a batch is any object with a ``y`` attribute ``[B, T]``
that the encoder knows how to read. The task owns loss, masking and metrics; the module only composes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

import lightning.pytorch as L
import torch
from torch import nn
from torchmetrics import Metric

from molgen.config import OptimConfig
from molgen.evaluation.supervised import is_per_target
from molgen.training.optim import build_optimizer, encoder_param_groups
from molgen.training.tasks import Task

if TYPE_CHECKING:
    from molgen.training.privacy import PrivateTraining

log = logging.getLogger("molgen")


class PredictionCollector(Metric):
    """Concatenates predictions and labels over an epoch, gathered across DDP processes."""

    full_state_update = False
    # list states; after a DDP sync torchmetrics may hand back one concatenated tensor (see compute)
    preds: list[torch.Tensor]
    targets: list[torch.Tensor]

    def __init__(self) -> None:
        super().__init__()
        self.add_state("preds", default=[], dist_reduce_fx="cat")
        self.add_state("targets", default=[], dist_reduce_fx="cat")

    def update(self, preds: torch.Tensor, targets: torch.Tensor) -> None:
        self.preds.append(preds.detach().float())
        self.targets.append(targets.detach().float())

    def compute(self) -> tuple[torch.Tensor, torch.Tensor]:
        def cat(items: Any) -> torch.Tensor:
            return torch.cat(items) if isinstance(items, list) else items

        return cat(self.preds), cat(self.targets)


class SupervisedModule(L.LightningModule):
    """Composes ``head(encoder(batch))`` and trains it with the task's loss.

    Args:
        encoder: ``nn.Module`` mapping a batch to ``[B, D]`` embeddings.
        head: ``nn.Module`` mapping ``[B, D]`` to raw outputs ``[B, task.output_dim]``.
        task: a :class:`~molgen.training.tasks.Task` (loss, predictions, metrics).
        optim: optimizer and schedule settings (primitives, saved as hyperparameters).
        privacy: DP-SGD for this model (Opacus wraps the optimizer in :meth:`configure_optimizers`; the spent ε is
            logged as ``privacy/epsilon`` after each epoch), or None.
    """

    def __init__(
        self,
        encoder: nn.Module,
        head: nn.Module,
        task: Task,
        optim: OptimConfig,
        privacy: PrivateTraining | None = None,
    ) -> None:
        super().__init__()
        self.privacy = privacy
        self.save_hyperparameters({"optim": optim.model_dump()})
        self.encoder, self.head, self.task = encoder, head, task
        self.optim = optim
        self.collectors = nn.ModuleDict({"val": PredictionCollector(), "test": PredictionCollector()})
        self.results: dict[str, dict[str, float]] = {}

    def forward(self, batch: Any) -> torch.Tensor:
        return self.head(self.encoder(batch))

    @property
    def encoder_frozen(self) -> bool:
        """True when no encoder parameter trains (``--freeze-encoder``): the encoder then stays in eval mode."""
        params = list(self.encoder.parameters())
        return bool(params) and not any(p.requires_grad for p in params)

    def train(self, mode: bool = True) -> SupervisedModule:
        super().train(mode)
        if mode and self.encoder_frozen:  # batch-norm statistics and dropout of a frozen encoder stay fixed
            self.encoder.eval()
        return self

    def step(self, batch: Any, stage: str) -> torch.Tensor:
        outputs = self(batch)
        loss = self.task.loss(outputs, batch.y)
        batch_size = batch.y.shape[0]
        self.log(f"{stage}/loss", loss, batch_size=batch_size, on_step=False, on_epoch=True, sync_dist=stage != "train")
        if stage in self.collectors:
            cast(PredictionCollector, self.collectors[stage]).update(self.task.predict(outputs), batch.y)
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self.step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self.step(batch, "test")

    def predict_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self.task.predict(self(batch))

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val")

    def on_test_epoch_end(self) -> None:
        self._log_metrics("test")

    def _log_metrics(self, stage: str) -> None:
        collector = cast(PredictionCollector, self.collectors[stage])
        if not collector.update_called:
            return
        preds, targets = collector.compute()
        collector.reset()
        metrics = self.task.evaluate(preds, targets, split=stage)
        self.results[stage] = metrics
        # Metrics are computed on the gathered predictions, so every process logs the same values. A metric
        # that no target could be scored on is logged as NaN (the skip was warned about): early stopping and
        # checkpointing then treat the epoch as no improvement instead of failing on a missing key.
        # Per-target values (``rmse/<target>``) stay in ``results`` for metrics.json; logging them every epoch
        # would add hundreds of columns for multi-task data (ToxCast), so only pooled metrics are logged.
        pooled = {f"{stage}/{k}": v for k, v in metrics.items() if not is_per_target(k)}
        self.log_dict(pooled, sync_dist=False, rank_zero_only=False)

    def on_train_epoch_end(self) -> None:
        if self.privacy is not None:
            epsilon = self.privacy.spent()
            self.log("privacy/epsilon", epsilon, on_epoch=True)
            log.info("DP-SGD epoch %d: ε = %.3f spent (δ = %.3g)", self.current_epoch + 1, epsilon, self.privacy.delta)

    def configure_optimizers(self) -> Any:
        steps_per_epoch = self.trainer.estimated_stepping_batches / max(self.trainer.max_epochs or 1, 1)
        groups = encoder_param_groups(self, self.encoder, self.optim)
        config = build_optimizer(groups, self.optim, steps_per_epoch, self.trainer.max_epochs or 1)
        if self.privacy is not None:  # Opacus's DP optimizer over the Poisson-sampled train loader
            from molgen.errors import ConfigError

            if self.trainer.world_size > 1:
                raise ConfigError("DP-SGD (--dp-epsilon) trains on one device; set --devices 1")
            config["optimizer"] = self.privacy.make_private(
                self, config["optimizer"], cast(Any, self.trainer.train_dataloader)
            )
            if "lr_scheduler" in config:  # the schedule sets the wrapped optimizer's learning rate
                config["lr_scheduler"]["scheduler"].optimizer = config["optimizer"]
        return config
