from pathlib import Path

import pytest

from molgen.config import load_config

CONFIGS = sorted((Path(__file__).parents[3] / "configs").rglob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_example_config_loads_strictly(path):
    if "hpo" in path.parts:
        pytest.skip("search spaces are not run configs")
    cfg = load_config(path)
    assert cfg.family in {"property", "expression", "generation"}


def test_there_are_property_examples():
    assert any("property" in p.parts for p in CONFIGS)
