"""PackedGraphs: edge pairing, collate == Batch.from_data_list, subset/concat, files."""

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles
from molgen.chem.featurize.packed_graphs import PackedGraphs

SMILES = ["CC(=O)Oc1ccccc1C(=O)O", "C", "[Na+].[Cl-]", "C/C=C/C", "N[C@@H](C)C(=O)O", "C#N"]


@pytest.fixture(scope="module")
def graphs() -> PackedGraphs:
    return featurize_smiles(SMILES).graphs


@pytest.fixture(scope="module")
def graphs_with_mol_features(graphs) -> PackedGraphs:
    rng = np.random.default_rng(0)
    mol_features = rng.normal(size=(len(graphs), 3)).astype(np.float32)
    return PackedGraphs(
        graphs.atom_features,
        graphs.bond_features,
        graphs.edge_index,
        graphs.atom_ptr,
        graphs.edge_ptr,
        mol_features,
    )


def test_reverse_edge_is_e_xor_1(graphs):
    for i in range(len(graphs)):
        edges = graphs.edge_index[:, graphs.edge_ptr[i] : graphs.edge_ptr[i + 1]]
        reverse = edges[:, np.arange(edges.shape[1]) ^ 1]
        np.testing.assert_array_equal(reverse, edges[::-1])
        assert edges.size == 0 or edges.max() < graphs.atom_ptr[i + 1] - graphs.atom_ptr[i]


def test_single_atoms_and_salts_have_atoms_and_no_edges(graphs):
    assert graphs.num_atoms.tolist()[1:3] == [1, 2]
    assert graphs.num_edges.tolist()[1:3] == [0, 0]
    data = graphs.to_data(2)
    assert data.x.shape == (2, 72) and data.edge_index.shape == (2, 0)
    assert data.edge_attr.shape == (0, 14) and data.edge_index.dtype == torch.long


@pytest.mark.parametrize("indices", [[0, 1, 2, 3, 4, 5], [4, 1, 1, 0], [2], [-1, 3]])
@pytest.mark.parametrize("with_mol_features", [False, True])
def test_collate_equals_from_data_list(graphs, graphs_with_mol_features, indices, with_mol_features):
    store = graphs_with_mol_features if with_mol_features else graphs
    batch = store.collate(indices)
    expected = Batch.from_data_list([store.to_data(i) for i in indices])
    keys = ["x", "edge_index", "edge_attr", "batch", "ptr"] + ["mol_features"] * with_mol_features
    assert sorted(batch.keys()) == sorted(expected.keys())
    for key in keys:
        assert batch[key].dtype == expected[key].dtype, key
        assert torch.equal(batch[key], expected[key]), key
    assert batch.num_graphs == expected.num_graphs == len(indices)
    for key in expected._slice_dict:
        assert torch.equal(batch._slice_dict[key], expected._slice_dict[key]), key
        assert torch.equal(batch._inc_dict[key], expected._inc_dict[key]), key
    round_trip = batch.to_data_list()[0]
    assert torch.equal(round_trip.edge_index, expected.to_data_list()[0].edge_index)


def test_subset_and_concat(graphs):
    part = graphs.subset([3, 0])
    assert len(part) == 2
    np.testing.assert_array_equal(
        part.atom_features, np.concatenate([graphs.to_data(3).x.numpy(), graphs.to_data(0).x.numpy()])
    )
    whole = PackedGraphs.concat([graphs.subset([0, 1, 2]), graphs.subset([3, 4, 5])])
    for name in ("atom_features", "bond_features", "edge_index", "atom_ptr", "edge_ptr"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(graphs, name))
    with pytest.raises(IndexError):
        graphs.subset([len(graphs)])


@pytest.mark.parametrize("with_mol_features", [False, True])
def test_save_load_roundtrip_without_pickle(tmp_path, graphs, graphs_with_mol_features, with_mol_features):
    store = graphs_with_mol_features if with_mol_features else graphs
    path = tmp_path / "graphs.npz"
    store.save(path)
    with np.load(path, allow_pickle=False) as arrays:  # loads => no object arrays inside
        assert all(arrays[name].dtype != object for name in arrays.files)
    loaded = PackedGraphs.load(path)
    for name in ("atom_features", "bond_features", "edge_index", "atom_ptr", "edge_ptr", "mol_features"):
        expected = getattr(store, name)
        if expected is None:
            assert getattr(loaded, name) is None
        else:
            np.testing.assert_array_equal(getattr(loaded, name), expected)
            assert getattr(loaded, name).dtype == expected.dtype


def test_inconsistent_arrays_are_rejected(graphs):
    with pytest.raises(ValueError, match="pointers must run from 0"):
        PackedGraphs(
            graphs.atom_features[:-1], graphs.bond_features, graphs.edge_index, graphs.atom_ptr, graphs.edge_ptr
        )


def test_empty_result_has_right_shapes():
    result = featurize_smiles([], FeaturizerSpec())
    assert len(result.graphs) == 0 and result.graphs.atom_features.shape == (0, 72)
    assert result.valid_index.dtype == np.int64 and result.invalid == []
