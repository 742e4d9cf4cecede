from pathlib import Path

import pytest
import yaml

from molgen.config import load_config
from molgen.tuning.space import load_space

CONFIGS = sorted((Path(__file__).parents[3] / "configs").rglob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_example_config_loads_strictly(path):
    if "params" in (yaml.safe_load(path.read_text()) or {}):
        assert load_space(path).to_json()  # a search space: every key and distribution checked
        return
    cfg = load_config(path)
    assert cfg.family in {None, "property", "expression", "generation", "pretrain"}  # None: inferred from data, model


def test_there_are_examples_for_each_family():
    folders = {p.parent.name for p in CONFIGS}
    assert {"property", "expression", "hpo", "pretrain"} <= folders
