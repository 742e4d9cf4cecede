"""``optim.init_from: auto`` (the default): the shipped encoder for a property D-MPNN of its architecture only."""

from __future__ import annotations

import pytest

from molgen.config import RunConfig
from molgen.families.init_from import DEFAULT_ENCODER
from molgen.recipes import resolve_family


def resolved(**values: object) -> str | None:
    return resolve_family(RunConfig().with_values({"data.name": "esol", **values})).optim.init_from


def test_the_default_property_dmpnn_starts_from_the_shipped_encoder():
    assert RunConfig().optim.init_from == "auto"
    assert resolved() == DEFAULT_ENCODER
    assert resolved(**{"data.descriptors": True}) == DEFAULT_ENCODER  # descriptors feed the FFN, not the encoder


@pytest.mark.parametrize(
    "values",
    [
        {"model.hidden_dim": 64},
        {"model.depth": 5},
        {"model.readout": "attention"},
        {"model.name": "gin"},
        {"model.name": "fpmlp"},
        {"data.featurizer": "v1"},
        {"optim.init_from": "none"},
        {"optim.init_from": "None"},
        {"data.name": "moses", "family": "pretrain"},
        {"data.name": "promoters.fa", "model.name": "cnn"},
    ],
    ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()),
)
def test_anything_else_starts_from_random_weights(values: dict):
    assert resolved(**values) is None


def test_an_explicit_encoder_is_kept():
    assert resolved(**{"optim.init_from": "runs/pretrain"}) == "runs/pretrain"
