"""MLP, readouts and WithMoleculeFeatures."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn
from torch_geometric.data import Batch, Data

from molgen.models.graph import GCN
from molgen.models.layers import MLP, WithMoleculeFeatures, build_readout


def linears(module: nn.Module) -> list[nn.Linear]:
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


def test_mlp_layer_counts_and_shapes():
    one = MLP(5, 64, 3, n_layers=1)
    assert [(m.in_features, m.out_features) for m in linears(one)] == [(5, 3)]
    three = MLP(5, 8, 3, n_layers=3, dropout=0.1, activation="gelu")
    assert [(m.in_features, m.out_features) for m in linears(three)] == [(5, 8), (8, 8), (8, 3)]
    assert isinstance(three.net[-1], nn.Linear)  # raw output, no trailing activation
    assert sum(isinstance(m, nn.GELU) for m in three.modules()) == 2
    assert three(torch.randn(4, 5)).shape == (4, 3)
    assert "activation='gelu'" in repr(three)


def test_mlp_rejects_bad_arguments():
    with pytest.raises(ValueError, match=re.escape("valid names: ['elu', 'gelu'")):
        MLP(2, 2, 2, activation="swishy")
    with pytest.raises(ValueError, match="n_layers"):
        MLP(2, 2, 2, n_layers=0)


def test_unknown_readout_lists_valid_names():
    with pytest.raises(ValueError, match=re.escape("valid names: ['attention', 'mean', 'sum']")):
        build_readout("max", 4)


@pytest.mark.parametrize("name", ["mean", "sum", "attention"])
def test_readout_gives_a_row_per_graph_even_without_atoms(name):
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    batch = torch.tensor([0, 0, 2])  # graphs 1 and 3 have no atoms
    out = build_readout(name, 2)(x, batch, num_graphs=4)
    assert out.shape == (4, 2)
    torch.testing.assert_close(out[[1, 3]], torch.zeros(2, 2))
    torch.testing.assert_close(out[2], x[2])  # one atom: all readouts return it
    expected = {"mean": x[:2].mean(0), "sum": x[:2].sum(0)}.get(name)
    if expected is not None:
        torch.testing.assert_close(out[0], expected)


def test_attention_readout_is_a_convex_combination():
    torch.manual_seed(0)
    readout = build_readout("attention", 3)
    same = torch.tensor([[1.0, -2.0, 3.0]]).repeat(5, 1)
    out = readout(same, torch.zeros(5, dtype=torch.long), 1)
    torch.testing.assert_close(out, same[:1])  # weights sum to one within the graph


def small_batch(mol_features: torch.Tensor) -> Batch:
    graphs = [
        Data(
            x=torch.randn(2, 3),
            edge_index=torch.tensor([[0, 1], [1, 0]]),
            edge_attr=torch.randn(2, 1),
            mol_features=f.view(1, -1),
        )
        for f in mol_features
    ]
    return Batch.from_data_list(graphs)


def test_with_molecule_features_standardizes_and_concatenates():
    torch.manual_seed(0)
    enc = GCN(3, 1, hidden_dim=4, depth=1).eval()
    mean, std = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 0.0, 4.0])
    model = WithMoleculeFeatures(enc, mean, std).eval()
    feats = torch.tensor([[3.0, 5.0, 3.0], [1.0, 2.0, 11.0]])
    batch = small_batch(feats)
    out = model(batch)
    assert model.out_dim == 7 and out.shape == (2, 7)
    torch.testing.assert_close(out[:, :4], enc(batch))
    torch.testing.assert_close(out[:, 4:], torch.tensor([[1.0, 3.0, 0.0], [0.0, 0.0, 2.0]]))


def test_with_molecule_features_state_dict_round_trip():
    model = WithMoleculeFeatures(GCN(3, 1, hidden_dim=4, depth=1), torch.ones(2), torch.ones(2))
    state = model.state_dict()
    assert {"feature_mean", "feature_std"} <= set(state)
    state["feature_mean"] = torch.tensor([5.0, 6.0])
    fresh = WithMoleculeFeatures(GCN(3, 1, hidden_dim=4, depth=1), torch.zeros(2), torch.ones(2))
    fresh.load_state_dict(state)
    torch.testing.assert_close(fresh.feature_mean, torch.tensor([5.0, 6.0]))


def test_with_molecule_features_reports_missing_or_misshapen_features():
    model = WithMoleculeFeatures(GCN(3, 1, hidden_dim=4, depth=1), torch.zeros(2), torch.ones(2))
    batch = small_batch(torch.randn(2, 3))
    with pytest.raises(ValueError, match=re.escape("[num_graphs, 2]")):
        model(batch)
    del batch.mol_features
    with pytest.raises(ValueError, match="mol_features"):
        model(batch)
