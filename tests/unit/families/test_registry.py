"""The family plug-ins: registration, listing, explicit vs inferred family, shared run-folder pieces."""

from __future__ import annotations

import logging
import warnings
from typing import get_args

import pytest

from molgen.config import RunConfig
from molgen.errors import ConfigError, UnknownNameError
from molgen.families import FAMILIES, GENERATORS, Family
from molgen.recipes import resolve_family
from molgen.training.run_folder import default_output
from molgen.training.trainer import quiet_lightning


def test_every_family_is_registered_and_is_a_family() -> None:
    assert FAMILIES.names() == ["expression", "generation", "pretrain", "property"]
    for name in FAMILIES:
        family = FAMILIES.get(name)
        assert isinstance(family, Family) and family.name == name and family.models


def test_model_lists_come_from_the_registries() -> None:
    assert set(FAMILIES.get("expression").models) == {"cnn", "dilated", "transformer", "kmer"}
    assert (
        set(FAMILIES.get("generation").models) == set(GENERATORS.names()) == {"charrnn", "vae", "latentgan", "molgan"}
    )
    assert "dmpnn" in FAMILIES.get("property").models


def test_an_unknown_family_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownNameError, match="valid names: expression, generation, pretrain, property"):
        FAMILIES.get("chemistry")
    with pytest.raises(ConfigError, match="family must be one of"):
        RunConfig.from_dict({"family": "chemistry"})


def test_the_config_schema_and_the_registry_name_the_same_families() -> None:
    literal = next(arg for arg in get_args(RunConfig.model_fields["family"].annotation) if arg is not type(None))
    assert set(get_args(literal)) == set(FAMILIES.names())


def test_explicit_family_wins_and_an_inferred_one_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    dna = RunConfig().with_values({"data.name": "x.fa", "model.name": "cnn"})
    with caplog.at_level(logging.INFO, logger="molgen.recipes"):
        assert resolve_family(dna).family == "expression"
    assert "family 'expression' inferred" in caplog.text
    caplog.clear()
    explicit = RunConfig(family="property").with_values({"data.name": "x.fa"})
    with caplog.at_level(logging.INFO, logger="molgen.recipes"):
        assert resolve_family(explicit).family == "property"
    assert "inferred" not in caplog.text


def test_default_output_is_the_given_folder_or_a_dated_one() -> None:
    assert str(default_output(RunConfig(output="here"))) == "here"
    cfg = RunConfig(family="generation").with_values({"data.name": "train.smi.gz", "model.name": "vae"})
    assert default_output(cfg).name.startswith("generation-train-vae-")


def test_quiet_lightning_restores_logging_and_warnings() -> None:
    logger = logging.getLogger("lightning.pytorch")
    before_level, before_filters = logger.level, list(warnings.filters)
    with quiet_lightning():
        assert logger.level == logging.WARNING
    assert logger.level == before_level and warnings.filters == before_filters
