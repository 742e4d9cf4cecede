"""The one table reader keeps users' data as given: whole cells, .smi names, blank lines, BOMs, class labels."""

from __future__ import annotations

import gzip
import logging

import numpy as np
import pandas as pd
import pytest

from molgen.data.tables import line_numbers, load_molecule_table, read_table
from molgen.errors import InvalidInputError


def test_a_cell_with_whitespace_inside_is_kept_whole(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('smiles,y\nCC O,1\nc1ccccc1 benzene,2\n"c1ccccc1\tx",3\n')
    assert load_molecule_table(path, "smiles", ["y"]).smiles == ["CC O", "c1ccccc1 benzene", "c1ccccc1\tx"]


@pytest.mark.parametrize("name", ["lib.smi", "lib.smi.gz", "lib.smiles"])
def test_smi_is_smiles_then_an_optional_name(tmp_path, name):
    text = "\ufeffSMILES name\nCCO ethanol\n\nc1ccccc1\tbenzene ring\nCCN\n"
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    frame = read_table(path)
    assert frame["smiles"].tolist() == ["CCO", "c1ccccc1", "CCN"]
    assert frame["name"].tolist() == ["ethanol", "benzene ring", None]
    kept = read_table(path, keep_blank_lines=True)
    assert kept["smiles"].tolist() == ["CCO", "", "c1ccccc1", "CCN"]
    assert line_numbers(path, keep_blank_lines=True).tolist() == [2, 3, 4, 5]
    table = load_molecule_table(path, "ignored for .smi")
    assert table.smiles_column == "smiles" and table.describe_row(1) == f"{name} line 4"


def test_blank_lines_kept_as_rows_with_their_file_lines(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("smiles,id\nCCO,a\n\nCCN,b\n\n")
    assert len(read_table(path)) == 2
    table = load_molecule_table(path, "smiles", keep_blank_lines=True)
    assert table.smiles == ["CCO", "", "CCN", ""]
    assert [table.describe_row(i) for i in range(4)] == [f"t.csv line {n}" for n in (2, 3, 4, 5)]


def test_headerless_text_and_a_bom(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes("\ufeffCCO\nCCN\n".encode())
    table = load_molecule_table(path, "smiles", header=False)
    assert table.smiles == ["CCO", "CCN"] and table.describe_row(0) == "t.txt line 1"
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffsmiles,y\nCCO,1\n".encode())
    assert list(read_table(bom).columns) == ["smiles", "y"]


def test_text_class_labels_map_in_sorted_order_and_are_logged(tmp_path, caplog):
    path = tmp_path / "t.csv"
    pd.DataFrame({"smiles": ["C", "CC", "CCC", "CCCC"], "BBB": ["BBB+", "BBB-", "", "BBB+"]}).to_csv(path, index=False)
    with caplog.at_level(logging.INFO, logger="molgen"):
        table = load_molecule_table(path, "smiles", ["BBB"], class_labels=True)
    assert table.classes == {"BBB": ["BBB+", "BBB-"]}
    np.testing.assert_array_equal(table.targets[:, 0], [0, 1, np.nan, 0])
    assert "target 'BBB': class labels 'BBB+' → 0, 'BBB-' → 1" in caplog.text
    positive = load_molecule_table(path, "smiles", ["BBB"], class_labels=True, positive_class="BBB+")
    assert positive.classes == {"BBB": ["BBB-", "BBB+"]}
    np.testing.assert_array_equal(positive.targets[:, 0], [1, 0, np.nan, 1])
    with pytest.raises(InvalidInputError, match=r"'active' is not a label of column 'BBB'; its labels: BBB\+, BBB-"):
        load_molecule_table(path, "smiles", ["BBB"], class_labels=True, positive_class="active")


def test_numeric_class_labels_stay_numbers_and_text_regression_targets_say_what_to_pass(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"smiles": ["C", "CC"], "y": [0, 1], "label": ["yes", "no"]}).to_csv(path, index=False)
    table = load_molecule_table(path, "smiles", ["y"], class_labels=True)
    assert table.classes == {} and table.targets[:, 0].tolist() == [0, 1]
    with pytest.raises(InvalidInputError, match="hold numbers"):
        load_molecule_table(path, "smiles", ["y"], class_labels=True, positive_class="1")
    with pytest.raises(InvalidInputError, match=r"column 'label' holds text \('no', 'yes'\).*--task-type binary"):
        load_molecule_table(path, "smiles", ["label"])
