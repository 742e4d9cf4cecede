"""Each DNA model, through the real Lightning core (SupervisedModule + build_trainer), overfits a tiny set."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molgen.config import OptimConfig, TrainerConfig, model_config
from molgen.data.splits import Split
from molgen.families.expression import REGRESSION_METRICS, SEQUENCE_ENCODERS, build_predictor
from molgen.genomics.encoding import PAD_CODE, encode_indices
from molgen.training.batches import SequenceCollate
from molgen.training.datamodules import SequenceDataModule
from molgen.training.modules import SupervisedModule
from molgen.training.tasks import build_task
from molgen.training.trainer import build_trainer, run, seed_everything

SPLIT = Split(train=np.arange(32), val=np.arange(32, 40), test=np.arange(40, 48))


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def planted(n: int = 48, length: int = 40, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Random DNA with 0-3 copies of TGACTCA; the target is the copy count."""
    rng = np.random.default_rng(seed)
    seqs, counts = [], []
    for i in range(n):
        seq = list(rng.choice(list("ACGT"), length))
        hits = i % 4
        for start in rng.choice(np.arange(0, length - 7, 9), hits, replace=False):
            seq[start : start + 7] = "TGACTCA"
        seqs.append("".join(seq))
        counts.append(hits)
    return seqs, np.asarray(counts, dtype=np.float32)[:, None]


def _train(name: str, task_type: str, targets: np.ndarray, tmp_path, rc_augment: bool = False):
    seed_everything(0)
    seqs, _ = planted()
    metrics = REGRESSION_METRICS if task_type == "regression" else None
    task = build_task(task_type, ["y"], metrics=metrics, train_targets=targets[SPLIT.train])
    sizes = {"hidden_dim": 16, "depth": 2, "ffn_hidden_dim": 32} if name != "kmer" else {}
    model = model_config({"name": name, **sizes, **({"n_heads": 2} if name == "transformer" else {})})
    predictor = build_predictor(model, task, length=40)
    module = SupervisedModule(
        predictor.encoder, predictor.head, predictor.task, OptimConfig(lr=3e-3, scheduler="constant")
    )
    monitor = "pearson" if task_type == "regression" else "roc_auc"
    trainer = build_trainer(
        TrainerConfig(max_epochs=40, patience=0, accelerator="cpu", devices=1, progress_bar=False),
        tmp_path,
        monitor=f"val/{monitor}",
        mode="max",
    )
    collate = SequenceCollate(encode_indices(seqs, 40, pad_value=PAD_CODE), targets)
    outcome = run(module, SequenceDataModule(collate, SPLIT, batch_size=16, rc_augment=rc_augment), trainer)
    return outcome, predictor.predict_rows(collate, SPLIT.train)


@pytest.mark.parametrize("name", SEQUENCE_ENCODERS.names())
def test_each_model_overfits_a_planted_motif(name, tmp_path):
    _, counts = planted()
    outcome, preds = _train(name, "regression", counts, tmp_path)
    assert set(outcome.test) == {"pearson", "spearman", "r2", "mse"}
    r = np.corrcoef(preds[:, 0].numpy(), counts[SPLIT.train, 0])[0, 1]
    assert r > 0.9, f"{name}: train pearson {r:.3f}"


def test_binary_task_with_reverse_complement_augmentation(tmp_path):
    _, counts = planted()
    labels = (counts >= 2).astype(np.float32)
    outcome, preds = _train("cnn", "binary", labels, tmp_path, rc_augment=True)
    train = labels[SPLIT.train, 0]
    positive, negative = preds[train == 1, 0], preds[train == 0, 0]
    assert (positive[:, None] > negative[None, :]).float().mean() > 0.9  # train ROC-AUC
    assert "roc_auc" in outcome.val and "roc_auc" in outcome.test


def test_rc_augmentation_flips_only_training_batches():
    seqs, counts = planted(8)
    collate = SequenceCollate(encode_indices(seqs, pad_value=PAD_CODE), counts)
    module = SequenceDataModule(collate, Split(np.arange(8), np.arange(0), np.arange(0)), batch_size=8, rc_augment=True)
    batch = collate(np.arange(8))

    class _Trainer:
        training = True

    module.trainer = _Trainer()
    flipped = module.on_after_batch_transfer(batch, 0)
    same = (flipped.x == batch.x).flatten(1).all(1)
    rc = (flipped.x == batch.x.flip((1, 2))).flatten(1).all(1)
    assert bool((same | rc).all()) and 0 < int(rc.sum()) < 8 and torch.equal(flipped.y, batch.y)
    _Trainer.training = False
    assert module.on_after_batch_transfer(batch, 0) is batch
