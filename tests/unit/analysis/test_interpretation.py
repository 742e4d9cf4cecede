"""Atom attributions (`molgen interpret`) on small untrained models: exact masking deltas, integrated-gradients
completeness, molecules explained in groups, refused models. The command itself: tests/cli/test_interpret.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from molgen.analysis.interpretation import (
    GraphFunction,
    atom_masking,
    chunks,
    explain,
    integrated_gradients,
    load_property_model,
)
from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles
from molgen.chem.featurize.packed_graphs import PackedGraphs
from molgen.config import GraphModelConfig
from molgen.errors import ConfigError
from molgen.families.property import build_predictor
from molgen.training.artifacts import ModelSpec, export_model
from molgen.training.batches import GraphCollate
from molgen.training.tasks import build_task

SMILES = ["CC(=O)Nc1ccc([N+](=O)[O-])cc1", "OCC(F)(F)F", "C"]


def members(model: str = "dmpnn", n: int = 2, targets: tuple[str, ...] = ("y",)) -> list[torch.nn.Module]:
    """``n`` seeded untrained predictors (regression, targets scaled by mean 1 and std 2)."""
    torch.manual_seed(0)
    state = {"target_mean": [1.0] * len(targets), "target_std": [2.0] * len(targets)}
    config = GraphModelConfig(name=model, hidden_dim=16, depth=2, ffn_hidden_dim=16)
    return [
        build_predictor(config, FeaturizerSpec(), build_task("regression", list(targets), state=state)).eval()
        for _ in range(n)
    ]


def export(
    out: Path, model: str = "dmpnn", targets: tuple[str, ...] = ("y",), n: int = 2, standardize: str = "none"
) -> Path:
    """A property model folder of :func:`members` (the featurizer standardizes molecules as ``standardize``)."""
    models = members(model, n, targets)
    spec = ModelSpec(
        family="property",
        ensemble_size=n,
        input={"kind": "smiles", "column": "smiles"},
        featurizer=FeaturizerSpec(standardize=standardize).to_dict(),
        model=GraphModelConfig(name=model, hidden_dim=16, depth=2, ffn_hidden_dim=16).model_dump(),
        task=models[0].task.describe(),
    )
    return export_model(out, models, spec, "untrained test model")


def mean_prediction(models: list[torch.nn.Module], graphs: PackedGraphs) -> np.ndarray:
    """The members' mean prediction of molecule 0 through the ordinary prediction path."""
    collate = GraphCollate(graphs)
    return torch.stack([m.predict_rows(collate, np.array([0])) for m in models]).mean(0)[0].numpy()


def with_features(graphs: PackedGraphs, atoms: np.ndarray, bonds: np.ndarray) -> PackedGraphs:
    return PackedGraphs(atoms, bonds, graphs.edge_index, graphs.atom_ptr, graphs.edge_ptr, graphs.mol_features)


@pytest.mark.parametrize("model", ["dmpnn", "gcn"])
def test_masking_deltas_are_exact_differences(model: str):
    models = members(model)
    graphs = featurize_smiles(SMILES[:1]).graphs
    (explanation,) = atom_masking(GraphFunction(models, graphs, [0]), [0])
    full = mean_prediction(models, graphs)
    assert explanation.prediction == pytest.approx(full, abs=1e-6)
    src, dst = graphs.edge_index
    for atom in range(len(graphs.atom_features)):
        atoms, bonds = graphs.atom_features.copy(), graphs.bond_features.copy()
        atoms[atom] = 0
        bonds[(src == atom) | (dst == atom)] = 0
        masked = mean_prediction(models, with_features(graphs, atoms, bonds))
        assert explanation.atoms[atom, 0] == pytest.approx(full[0] - masked[0], abs=1e-5)


@pytest.mark.parametrize("model", ["dmpnn", "gcn"])
def test_integrated_gradients_add_up_to_prediction_minus_baseline(model: str):
    models = members(model, targets=("a", "b"))
    graphs = featurize_smiles(SMILES[:1]).graphs
    (explanation,) = integrated_gradients(GraphFunction(models, graphs, [0]), [1, 0], n_steps=50)
    zero = with_features(graphs, np.zeros_like(graphs.atom_features), np.zeros_like(graphs.bond_features))
    assert explanation.prediction == pytest.approx(mean_prediction(models, graphs)[[1, 0]], abs=1e-5)
    assert explanation.baseline == pytest.approx(mean_prediction(models, zero)[[1, 0]], abs=1e-5)
    assert explanation.atoms.shape == (len(graphs.atom_features), 2)
    gap = explanation.prediction - explanation.baseline
    assert np.abs(gap).min() > 1e-3  # the check below means something
    assert explanation.atoms.sum(0) == pytest.approx(gap, rel=5e-2, abs=1e-5)  # 50 steps: ~2% integration error


@pytest.mark.parametrize("method", ["ig", "masking"])
def test_molecules_explained_together_get_their_own_attributions(method: str):
    models = members()
    graphs = featurize_smiles(SMILES).graphs
    together = explain(models, graphs, [0, 1, 2], [0], method)
    for i in range(3):
        (alone,) = explain(models, graphs, [i], [0], method)
        assert together[i].atoms == pytest.approx(alone.atoms, abs=1e-6)
        assert together[i].prediction == pytest.approx(alone.prediction, abs=1e-6)


def test_chunks_hold_at_most_max_atoms():
    groups = chunks(np.array([3, 4, 10, 1, 1, 2]), max_atoms=8)
    assert [g.tolist() for g in groups] == [[0, 1], [2], [3, 4, 5]]


def test_single_atom_molecule_is_explained():
    models = members()
    graphs = featurize_smiles(["C"]).graphs
    (explanation,) = integrated_gradients(GraphFunction(models, graphs, [0]), [0], n_steps=50)
    assert explanation.atoms.shape == (1, 1)
    assert explanation.atoms[0, 0] == pytest.approx(explanation.prediction[0] - explanation.baseline[0], rel=5e-2)


@pytest.mark.parametrize(
    ("family", "hint"), [("expression", "molgen attribute"), ("generation", "supported families: property")]
)
def test_other_families_are_refused(tmp_path: Path, family: str, hint: str):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.yaml").write_text(yaml.safe_dump({"format_version": 2, "family": family}))
    with pytest.raises(ConfigError, match=hint):
        load_property_model(tmp_path)  # a run folder holding model/
