"""``model_section`` narrows ``cfg.model`` to a section class; ``resolved`` refuses unset resolved keys."""

import pytest

from molgen.config import (
    ConfigError,
    DnaConvModelConfig,
    DnaTransformerModelConfig,
    GeneratorConfig,
    KmerModelConfig,
    MolGANConfig,
    RunConfig,
    model_section,
    resolved,
)


def _cfg(name: str) -> RunConfig:
    return RunConfig.from_dict({"model": {"name": name}})


def test_model_section_returns_the_section_of_its_kind_or_a_subclass() -> None:
    cfg = _cfg("molgan")
    assert model_section(cfg, MolGANConfig) is cfg.model
    assert model_section(cfg, GeneratorConfig) is cfg.model
    section = model_section(_cfg("transformer"), (DnaConvModelConfig, KmerModelConfig))
    assert isinstance(section, DnaTransformerModelConfig)
    assert model_section(cfg.model, MolGANConfig) is cfg.model  # a bare model section works too


def test_model_section_names_the_valid_models_of_another_kind() -> None:
    with pytest.raises(ConfigError, match=r"model 'dmpnn' is not a MolGANConfig model; valid names here: molgan"):
        model_section(_cfg("dmpnn"), MolGANConfig)
    with pytest.raises(ConfigError, match="valid names here: cnn, dilated, kmer, transformer"):
        model_section(_cfg("charrnn"), (DnaConvModelConfig, KmerModelConfig))


def test_resolved_passes_values_and_refuses_none() -> None:
    assert resolved("random", "data.split") == "random"
    assert resolved(0, "data.seq_length") == 0
    with pytest.raises(ConfigError, match=r"data\.split is not set"):
        resolved(None, "data.split")
