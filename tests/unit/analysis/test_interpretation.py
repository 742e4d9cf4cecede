"""Atom attributions (`molgen interpret`) on small untrained models: exact masking deltas, integrated-gradients
completeness, the output files, invalid rows and refused models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
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
from molgen.cli.main import main
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


def export(out: Path, model: str = "dmpnn", targets: tuple[str, ...] = ("y",), n: int = 2) -> Path:
    models = members(model, n, targets)
    spec = ModelSpec(
        family="property",
        ensemble_size=n,
        input={"kind": "smiles", "column": "smiles"},
        featurizer=FeaturizerSpec().to_dict(),
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


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export(tmp_path_factory.mktemp("interpret") / "model", targets=("y", "z"))


@pytest.mark.parametrize("method", ["ig", "masking"])
def test_cli_writes_the_files_with_one_row_per_input(model_dir: Path, tmp_path: Path, method: str, capsys):
    inputs = tmp_path / "in.csv"
    pd.DataFrame({"smiles": [SMILES[0], "C1CC", SMILES[1], "", SMILES[2], "CCO", "CCN"]}).to_csv(inputs, index=False)
    out = tmp_path / "out"
    args = ["interpret", "--model", str(model_dir), "--input", str(inputs), "--output", str(out), "--method", method]
    assert main([*args, "--min-count", "1"]) == 0
    molecules = pd.read_csv(out / "molecules.csv", keep_default_na=False, na_values=[""])
    assert molecules["row"].tolist() == list(range(7))
    assert molecules["valid"].tolist() == [True, False, True, False, True, True, True]
    assert "C1CC" in molecules.loc[1, "invalid_reason"] and "empty SMILES" in molecules.loc[3, "invalid_reason"]
    assert molecules.loc[~molecules["valid"], ["y_pred", "z_pred"]].isna().all().all()
    assert molecules.loc[~molecules["valid"], "image"].isna().all()
    images = sorted(p.name for p in (out / "images").iterdir())
    assert images == sorted(f"{row}.png" for row in (0, 2, 4, 5, 6))
    assert (out / "images" / "0.png").read_bytes()[:4] == b"\x89PNG"
    atoms = pd.read_csv(out / "atoms.csv")
    assert list(atoms.columns) == ["row", "smiles", "atom_index", "element", "y_attribution", "z_attribution"]
    assert len(atoms) == molecules["n_atoms"].sum() == 13 + 6 + 1 + 3 + 3
    assert atoms.loc[atoms["row"] == 1].empty
    assert atoms.loc[atoms["row"] == 4, "element"].tolist() == ["C"]
    sums = atoms.groupby("row")["y_attribution"].sum()
    assert sums.to_numpy() == pytest.approx(molecules.set_index("row").loc[sums.index, "y_attribution_sum"].to_numpy())
    if method == "ig":
        gap = (molecules["y_pred"] - molecules["y_baseline"])[molecules["valid"]]
        assert sums.to_numpy() == pytest.approx(gap.to_numpy(), rel=0.1, abs=5e-4)
    substructures = pd.read_csv(out / "substructures.csv")
    assert set(substructures["target"]) == {"y", "z"} and (substructures["count"] >= 1).all()
    assert "## y: substructures that raise the prediction" in (out / "summary.md").read_text()
    captured = capsys.readouterr()
    assert "explained 5 of 7 rows" in captured.out
    assert "in.csv line 3" in captured.err and "in.csv line 5" in captured.err


def test_target_option_explains_one_target(model_dir: Path, tmp_path: Path, capsys):
    inputs = tmp_path / "in.smi"
    inputs.write_text("\n".join(SMILES) + "\n")
    out = tmp_path / "out"
    args = ["interpret", "--model", str(model_dir), "--input", str(inputs), "--output", str(out), "--target", "z"]
    assert main([*args, "--method", "masking"]) == 0
    assert [c for c in pd.read_csv(out / "atoms.csv").columns if c.endswith("_attribution")] == ["z_attribution"]
    assert main([*args, "--method", "masking"]) == 0  # an earlier output is replaced
    assert main([*args[:-1], "nope"]) == 2
    assert "unknown target 'nope'; this model predicts: y, z" in capsys.readouterr().err


def test_refuses_a_folder_it_did_not_write(model_dir: Path, tmp_path: Path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("keep me")
    (tmp_path / "in.smi").write_text("CCO\n")
    args = ["--model", str(model_dir), "--input", str(tmp_path / "in.smi"), "--output", str(tmp_path / "out")]
    assert main(["interpret", *args]) == 2
    assert "is a non-empty folder that molgen interpret did not write" in capsys.readouterr().err
    assert (tmp_path / "out" / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("family", "hint"), [("expression", "molgen attribute"), ("generation", "supported families: property")]
)
def test_other_families_are_refused(tmp_path: Path, family: str, hint: str):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.yaml").write_text(yaml.safe_dump({"format_version": 2, "family": family}))
    with pytest.raises(ConfigError, match=hint):
        load_property_model(tmp_path)  # a run folder holding model/
