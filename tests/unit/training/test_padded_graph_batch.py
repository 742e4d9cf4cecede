"""``padded_graph_batch``: repeating shapes for bfloat16 inference, and the real graphs' outputs unchanged."""

import numpy as np
import pytest
import torch
from tests.conftest import MOLECULES

from molgen.chem.featurize.graphs import featurize_smiles
from molgen.models import graph
from molgen.training.batches import padded_graph_batch


@pytest.mark.parametrize("name", ["DMPNN", "GIN", "AttentiveFP", "GCN"])
def test_padding_adds_one_graph_and_leaves_the_real_outputs_unchanged(name):
    graphs = featurize_smiles(MOLECULES).graphs
    batch = graphs.collate(np.arange(7))
    batch.mol_features = torch.randn(7, 3)
    padded, n = padded_graph_batch(batch, edge_multiple=64, atom_multiple=32)
    assert n == 7 and padded.num_graphs == 8
    assert padded.edge_index.size(1) % 64 == 0 and padded.x.size(0) % 32 == 0
    assert padded.x.size(0) > batch.x.size(0) and padded.ptr[-1] == padded.x.size(0)
    src, dst = padded.edge_index
    assert torch.equal(src[0::2], dst[1::2]) and torch.equal(src[1::2], dst[0::2])  # e ^ 1 reverses e
    assert torch.equal(padded.mol_features[:7], batch.mol_features) and not padded.mol_features[7].any()
    torch.manual_seed(0)
    encoder = getattr(graph, name)(graphs.atom_dim, graphs.bond_dim, hidden_dim=16, depth=2).eval()
    with torch.no_grad():
        torch.testing.assert_close(encoder(padded)[:n], encoder(batch), rtol=1e-5, atol=1e-6)


def test_a_batch_already_on_the_multiples_still_gets_its_padding_graph():
    graphs = featurize_smiles(["CC"]).graphs  # 2 atoms, 2 directed edges
    padded, n = padded_graph_batch(graphs.collate([0]), edge_multiple=2, atom_multiple=1)
    assert (n, padded.num_graphs, padded.x.size(0), padded.edge_index.size(1)) == (1, 2, 3, 2)
