"""The catalog read from its YAML package data equals the catalog that was written as Python literals.

``tests/fixtures/catalog_literals_1ca56e1.json`` is ``{name: get_dataset(name).to_dict()}`` dumped from the
literals of ``molgen/data/catalog.py`` at commit 1ca56e1, before they moved to YAML.
"""

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import get_args

import pytest

from molgen.data.catalog import SplitType, dataset_names, get_dataset, parse_catalog
from molgen.data.splits import SPLIT_TYPES

FIXTURE = Path(__file__).parents[2] / "fixtures" / "catalog_literals_1ca56e1.json"
BEFORE = json.loads(FIXTURE.read_text())


def test_same_names_as_the_literals():
    assert dataset_names() == sorted(BEFORE)


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_entry_equals_the_literal(name):
    assert json.loads(json.dumps(get_dataset(name).to_dict())) == BEFORE[name]


def test_known_entries():
    esol = get_dataset("esol")
    assert esol.remote.url == "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/delaney-processed.csv"
    assert esol.remote.sha256 == "8c06a76f0c6487d29ab0f903e6a7a7139f189ab3c1178f159c8be8964602f189"
    assert esol.remote.filename == "moleculenet/esol.csv" and not esol.remote.mirror_gzip
    assert esol.input_column == "smiles"
    assert esol.target_columns == ("measured log solubility in mols per litre",)
    tox21 = get_dataset("tox21").target_columns
    assert len(tox21) == 12 and tox21[0] == "NR-AR" and tox21[-1] == "SR-p53"
    toxcast = get_dataset("toxcast").target_columns
    assert len(toxcast) == len(set(toxcast)) == 617
    assert toxcast[0] == "ACEA_T47D_80hr_Negative" and toxcast[-1] == "Tanguay_ZF_120hpf_YSE_up"
    assert isinstance(toxcast, tuple) and isinstance(get_dataset("moses").extra_files, tuple)


def _esol_entry() -> dict:
    return {
        "name": "tiny",
        "description": "d",
        "input_column": "smiles",
        "target_columns": ["y"],
        "remote": {"url": "https://example.org/tiny.csv", "sha256": "0" * 64, "filename": "x/tiny.csv"},
        "task_type": "regression",
        "default_split": "random",
        "metric": "rmse",
    }


def test_the_schema_accepts_a_minimal_entry():
    (spec,) = parse_catalog({"datasets": [_esol_entry()]})
    assert spec.kind == "molecules" and spec.target_columns == ("y",) and spec.references == ()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"task_typ": "regression"}, "task_typ"),  # an unknown key is an error, not ignored
        ({"task_type": "ranking"}, "task_type"),
        ({"default_split": "temporal"}, "default_split"),
        ({"kind": "proteins"}, "kind"),
        ({"target_columns_file": "toxcast_targets.yaml"}, "exactly one"),
        ({"remote": {"url": "", "sha256": "0" * 64, "filename": "x/tiny.csv", "size": 3}}, "size"),
        ({"references": [{"model": "m", "metric": "rmse", "value": 1.0, "std": None, "split": "cold"}]}, "split"),
    ],
)
def test_the_schema_rejects(change, message):
    with pytest.raises(ValueError, match=message):
        parse_catalog({"datasets": [{**_esol_entry(), **change}]})


def test_duplicate_names_are_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        parse_catalog({"datasets": [_esol_entry(), _esol_entry()]})


def test_closed_sets_agree_with_the_splitters():
    assert get_args(SplitType) == SPLIT_TYPES


def test_import_reads_no_file():
    code = (
        "import builtins, importlib.resources as r, molgen.data.catalog as c\n"
        "assert c._registry.cache_info().currsize == 0\n"
        "assert c.get_dataset('esol').name == 'esol'\n"
        "assert c._registry.cache_info().currsize == 1 and c.DATASETS is c._registry()\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_the_yaml_files_are_package_resources():
    folder = resources.files("molgen.data").joinpath("catalog_data")
    assert {"datasets.yaml", "toxcast_targets.yaml"} <= {p.name for p in folder.iterdir()}
