"""Inference in bfloat16 autocast: float32 outputs, close to the float32 ones; an unknown precision is refused."""

import numpy as np
import pytest
import torch
from tests.unit.training.helpers import make_module

from molgen.errors import ConfigError
from molgen.training.batches import GraphCollate
from molgen.training.predictor import Predictor


@pytest.fixture
def predictor(tiny) -> Predictor:
    torch.manual_seed(0)
    module = make_module(tiny)
    return Predictor(module.encoder, module.head, module.task)


def test_bf16_predictions_are_float32_and_close_to_float32(tiny, predictor):
    collate, rows = GraphCollate(tiny.graphs), np.arange(len(tiny.graphs))
    full = predictor.predict_rows(collate, rows, batch_size=16)
    low = predictor.predict_rows(collate, rows, batch_size=16, precision="bf16-mixed")
    assert low.dtype == torch.float32 and low.shape == full.shape
    assert not torch.equal(low, full)  # it did compute in bfloat16
    torch.testing.assert_close(low, full, rtol=0.02, atol=0.02 * float(full.abs().max()))
    samples = predictor.predict_samples(collate, rows, batch_size=16, precision="bf16-mixed")
    torch.testing.assert_close(samples["mean"][0], low)


def test_an_unknown_precision_names_the_valid_ones(tiny, predictor):
    with pytest.raises(ConfigError, match="bf16-mixed"):
        predictor.predict_rows(GraphCollate(tiny.graphs), np.arange(4), precision="fp16")
