"""Descriptor scaling of a property model: a heavy-tailed RDKit descriptor (Ipc reaches 7e30 in Lipophilicity)
must not overflow the training statistics and turn every prediction and loss into NaN."""

from __future__ import annotations

import numpy as np
import torch

from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles
from molgen.config import GraphModelConfig
from molgen.families.property import build_predictor
from molgen.training.tasks import build_task


def test_a_descriptor_beyond_the_float32_square_range_is_scaled_to_finite_values():
    spec = FeaturizerSpec(descriptors=True)
    graphs = featurize_smiles(["CCO", "c1ccccc1O", "CC(=O)N"], spec).graphs
    features = np.tile(np.arange(1, 4, dtype=np.float32)[:, None], (1, spec.mol_feature_dim))
    features[:, 0] = [3e30, 1e10, 2e5]  # squares overflow float32; as the old float32 std did
    with np.errstate(over="ignore"):
        assert not np.isfinite(features.std(0)).all()
    task = build_task("regression", ["y"], train_targets=np.zeros((3, 1), np.float32))
    model = GraphModelConfig(name="dmpnn", hidden_dim=8, depth=2, ffn_hidden_dim=8)
    predictor = build_predictor(model, spec, task, features)
    scaling = predictor.encoder
    assert torch.isfinite(scaling.feature_std).all() and float(scaling.feature_std[0]) > 1e29
    batch = graphs.collate([0, 1, 2])
    batch.mol_features = torch.as_tensor(features)
    assert torch.isfinite(predictor.eval()(batch)).all()
