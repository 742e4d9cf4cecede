"""The catalog read from its YAML package data equals the catalog that was written as Python literals.

``tests/fixtures/catalog_literals_1ca56e1.json`` is ``{name: get_dataset(name).to_dict()}`` dumped from the
literals of ``molgen/data/catalog.py`` at commit 1ca56e1, before they moved to YAML.
"""

import json
from pathlib import Path

import pytest

from molgen.data.catalog import dataset_names, get_dataset

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
