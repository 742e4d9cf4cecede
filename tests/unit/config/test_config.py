import pytest

from molgen.config import ConfigError, RunConfig, load_config


def test_defaults_roundtrip_through_yaml(tmp_path):
    cfg = RunConfig().with_values({"data.name": "bbbp", "trainer.max_epochs": 3, "model.name": "gin"})
    path = tmp_path / "config.yaml"
    cfg.save(path)
    again = load_config(path)
    assert again == cfg
    assert again.trainer.max_epochs == 3 and again.model.name == "gin"


def test_unknown_key_names_valid_keys(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("trainer:\n  max_epoch: 3\n")
    with pytest.raises(ConfigError, match=r"trainer.max_epoch.*valid keys in trainer: max_epochs"):
        load_config(path)


def test_unknown_section_names_valid_sections():
    with pytest.raises(ConfigError, match="valid sections: data, generation, model, optim, task, trainer"):
        RunConfig().with_overrides(["trainr.max_epochs=3"])


def test_dotted_overrides_are_typed():
    cfg = RunConfig().with_overrides(["optim.lr=5e-4", "trainer.devices=2", "data.target_columns=[a, b]"])
    assert cfg.optim.lr == 5e-4
    assert cfg.trainer.devices == 2
    assert cfg.data.target_columns == ["a", "b"]


def test_wrong_type_is_an_error():
    with pytest.raises(ConfigError, match="trainer.max_epochs must be int"):
        RunConfig().with_overrides(["trainer.max_epochs=many"])


def test_int_is_accepted_for_float_and_single_value_for_list():
    cfg = RunConfig().with_values({"optim.lr": 1, "data.target_columns": "y"})
    assert cfg.optim.lr == 1.0 and isinstance(cfg.optim.lr, float)
    assert cfg.data.target_columns == ["y"]


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
