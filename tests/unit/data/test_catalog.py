import json
import os

import pandas as pd
import pytest

from molgen.data.catalog import TASK_TYPES, DatasetSpec, dataset_names, get_dataset
from molgen.data.sources import resolve
from molgen.data.splits import SPLIT_TYPES
from molgen.registry import UnknownNameError

NAMES = [
    "bace",
    "bbbp",
    "clintox",
    "esol",
    "freesolv",
    "hiv",
    "lipophilicity",
    "muv",
    "qm9",
    "sider",
    "tox21",
    "toxcast",
]


def test_names():
    assert dataset_names("molecules") == NAMES
    assert set(dataset_names()) == set(NAMES) | set(dataset_names("sequences")) | {"moses"}  # DNA: tests/unit/genomics
    assert dataset_names("smiles") == ["moses"]
    with pytest.raises(ValueError, match="molecules"):
        dataset_names("proteins")


@pytest.mark.parametrize("name", NAMES)
def test_every_entry_is_consistent(name):
    spec = get_dataset(name)
    assert isinstance(spec, DatasetSpec) and spec.name == name
    assert spec.task_type in TASK_TYPES and spec.default_split in SPLIT_TYPES
    assert spec.target_columns and spec.input_column not in spec.target_columns
    assert spec.remote.filename.startswith("moleculenet/")
    assert spec.remote.url or spec.remote.derived_from
    for ref in spec.references:
        assert ref.metric == spec.metric and ref.split in SPLIT_TYPES and ref.source
    json.dumps(spec.to_dict())


def test_lookup_is_case_insensitive_and_misses_list_names():
    assert get_dataset("ESOL") is get_dataset(" esol ")
    with pytest.raises(UnknownNameError) as err:
        get_dataset("esoll")
    assert "esoll" in str(err.value) and all(n in str(err.value) for n in NAMES)


def test_conventions():
    expected_metric = {"esol": "rmse", "freesolv": "rmse", "lipophilicity": "rmse", "qm9": "mae", "muv": "pr_auc"}
    for name in NAMES:
        spec = get_dataset(name)
        assert spec.metric == expected_metric.get(name, "roc_auc"), name
        assert spec.default_split == ("scaffold" if name in ("bbbp", "bace", "hiv") else "random"), name
        binary, regression = ("bbbp", "bace", "hiv"), ("esol", "freesolv", "lipophilicity", "qm9")
        expected_task = "binary" if name in binary else "regression" if name in regression else "multilabel"
        assert spec.task_type == expected_task, name
    assert get_dataset("bace").split_column == "Model"
    assert get_dataset("toxcast").to_dict()["n_targets"] == 617
    assert len(get_dataset("qm9").target_columns) == 12


def test_published_references():
    esol = {(r.model, r.value) for r in get_dataset("esol").references}
    bbbp = {(r.model, r.value) for r in get_dataset("bbbp").references}
    assert ("Chemprop D-MPNN", 0.555) in esol and ("Chemprop D-MPNN", 0.737) in bbbp
    for name in ("bace", "toxcast", "qm9"):  # no verified published number was found for these
        assert get_dataset(name).references == ()


def test_mirror_files_resolve_and_have_the_catalog_columns():
    """Resolves every entry from $MOLGEN_DATA_DIR (checksums verified) and checks its header."""
    if not os.environ.get("MOLGEN_DATA_DIR"):
        if os.environ.get("CI"):
            pytest.fail("CI is set but MOLGEN_DATA_DIR is not; CI must point it at the data mirror")
        pytest.skip("MOLGEN_DATA_DIR is not set; set it to the data mirror (e.g. ../shared/data) to run")
    for name in NAMES:
        spec = get_dataset(name)
        path = resolve(spec.remote, download=False)
        header = list(pd.read_csv(path, nrows=0).columns)
        wanted = [spec.input_column, *spec.target_columns] + ([spec.split_column] if spec.split_column else [])
        missing = [c for c in wanted if c not in header]
        assert not missing, f"{name}: {missing} not in the header of {path}"
        if name in ("toxcast", "sider", "tox21", "muv"):  # every non-id column is a task, in file order
            assert list(spec.target_columns) == [c for c in header if c not in ("smiles", "mol_id")], name


def test_moses_files_resolve_from_the_mirror():
    if not os.environ.get("MOLGEN_DATA_DIR"):
        if os.environ.get("CI"):
            pytest.fail("CI is set but MOLGEN_DATA_DIR is not; CI must point it at the data mirror")
        pytest.skip("MOLGEN_DATA_DIR is not set; set it to the data mirror (e.g. ../shared/data) to run")
    spec = get_dataset("moses")
    assert spec.task_type == "generation" and not spec.target_columns
    for remote in (spec.remote, *spec.extra_files):
        assert list(pd.read_csv(resolve(remote, download=False), nrows=0).columns) == ["SMILES"]
