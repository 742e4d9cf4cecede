"""PredictionHead."""

from __future__ import annotations

import torch
from torch import nn

from molgen.models.heads import PredictionHead


def test_head_shapes_and_depth():
    head = PredictionHead(12, 3, hidden_dim=8, n_layers=3)
    assert head(torch.randn(5, 12)).shape == (5, 3)
    dims = [(m.in_features, m.out_features) for m in head.modules() if isinstance(m, nn.Linear)]
    assert dims == [(12, 8), (8, 8), (8, 3)]
    assert head.out_dim == 3 and "n_layers=3" in repr(head)


def test_linear_head_and_raw_outputs():
    torch.manual_seed(0)
    head = PredictionHead(4, 2, n_layers=1)
    x = torch.randn(64, 4)
    out = head(x)
    lin = next(m for m in head.modules() if isinstance(m, nn.Linear))
    torch.testing.assert_close(out, lin(x))  # no activation: logits can be negative
    assert (out < 0).any()


def test_reset_parameters_changes_weights():
    head = PredictionHead(4, 2, hidden_dim=6)
    before = [p.detach().clone() for p in head.parameters()]
    head.reset_parameters()
    assert all(not torch.equal(a, b) for a, b in zip(before, head.parameters()))
