"""Each graph model, through the real Lightning core, overfits a tiny molecule set."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molgen.chem.graphs import FeaturizerSpec, featurize_smiles
from molgen.config import ModelConfig, OptimConfig, TrainerConfig
from molgen.data.splits import Split
from molgen.recipes.property import GRAPH_ENCODERS, build_predictor
from molgen.training.batches import GraphCollate
from molgen.training.datamodules import SplitDataModule
from molgen.training.modules import SupervisedModule
from molgen.training.tasks import build_task
from molgen.training.trainer import build_trainer, quiet_lightning, run, seed_everything

from tests.conftest import MOLECULES, crippen_logp

SPLIT = Split(train=np.arange(30), val=np.arange(30, 35), test=np.arange(35, 40))


def _train(model_name: str, task_type: str, targets: np.ndarray, tmp_path, epochs: int = 60, descriptors: bool = False):
    quiet_lightning()
    seed_everything(0)
    spec = FeaturizerSpec(descriptors=descriptors)
    featurized = featurize_smiles(MOLECULES, spec)
    assert len(featurized.graphs) == len(MOLECULES)
    task = build_task(task_type, [f"t{i}" for i in range(targets.shape[1])], train_targets=targets[SPLIT.train])
    mol_features = featurized.graphs.mol_features
    predictor = build_predictor(
        # Crippen logP is a sum of atom contributions: a sum readout can represent it exactly (a mean readout
        # cannot tell cyclohexane from the 30-membered ring). AttentiveFP keeps its own attention readout.
        ModelConfig(name=model_name, hidden_dim=64, depth=3, readout=None if model_name == "attentivefp" else "sum"),
        spec, task,
        None if mol_features is None else mol_features[SPLIT.train],
    )
    module = SupervisedModule(predictor.encoder, predictor.head, predictor.task, OptimConfig(lr=3e-3, scheduler="constant"))
    monitor = "rmse" if task_type == "regression" else "roc_auc"
    trainer = build_trainer(
        TrainerConfig(max_epochs=epochs, patience=0, accelerator="cpu", devices=1, progress_bar=False),
        tmp_path, monitor=f"val/{monitor}", mode="min" if monitor == "rmse" else "max",
        enable_checkpointing=False,  # judge the final weights, not the best-validation epoch
    )
    collate = GraphCollate(featurized.graphs, targets)
    outcome = run(module, SplitDataModule(collate, SPLIT, batch_size=10), trainer)
    train_preds = predictor.predict_rows(collate, SPLIT.train)
    return outcome, train_preds


@pytest.mark.parametrize("model_name", GRAPH_ENCODERS.names())
def test_each_model_overfits_logp(model_name, tmp_path):
    targets = np.array([[crippen_logp(s)] for s in MOLECULES], dtype=np.float32)
    outcome, preds = _train(model_name, "regression", targets, tmp_path, epochs=80)
    train_rmse = torch.sqrt(((preds - torch.as_tensor(targets[SPLIT.train])) ** 2).mean()).item()
    assert train_rmse < 0.35 * targets[SPLIT.train].std(), f"{model_name} did not fit: rmse {train_rmse:.3f}"
    assert set(outcome.test) == {"rmse", "mae", "r2"}


def test_multilabel_with_missing_labels_overfits(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.array([[1.0 if "c" in s else 0.0, 1.0 if "N" in s or "n" in s else 0.0] for s in MOLECULES], dtype=np.float32)
    labels[rng.random(labels.shape) < 0.2] = np.nan
    labels[:10, 1] = np.nan  # whole batches with one task unlabelled
    outcome, preds = _train("dmpnn", "multilabel", labels, tmp_path, epochs=40)
    train = labels[SPLIT.train]
    mask = ~np.isnan(train)
    accuracy = ((preds.numpy() > 0.5) == (train > 0.5))[mask].mean()
    assert accuracy > 0.95
    assert np.isfinite(outcome.val["roc_auc"]) or np.isnan(outcome.val["roc_auc"])


def test_descriptors_as_extra_features_train(tmp_path):
    targets = np.array([[crippen_logp(s)] for s in MOLECULES], dtype=np.float32)
    outcome, preds = _train("gin", "regression", targets, tmp_path, epochs=30, descriptors=True)
    assert torch.isfinite(preds).all()
    assert outcome.test["rmse"] == outcome.test["rmse"]  # not NaN
