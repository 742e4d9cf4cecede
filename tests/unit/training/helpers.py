"""A tiny real supervised setup for the training tests: 40 featurized molecules, a small D-MPNN and head."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tests.conftest import MOLECULES

from molgen.chem.featurize.graphs import PackedGraphs, featurize_smiles
from molgen.config import OptimConfig
from molgen.data.splits import Split
from molgen.models.graph import DMPNN
from molgen.models.heads import PredictionHead
from molgen.training.batches import GraphCollate
from molgen.training.datamodules import SplitDataModule
from molgen.training.modules import SupervisedModule
from molgen.training.tasks import Task, build_task

HIDDEN = 16


@dataclass
class Tiny:
    graphs: PackedGraphs
    targets: np.ndarray  # [40, 2]: a learnable value and one with gaps (NaN)
    split: Split  # 24 / 8 / 8


def build_tiny() -> Tiny:
    graphs = featurize_smiles(MOLECULES).graphs
    n = len(MOLECULES)
    rng = np.random.default_rng(0)
    atoms = np.diff(graphs.atom_ptr).astype(np.float32)
    targets = np.stack([atoms / 10.0, rng.normal(size=n).astype(np.float32)], axis=1)
    targets[::5, 1] = np.nan
    order = rng.permutation(n)
    return Tiny(graphs, targets, Split(order[:24], order[24:32], order[32:]))


def make_module(tiny: Tiny, task_type: str = "regression", optim: OptimConfig | None = None) -> SupervisedModule:
    train_targets = tiny.targets[tiny.split.train]
    if task_type != "regression":
        train_targets = (train_targets > np.nanmedian(train_targets, axis=0)).astype(np.float32)
    task: Task = build_task(task_type, ["a", "b"], train_targets=train_targets)
    encoder = DMPNN(tiny.graphs.atom_dim, tiny.graphs.bond_dim, hidden_dim=HIDDEN, depth=2)
    head = PredictionHead(HIDDEN, task.output_dim, hidden_dim=HIDDEN, n_layers=2)
    return SupervisedModule(encoder, head, task, optim or OptimConfig(lr=1e-3))


def make_datamodule(tiny: Tiny, batch_size: int = 8, seed: int = 0) -> SplitDataModule:
    return SplitDataModule(GraphCollate(tiny.graphs, tiny.targets), tiny.split, batch_size=batch_size, seed=seed)
