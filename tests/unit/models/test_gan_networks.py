"""MolGAN and LatentGAN networks: shapes, symmetry, permutation invariance, straight-through gradients."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from molgen.models.generative.latent_gan import LatentCritic, LatentGAN, LatentGenerator
from molgen.models.generative.molgan import GraphGenerator, RelationalGCN, discretize

B, N, T, E, Z = 6, 9, 5, 5, 16


def _generator() -> GraphGenerator:
    torch.manual_seed(0)
    return GraphGenerator(Z, N, T, E, hidden_dims=(32, 64))


def test_generator_shapes_symmetry_and_no_self_bonds() -> None:
    nodes, edges = _generator()(torch.randn(B, Z))
    assert nodes.shape == (B, N, T) and edges.shape == (B, N, N, E)
    assert torch.allclose(edges, edges.transpose(1, 2))
    assert (edges.argmax(-1).diagonal(dim1=1, dim2=2) == 0).all()


@pytest.mark.parametrize("mode", ["softmax", "soft_gumbel", "hard_gumbel"])
def test_discretize_gives_symmetric_distributions(mode: str) -> None:
    node_logits, edge_logits = _generator()(torch.randn(B, Z))
    nodes, edges = discretize(node_logits, edge_logits, mode=mode, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(nodes.sum(-1), torch.ones(B, N)) and torch.allclose(edges.sum(-1), torch.ones(B, N, N))
    assert torch.allclose(edges, edges.transpose(1, 2))
    assert (edges.argmax(-1).diagonal(dim1=1, dim2=2) == 0).all()
    if mode == "hard_gumbel":
        assert torch.allclose(nodes, F.one_hot(nodes.argmax(-1), T).float(), atol=1e-6)
        assert torch.allclose(edges, F.one_hot(edges.argmax(-1), E).float(), atol=1e-6)


def test_straight_through_passes_gradients_to_the_generator() -> None:
    generator = _generator()
    nodes, edges = discretize(*generator(torch.randn(B, Z)), mode="hard_gumbel")
    (nodes[..., 1].sum() + edges[..., 2].sum()).backward()
    assert generator.node_out.weight.grad.abs().sum() > 0
    assert generator.edge_out.weight.grad.abs().sum() > 0


def test_discretize_rejects_unknown_mode() -> None:
    with pytest.raises(ValueError, match="valid names: softmax, soft_gumbel, hard_gumbel"):
        discretize(torch.zeros(1, N, T), torch.zeros(1, N, N, E), mode="argmax")


def _random_graphs(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    atoms = torch.randint(0, T, (B, N), generator=g)
    bonds = torch.triu(torch.randint(0, E, (B, N, N), generator=g), diagonal=1)
    bonds = bonds + bonds.transpose(1, 2)
    return F.one_hot(atoms, T).float(), F.one_hot(bonds, E).float()


def test_relational_gcn_is_invariant_to_node_order() -> None:
    torch.manual_seed(0)
    critic = RelationalGCN(T, E, conv_dims=(16, 8), aggregation_dim=16, mlp_dims=(16, 8))
    nodes, edges = _random_graphs(0)
    perm = torch.randperm(N)
    scores = critic(nodes, edges)
    assert scores.shape == (B,)
    assert torch.allclose(scores, critic(nodes[:, perm], edges[:, perm][:, :, perm]), atol=1e-5)
    assert not torch.allclose(scores, critic(*_random_graphs(1)))  # it reads the graph


def test_reward_network_outputs_probabilities() -> None:
    reward = RelationalGCN(T, E, conv_dims=(8,), aggregation_dim=8, mlp_dims=(8,), sigmoid=True)
    out = reward(*_random_graphs(2))
    assert out.shape == (B,) and ((out > 0) & (out < 1)).all()


def test_latent_gan_shapes_and_code_scale() -> None:
    torch.manual_seed(0)
    model = LatentGAN(LatentGenerator(8, 12, (16, 32)), LatentCritic(12, (16, 8)))
    assert model.generator(torch.randn(B, 8)).shape == (B, 12)
    assert model.critic(torch.randn(B, 12)).shape == (B,)
    codes = torch.randn(500, 12) * 3.0 + 5.0
    model.set_code_statistics(codes)
    assert torch.allclose(model.standardize(codes).mean(0), torch.zeros(12), atol=1e-5)
    sampled = model.sample_codes(7, torch.Generator().manual_seed(0))
    assert sampled.shape == (7, 12)
    assert torch.equal(sampled, model.sample_codes(7, torch.Generator().manual_seed(0)))
    assert model.generator.training  # sampling restores the mode
    with pytest.raises(ValueError, match="12-d codes"):
        LatentGAN(LatentGenerator(8, 12), LatentCritic(10))
