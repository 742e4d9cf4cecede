"""Search-space files: valid spaces parse; unknown keys and malformed distributions are clear errors."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import yaml
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from molgen.config import ConfigError, RunConfig, load_config
from molgen.tuning.space import load_space, parse_space

HPO = Path(__file__).parents[3] / "configs" / "hpo"


def test_valid_space_parses_each_type():
    space = parse_space(
        {
            "params": {
                "optim.lr": {
                    "type": "float",
                    "low": "1e-4",
                    "high": 3.0e-3,
                    "log": True,
                },  # YAML 1.1 reads 1e-4 as a string
                "model.depth": {"type": "int", "low": 2, "high": 6},
                "model.hidden_dim": {"type": "int", "low": 100, "high": 500, "step": 100},
                "model.dropout": {"type": "float", "low": 0, "high": 0.4, "step": 0.05},
                "optim.weight_decay": {"type": "log", "low": 1e-6, "high": 1e-3},
                "model.name": {"type": "categorical", "choices": ["dmpnn", "gin"]},
            }
        }
    )
    assert list(space.params) == [
        "optim.lr",
        "model.depth",
        "model.hidden_dim",
        "model.dropout",
        "optim.weight_decay",
        "model.name",
    ]
    assert space.params["optim.lr"] == FloatDistribution(1e-4, 3e-3, log=True)
    assert space.params["model.hidden_dim"] == IntDistribution(100, 500, step=100)
    assert space.params["optim.weight_decay"] == FloatDistribution(1e-6, 1e-3, log=True)
    assert space.params["model.name"] == CategoricalDistribution(["dmpnn", "gin"])


def test_suggested_values_make_a_valid_config():
    space = parse_space(
        {
            "params": {
                "model.depth": {"type": "int", "low": 2, "high": 6},
                "model.name": {"type": "categorical", "choices": ["dmpnn", "gin"]},
                "optim.lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
            }
        }
    )
    trial = optuna.create_study().ask()
    cfg = space.apply(RunConfig(), space.suggest(trial))
    assert 2 <= cfg.model.depth <= 6 and cfg.model.name in ("dmpnn", "gin") and 1e-4 <= cfg.optim.lr <= 1e-2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model.deepth": {"type": "int", "low": 2, "high": 6}}, "unknown config key 'model.deepth'; valid keys: "),
        ({"modle.depth": {"type": "int", "low": 2, "high": 6}}, "unknown config section 'modle'; valid sections: "),
        ({"model": {"type": "int", "low": 2, "high": 6}}, "is a config section"),
        ({"data.name": {"type": "categorical", "choices": ["esol", "freesolv"]}}, "cannot be searched"),
        ({"task.monitor": {"type": "categorical", "choices": ["rmse", "mae"]}}, "cannot be searched"),
    ],
)
def test_unknown_or_fixed_keys_are_errors(params, message):
    with pytest.raises(ConfigError, match=message):
        parse_space({"params": params})


def test_unknown_key_lists_the_valid_keys():
    with pytest.raises(ConfigError) as err:
        parse_space({"params": {"optim.learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2}}})
    assert "lr" in str(err.value) and "weight_decay" in str(err.value)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"type": "uniform", "low": 1, "high": 2},
            "unknown distribution type 'uniform'; valid types: int, float, log, categorical",
        ),
        ({"type": "int", "low": 2, "high": 6, "q": 2}, "unknown field.*q.*valid fields: type, low, high, step, log"),
        ({"type": "int", "low": 2}, "needs high"),
        ({"type": "int", "low": 6, "high": 2}, "low .6. is above high .2."),
        ({"type": "int", "low": 2.5, "high": 6}, "must be an integer"),
        ({"type": "float", "low": "small", "high": 6}, "low must be a number"),
        ({"type": "float", "low": 0, "high": 1, "log": True}, "log-scale range needs low > 0"),
        ({"type": "float", "low": 0.1, "high": 1, "log": "yes"}, "log must be true or false"),
        ({"type": "categorical", "choices": []}, "non-empty list"),
        ({"type": "categorical", "choices": [[1, 2]]}, "numbers, strings, booleans"),
        ({"low": 1, "high": 2}, "with a 'type'"),
        ({"type": "float", "low": 2.0, "high": 6.0}, "model.depth must be int"),  # a float for an int key
    ],
)
def test_bad_distributions_are_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        parse_space({"params": {"model.depth": spec}})


def test_categorical_values_are_type_checked_against_the_config():
    with pytest.raises(ConfigError, match="model.depth must be int"):
        parse_space({"params": {"model.depth": {"type": "categorical", "choices": [2, "deep"]}}})


@pytest.mark.parametrize("values", [{}, {"params": {}}, {"space": {}}, ["optim.lr"]])
def test_malformed_files_are_errors(values):
    with pytest.raises(ConfigError):
        parse_space(values)


def test_load_space_reports_the_file(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump({"params": {"optim.lrr": {"type": "float", "low": 1e-4, "high": 1e-2}}}))
    with pytest.raises(ConfigError, match=str(path)):
        load_space(path)
    with pytest.raises(ConfigError, match="not found"):
        load_space(tmp_path / "missing.yaml")


@pytest.mark.parametrize("path", sorted(HPO.glob("*.yaml")), ids=lambda p: p.name)
def test_example_hpo_files_validate(path):
    if "params" in yaml.safe_load(path.read_text()):
        assert load_space(path).params
    else:  # a run config the example spaces start from
        load_config(path)
