"""D-MPNN against a slow, loop-based reference of the Yang et al. (2019) equations."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Batch, Data

from molgen.models.graph import DMPNN

ATOM_DIM, BOND_DIM, HIDDEN = 4, 2, 8


def graph(n_atoms: int, bonds: list[tuple[int, int]], seed: int) -> Data:
    gen = torch.Generator().manual_seed(seed)
    edges = [e for u, v in bonds for e in ((u, v), (v, u))]  # edge 2k+1 reverses edge 2k
    edge_index = torch.tensor(edges, dtype=torch.long).view(-1, 2).t().contiguous()
    return Data(
        x=torch.randn(n_atoms, ATOM_DIM, generator=gen, dtype=torch.float64),
        edge_index=edge_index.view(2, -1),
        edge_attr=torch.randn(len(edges), BOND_DIM, generator=gen, dtype=torch.float64),
    )


def reference_atoms(model: DMPNN, data: Data, include_reverse: bool = False) -> torch.Tensor:
    """Edge-by-edge loops: m_vw sums h_kv over k in N(v) minus w (unless include_reverse)."""
    x, ea = data.x, data.edge_attr
    edges = [tuple(e) for e in data.edge_index.t().tolist()]
    h0 = [model.W_i(torch.cat([x[v], ea[i]])) for i, (v, _) in enumerate(edges)]
    h = [F.relu(t) for t in h0]
    for _ in range(model.depth - 1):
        new = []
        for i, (v, w) in enumerate(edges):
            m = torch.zeros(HIDDEN, dtype=x.dtype)
            for j, (k, dst) in enumerate(edges):
                if dst == v and (include_reverse or k != w):
                    m = m + h[j]
            new.append(F.relu(h0[i] + model.W_h(m)))
        h = new
    atoms = []
    for v in range(data.num_nodes):
        m = torch.zeros(HIDDEN, dtype=x.dtype)
        for j, (_, dst) in enumerate(edges):
            if dst == v:
                m = m + h[j]
        atoms.append(F.relu(model.W_o(torch.cat([x[v], m]))))
    return torch.stack(atoms)


def model(depth: int = 3, readout: str = "mean") -> DMPNN:
    torch.manual_seed(0)
    return DMPNN(ATOM_DIM, BOND_DIM, hidden_dim=HIDDEN, depth=depth, readout=readout).double()


def test_chain_message_excludes_the_reverse_edge():
    chain = graph(3, [(0, 1), (1, 2)], seed=1)  # 0 - 1 - 2
    mp = model(depth=3)
    got = mp.embed_atoms(Batch.from_data_list([chain]))
    torch.testing.assert_close(got, reference_atoms(mp, chain))
    # The check has teeth: letting the reverse message back in changes the answer.
    leaky = reference_atoms(mp, chain, include_reverse=True)
    assert not torch.allclose(got, leaky, atol=1e-6)


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_batch_with_ring_branch_and_lone_atom_matches_reference(depth):
    ring = graph(5, [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4)], seed=2)
    star = graph(4, [(0, 1), (0, 2), (0, 3)], seed=3)
    lone = graph(1, [], seed=4)
    mp = model(depth=depth, readout="sum")
    batch = Batch.from_data_list([ring, lone, star])
    got = mp.embed_atoms(batch)
    want = torch.cat([reference_atoms(mp, g) for g in (ring, lone, star)])
    torch.testing.assert_close(got, want)
    sums = torch.stack([reference_atoms(mp, g).sum(0) for g in (ring, lone, star)])
    torch.testing.assert_close(mp(batch), sums)


def test_atom_without_bonds_gets_output_of_its_own_features():
    lone = graph(1, [], seed=5)
    mp = model()
    want = F.relu(mp.W_o(torch.cat([lone.x, torch.zeros(1, HIDDEN, dtype=torch.float64)], 1)))
    torch.testing.assert_close(mp(Batch.from_data_list([lone])), want)


def test_unpaired_edges_are_rejected():
    chain = graph(3, [(0, 1), (1, 2)], seed=1)
    chain.edge_index = chain.edge_index[:, [0, 2, 1, 3]]  # reverses no longer at e ^ 1
    with pytest.raises(ValueError, match="e \\^ 1"):
        model()(Batch.from_data_list([chain]))


def test_chemprop_defaults():
    mp = DMPNN(ATOM_DIM, BOND_DIM)
    assert (mp.out_dim, mp.depth, mp.dropout) == (300, 3, 0.0)
    assert mp.W_i.bias is None and mp.W_h.bias is None and mp.W_o.bias is not None
    assert mp.W_i.in_features == ATOM_DIM + BOND_DIM
    assert mp.W_o.in_features == ATOM_DIM + 300


def test_gradients_match_reference():
    """The gather/scatter message steps must also give the reference's gradients."""
    ring = graph(5, [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4)], seed=6)
    star = graph(4, [(0, 1), (0, 2), (0, 3)], seed=7)
    mp = model(depth=3, readout="sum")
    weights = torch.randn(9, HIDDEN, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    (mp.embed_atoms(Batch.from_data_list([ring, star])) * weights).sum().backward()
    got = {name: p.grad.clone() for name, p in mp.named_parameters()}
    mp.zero_grad()
    (torch.cat([reference_atoms(mp, ring), reference_atoms(mp, star)]) * weights).sum().backward()
    for name, p in mp.named_parameters():
        torch.testing.assert_close(got[name], p.grad, msg=name)


def test_bf16_autocast_on_cpu_runs_and_stays_close_to_float32():
    """``--precision bf16-mixed`` on a CPU: the message steps run in bfloat16 and stay close to float32."""
    batch = Batch.from_data_list([graph(5, [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4)], seed=9)])
    batch.x, batch.edge_attr = batch.x.float(), batch.edge_attr.float()
    mp = model(depth=3).float()
    exact = mp.embed_atoms(batch)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = mp.embed_atoms(batch)
    mixed.float().sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in mp.parameters())
    torch.testing.assert_close(mixed.float(), exact, atol=0.05, rtol=0.05)
