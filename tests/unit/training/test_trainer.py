"""``build_trainer`` + ``run``: a real tiny Lightning fit on CPU, its checkpoints, and resuming from ``last.ckpt``."""

import copy

import lightning.pytorch as L
import pytest
import torch
from tests.unit.training.helpers import make_datamodule, make_module

from molgen.config import OptimConfig, TrainerConfig
from molgen.errors import TrainingDivergedError
from molgen.training.trainer import (
    LAST_CHECKPOINT,
    build_trainer,
    quiet_lightning,
    run,
    seed_everything,
)

STEPS_PER_EPOCH = 3  # 24 training rows in batches of 8


def _trainer(tmp_path, max_epochs: int, *extra: L.Callback) -> L.Trainer:
    quiet_lightning()
    cfg = TrainerConfig(
        max_epochs=max_epochs, patience=0, accelerator="cpu", devices=1, progress_bar=False, log_every_n_steps=1
    )
    return build_trainer(cfg, tmp_path, monitor="val/rmse", mode="min", extra_callbacks=list(extra))


class _AtTrainStart(L.Callback):
    """Records where training (re)starts: epoch, step, the optimizer's and the schedule's state."""

    def on_train_start(self, trainer, pl_module):
        self.epoch, self.step = trainer.current_epoch, trainer.global_step
        self.optimizer = copy.deepcopy(trainer.optimizers[0].state_dict())  # its tensors change in place
        self.scheduler = copy.deepcopy(trainer.lr_scheduler_configs[0].scheduler.state_dict())
        self.weights = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}


def test_fit_writes_checkpoints_and_logs_and_scores_the_best_model(tiny, tmp_path):
    seed_everything(0)
    module = make_module(tiny)
    before = [p.detach().clone() for p in module.parameters()]
    outcome = run(module, make_datamodule(tiny), _trainer(tmp_path, 2))
    assert outcome.epochs == 2
    assert outcome.best_checkpoint == str(tmp_path / "checkpoints" / "best.ckpt")
    assert (tmp_path / "checkpoints" / LAST_CHECKPOINT).is_file()
    assert (tmp_path / "logs" / "metrics.csv").is_file()
    assert set(outcome.val) >= {"rmse", "mae", "r2"} and set(outcome.test) >= {"rmse"}
    assert all(torch.isfinite(torch.tensor(v)) for v in outcome.val.values())
    assert any(not torch.equal(a, b) for a, b in zip(before, module.parameters()))  # it trained
    # run() leaves the best checkpoint's weights in the module
    best = torch.load(outcome.best_checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    assert all(torch.equal(best[k], v) for k, v in module.state_dict().items())


def test_resume_continues_from_the_saved_epoch_with_the_same_optimizer_state(tiny, tmp_path):
    seed_everything(0)
    run(make_module(tiny), make_datamodule(tiny), _trainer(tmp_path, 2), test=False)
    saved = torch.load(tmp_path / "checkpoints" / LAST_CHECKPOINT, map_location="cpu", weights_only=True)
    epoch, step = saved["epoch"], saved["global_step"]
    assert step == (epoch + 1) * STEPS_PER_EPOCH and step > 0

    seed_everything(1)  # a fresh module with other initial weights: resuming must replace them
    probe = _AtTrainStart()
    outcome = run(make_module(tiny), make_datamodule(tiny), _trainer(tmp_path, 3, probe), resume=True, test=False)
    assert (probe.epoch, probe.step) == (epoch + 1, step)
    assert outcome.epochs == 3
    assert all(torch.equal(saved["state_dict"][k], v) for k, v in probe.weights.items())

    expected = saved["optimizer_states"][0]
    assert probe.optimizer["param_groups"] == expected["param_groups"]  # learning rate included
    assert probe.optimizer["state"].keys() == expected["state"].keys() and expected["state"]
    for key, moments in expected["state"].items():
        for name, value in moments.items():
            assert torch.equal(probe.optimizer["state"][key][name], value), (key, name)
    assert probe.scheduler["last_epoch"] == step == saved["lr_schedulers"][0]["last_epoch"]


def test_last_checkpoint_is_the_last_epoch_even_without_improvement(tiny, tmp_path):
    seed_everything(0)
    frozen = make_module(tiny, optim=OptimConfig(lr=0.0))  # val/rmse never improves after epoch 0
    run(frozen, make_datamodule(tiny), _trainer(tmp_path, 2), test=False)
    saved = torch.load(tmp_path / "checkpoints" / LAST_CHECKPOINT, map_location="cpu", weights_only=True)
    assert (saved["epoch"], saved["global_step"]) == (1, 2 * STEPS_PER_EPOCH)


def test_resume_without_a_checkpoint_starts_from_scratch(tiny, tmp_path, caplog):
    seed_everything(0)
    probe = _AtTrainStart()
    with caplog.at_level("WARNING", logger="molgen"):
        outcome = run(make_module(tiny), make_datamodule(tiny), _trainer(tmp_path, 1, probe), resume=True, test=False)
    assert (probe.epoch, probe.step) == (0, 0) and outcome.epochs == 1
    assert f"{LAST_CHECKPOINT} to resume from" in caplog.text


@pytest.mark.parametrize("patience", [1])
def test_early_stopping_is_wired_to_the_monitored_metric(tiny, tmp_path, patience):
    cfg = TrainerConfig(max_epochs=5, patience=patience, accelerator="cpu", devices=1, progress_bar=False)
    trainer = build_trainer(cfg, tmp_path, monitor="val/rmse", mode="min")
    stoppers = [c for c in trainer.callbacks if isinstance(c, L.callbacks.EarlyStopping)]
    assert len(stoppers) == 1 and stoppers[0].monitor == "val/rmse" and stoppers[0].patience == patience


class _PoisonWeights(L.Callback):
    """Makes every weight NaN before the first batch of epoch ``at``: the loss of that epoch is NaN."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.current_epoch == self.at and batch_idx == 0:
            with torch.no_grad():
                for parameter in pl_module.parameters():
                    parameter.fill_(float("nan"))


def test_a_nan_training_loss_stops_the_fit_with_an_error_naming_the_epoch(tiny, tmp_path):
    seed_everything(0)
    with pytest.raises(TrainingDivergedError, match=r"training loss is nan in epoch 1 .*--lr"):
        run(make_module(tiny), make_datamodule(tiny), _trainer(tmp_path, 3, _PoisonWeights(at=1)))
