"""Contract tests shared by every graph encoder (GIN, GCN, GATv2, DMPNN, AttentiveFP)."""

from __future__ import annotations

import re

import pytest
import torch
from torch_geometric.data import Batch, Data

from molgen.models.graph import DMPNN, GCN, GIN, AttentiveFP, GATv2
from molgen.models.heads import PredictionHead

ATOM_DIM, BOND_DIM, HIDDEN = 7, 3, 16
ENCODERS = [GIN, GCN, GATv2, DMPNN, AttentiveFP]
# (encoder, readout) pairs; AttentiveFP only has its own attention readout.
CASES = [(cls, r) for cls in ENCODERS[:4] for r in ("mean", "sum", "attention")] + [(AttentiveFP, "attention")]


def case_id(case) -> str:
    return f"{case[0].__name__}-{case[1]}"


def make(cls, readout: str = "mean", **kw):
    if cls is AttentiveFP:
        readout = "attention"
    return cls(ATOM_DIM, BOND_DIM, hidden_dim=HIDDEN, depth=3, readout=readout, **kw)


def make_graph(n_atoms: int, n_rings: int, gen: torch.Generator) -> Data:
    """Random connected graph (tree + ring closures); edges 2k, 2k+1 are reverses."""
    bonds = [(int(torch.randint(i, (1,), generator=gen)), i) for i in range(1, n_atoms)]
    for _ in range(n_rings):
        u, v = torch.randperm(n_atoms, generator=gen)[:2].tolist()
        if n_atoms > 2 and (u, v) not in bonds and (v, u) not in bonds:
            bonds.append((u, v))
    pairs = [[u, v, v, u] for u, v in bonds]
    edge_index = torch.tensor(pairs, dtype=torch.long).view(-1, 2).t().contiguous()
    bond_feats = torch.randn(len(bonds), BOND_DIM, generator=gen)
    return Data(
        x=torch.randn(n_atoms, ATOM_DIM, generator=gen),
        edge_index=edge_index.view(2, -1),
        edge_attr=bond_feats.repeat_interleave(2, dim=0),
    )


def isolated_atoms(n_atoms: int, gen: torch.Generator) -> Data:
    """A graph with atoms and no bonds (a single atom, or a salt like [Na+].[Cl-])."""
    return Data(
        x=torch.randn(n_atoms, ATOM_DIM, generator=gen),
        edge_index=torch.empty(2, 0, dtype=torch.long),
        edge_attr=torch.empty(0, BOND_DIM),
    )


def mixed_graphs(seed: int = 0) -> list[Data]:
    gen = torch.Generator().manual_seed(seed)
    return [
        make_graph(9, 1, gen),
        isolated_atoms(1, gen),
        make_graph(5, 0, gen),
        isolated_atoms(2, gen),
        make_graph(12, 2, gen),
    ]


def permute(data: Data, gen: torch.Generator) -> Data:
    """Relabel atoms, shuffle bonds and flip bond directions, keeping the e ^ 1 pairing."""
    n, n_bonds = data.num_nodes, data.edge_index.size(1) // 2
    perm = torch.randperm(n, generator=gen)  # new atom i is old atom perm[i]
    new_label = torch.empty_like(perm)
    new_label[perm] = torch.arange(n)
    bond_order = torch.randperm(n_bonds, generator=gen)
    flip = torch.randint(2, (n_bonds,), generator=gen)
    old_edges = torch.stack([2 * bond_order + flip, 2 * bond_order + 1 - flip], 1).view(-1)
    return Data(
        x=data.x[perm],
        edge_index=new_label[data.edge_index[:, old_edges]],
        edge_attr=data.edge_attr[old_edges],
    )


@pytest.mark.parametrize("cls", ENCODERS, ids=lambda c: c.__name__)
def test_output_shape_and_repr(cls):
    torch.manual_seed(0)
    enc = make(cls)
    out = enc(Batch.from_data_list(mixed_graphs()))
    assert enc.out_dim == HIDDEN
    assert out.shape == (5, enc.out_dim)
    assert torch.isfinite(out).all()
    assert repr(enc).startswith(f"{cls.__name__}(atom_dim={ATOM_DIM}, bond_dim={BOND_DIM}")
    assert f"hidden_dim={HIDDEN}" in repr(enc)


@pytest.mark.parametrize("cls", ENCODERS, ids=lambda c: c.__name__)
def test_all_zero_edge_batch(cls):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    batch = Batch.from_data_list([isolated_atoms(1, gen), isolated_atoms(2, gen)])
    assert batch.edge_index.shape == (2, 0)
    enc = make(cls)
    for training in (True, False):  # train mode: BatchNorm must cope with tiny batches
        enc.train(training)
        out = enc(batch)
        assert out.shape == (2, HIDDEN) and torch.isfinite(out).all()
    lone = Batch.from_data_list([isolated_atoms(1, gen)])  # one atom in the whole batch
    enc.train()
    assert enc(lone).shape == (1, HIDDEN)


@pytest.mark.parametrize("cls", ENCODERS, ids=lambda c: c.__name__)
def test_graphs_do_not_leak_across_the_batch(cls):
    torch.manual_seed(0)
    enc = make(cls).double().eval()
    graphs = [g.to_dict() for g in mixed_graphs()]
    graphs = [Data(**{k: v.double() if v.is_floating_point() else v for k, v in g.items()}) for g in graphs]
    together = enc(Batch.from_data_list(graphs))
    for i, g in enumerate(graphs):
        alone = enc(Batch.from_data_list([g]))
        torch.testing.assert_close(together[i : i + 1], alone)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_invariant_to_atom_and_bond_order(case):
    cls, readout = case
    torch.manual_seed(0)
    enc = make(cls, readout).double().eval()
    gen = torch.Generator().manual_seed(3)
    graphs = [make_graph(10, 2, gen), make_graph(6, 1, gen), isolated_atoms(2, gen)]
    for g in graphs:
        g.x, g.edge_attr = g.x.double(), g.edge_attr.double()
    permuted = [permute(g, gen) for g in graphs]
    assert not torch.equal(permuted[0].x, graphs[0].x)
    out = enc(Batch.from_data_list(graphs))
    out_perm = enc(Batch.from_data_list(permuted))
    torch.testing.assert_close(out, out_perm)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradients_reach_every_parameter(case):
    cls, readout = case
    torch.manual_seed(0)
    enc = make(cls, readout).eval()  # eval: BatchNorm's running stats keep conv biases live
    out = enc(Batch.from_data_list(mixed_graphs()))
    (out * torch.randn_like(out)).sum().backward()
    for name, p in enc.named_parameters():
        assert p.grad is not None, f"no gradient for {name}"
        assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, f"zero grad: {name}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_reset_parameters_reinitializes_every_parameter(case):
    cls, readout = case
    enc = make(cls, readout)
    with torch.no_grad():
        for p in enc.parameters():
            p.fill_(0.123)
    enc.reset_parameters()
    for name, p in enc.named_parameters():
        assert not torch.all(p == 0.123), f"{name} was not reset"


@pytest.mark.parametrize("cls", ENCODERS, ids=lambda c: c.__name__)
def test_unknown_readout_lists_valid_names(cls):
    valid = "['attention']" if cls is AttentiveFP else "['attention', 'mean', 'sum']"
    with pytest.raises(ValueError, match=re.escape(f"valid names: {valid}")):
        cls(ATOM_DIM, BOND_DIM, readout="max")


@pytest.mark.parametrize("cls", ENCODERS, ids=lambda c: c.__name__)
def test_wrong_feature_width_is_reported(cls):
    enc = make(cls)
    batch = Batch.from_data_list(mixed_graphs())
    batch.x = batch.x[:, :-1]
    with pytest.raises(ValueError, match="atom_dim"):
        enc(batch)


def test_attentivefp_rejects_other_readouts():
    with pytest.raises(ValueError, match="own attention readout"):
        AttentiveFP(ATOM_DIM, BOND_DIM, readout="mean")


def test_gatv2_hidden_must_split_across_heads():
    with pytest.raises(ValueError, match="multiple of heads"):
        GATv2(ATOM_DIM, BOND_DIM, hidden_dim=30, heads=4)
    assert GATv2(ATOM_DIM, BOND_DIM, hidden_dim=32, heads=8).hparams["heads"] == 8


@pytest.mark.slow
@pytest.mark.parametrize("cls", ENCODERS, ids=lambda c: c.__name__)
def test_overfits_random_targets(cls):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(7)
    graphs = [make_graph(int(torch.randint(3, 15, (1,), generator=gen)), 1, gen) for _ in range(14)]
    graphs += [isolated_atoms(1, gen), isolated_atoms(2, gen)]
    batch = Batch.from_data_list(graphs)
    y = torch.randn(16, 1, generator=gen)
    enc = cls(ATOM_DIM, BOND_DIM, hidden_dim=32, depth=2, readout="attention" if cls is AttentiveFP else "mean")
    head = PredictionHead(enc.out_dim, 1, hidden_dim=32)
    params = list(enc.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=3e-3)
    for _ in range(300):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(head(enc(batch)), y)
        loss.backward()
        opt.step()
    with torch.no_grad():
        final = torch.nn.functional.mse_loss(head(enc(batch)), y).item()
    assert final < 0.05 * y.var().item(), f"{cls.__name__} did not overfit: mse={final:.3f}"
