"""DNA encoders: shapes, input contract (one-hot batch or tensor), gradients w.r.t. the input, errors."""

from __future__ import annotations

import pytest
import torch

from molgen.genomics.encoding import one_hot
from molgen.models.sequence import BassetCNN, ConvTransformer, DilatedCNN, SequenceReadout
from molgen.training.batches import SequenceBatch

ENCODERS = {"cnn": BassetCNN, "dilated": DilatedCNN, "transformer": ConvTransformer}


def _x(batch: int, length: int) -> torch.Tensor:
    torch.manual_seed(0)
    return torch.nn.functional.one_hot(torch.randint(0, 4, (batch, length)), 4).float().transpose(1, 2).contiguous()


@pytest.mark.parametrize("name", ENCODERS)
@pytest.mark.parametrize("length", [8, 50, 165])
@pytest.mark.parametrize("readout", ["flatten", "mean", "max"])
def test_shapes_for_every_length_and_readout(name, length, readout):
    encoder = ENCODERS[name](length, hidden_dim=16, depth=2, readout=readout)
    out = encoder(SequenceBatch(_x(3, length)))
    assert out.shape == (3, encoder.out_dim)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", ENCODERS)
def test_gradient_times_input_and_tensor_input(name):
    encoder = ENCODERS[name](40, hidden_dim=16, depth=2).eval()
    x = _x(2, 40).requires_grad_(True)
    encoder(SequenceBatch(x)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert torch.allclose(encoder(x.detach()), encoder(SequenceBatch(x.detach())))
    encoder.reset_parameters()
    assert "hidden_dim=16" in repr(encoder) and f"out_dim={encoder.out_dim}" in repr(encoder)


def test_n_and_padding_inputs_run():
    x = torch.from_numpy(one_hot(["ACGTNNNN", "AC"], length=12))
    for cls in ENCODERS.values():
        assert torch.isfinite(cls(12, hidden_dim=8, depth=1).eval()(x)).all()


def test_errors_are_clear():
    with pytest.raises(ValueError, match="divisible by n_heads"):
        ConvTransformer(50, hidden_dim=30, n_heads=4)
    with pytest.raises(ValueError, match="unknown sequence readout 'attention'.*flatten, mean, max"):
        BassetCNN(50, readout="attention")
    with pytest.raises(ValueError, match=r"\[B, 4, L\]"):
        BassetCNN(50)(torch.zeros(2, 50, 4))
    with pytest.raises(ValueError, match="dropout"):
        DilatedCNN(50, dropout=1.5)


def test_flatten_readout_bins_long_inputs():
    readout = SequenceReadout("flatten", channels=4, length=100)
    assert readout.out_dim == 4 * 16 and readout(torch.randn(2, 4, 100)).shape == (2, 64)
