import gzip

import numpy as np
import pandas as pd
import pytest

from molgen.data.tables import MoleculeTable, load_molecule_table, read_table
from molgen.errors import InvalidInputError

CSV = "name,smiles,y,z\na,CCO,1.5,0\nb,c1ccccc1,,1\nc,CC(=O)O,-2.25,\n"
EXPECTED_Y = np.array([[1.5], [np.nan], [-2.25]], dtype=np.float32)


def _check(table: MoleculeTable) -> None:
    assert table.smiles == ["CCO", "c1ccccc1", "CC(=O)O"]
    assert table.targets.dtype == np.float32 and table.targets.shape == (3, 1)
    np.testing.assert_array_equal(table.targets, EXPECTED_Y)


def test_csv(tmp_path):
    path = tmp_path / "esol.csv"
    path.write_text(CSV)
    table = load_molecule_table(path, "smiles", ["y"])
    _check(table)
    assert table.source == str(path)
    assert table.describe_row(0) == "esol.csv line 2"
    assert table.describe_row(2) == "esol.csv line 4"


def test_csv_gz(tmp_path):
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress(CSV.encode()))
    table = load_molecule_table(path, "smiles", ["y"])
    _check(table)
    assert table.describe_row(1) == "data.csv.gz line 3"


@pytest.mark.parametrize("name,sep", [("d.tsv", "\t"), ("d.txt", "\t"), ("d.txt", ","), ("d.tsv.gz", "\t")])
def test_tsv_and_sniffed_txt(tmp_path, name, sep):
    text = CSV.replace(",", sep)
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    _check(load_molecule_table(path, "smiles", ["y"]))


def test_parquet(tmp_path):
    frame = pd.DataFrame({"smiles": ["CCO", "c1ccccc1", "CC(=O)O"], "y": [1.5, None, -2.25]})
    path = tmp_path / "d.parquet"
    frame.to_parquet(path)
    table = load_molecule_table(path, "smiles", ["y"])
    _check(table)
    assert table.describe_row(1) == "d.parquet row 2"
    gz = tmp_path / "d.parquet.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    _check(load_molecule_table(gz, "smiles", ["y"]))


def _sdf_with_broken_record() -> str:
    from rdkit import Chem

    good1, good2 = Chem.MolFromSmiles("OCC"), Chem.MolFromSmiles("c1ccccc1")
    broken = Chem.MolFromSmiles("CC(C)(C)(C)(C)C", sanitize=False)  # pentavalent carbon
    broken.UpdatePropertyCache(strict=False)
    blocks = []
    for mol, y in ((good1, "1.5"), (broken, "7"), (good2, "-2.25")):
        blocks.append(Chem.MolToMolBlock(mol, kekulize=False) + f">  <y>\n{y}\n\n>  <id>\nm{y}\n\n$$$$\n")
    return "".join(blocks)


@pytest.mark.parametrize("name", ["lig.sdf", "lig.sdf.gz"])
def test_sdf_with_one_broken_record(tmp_path, name):
    text = _sdf_with_broken_record()
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    frame = read_table(path)
    assert list(frame.columns) == ["smiles", "y", "id"]
    assert frame["smiles"].tolist() == ["CCO", "", "c1ccccc1"]  # canonical SMILES, "" where RDKit fails
    assert frame["y"].tolist() == [1.5, 7.0, -2.25]  # properties of the broken record are kept
    table = load_molecule_table(path, "smiles", ["y"])
    assert table.describe_row(1) == f"{name} record 2"


def test_missing_column_lists_available_columns(tmp_path):
    path = tmp_path / "esol.csv"
    path.write_text(CSV)
    with pytest.raises(ValueError) as err:
        load_molecule_table(path, "smiles", ["logS"])
    msg = str(err.value)
    assert "esol.csv" in msg and "'logS'" in msg and "available columns" in msg and "'name'" in msg
    with pytest.raises(ValueError, match="SMILES"):
        load_molecule_table(path, "SMILES")


def test_non_numeric_target_names_file_line_and_column(tmp_path):
    path = tmp_path / "esol.csv"
    path.write_text("smiles,y\nCCO,1.0\nCC,abc\nC,2\n")
    with pytest.raises(ValueError) as err:
        load_molecule_table(path, "smiles", ["y"])
    msg = str(err.value)
    assert "esol.csv line 3" in msg and "'y'" in msg and "'abc'" in msg


def test_line_numbers_skip_blank_lines_and_follow_quoted_newlines(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('name,smiles,y\n"two\nlines",CCO,1\n\nx,CC,oops\n')
    with pytest.raises(ValueError, match="t.csv line 5"):
        load_molecule_table(path, "smiles", ["y"])


def test_duplicate_column_names(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("smiles,y,y\nCCO,1,2\n")
    with pytest.raises(ValueError, match="duplicate column names \\['y'\\]"):
        read_table(path)


def test_unsupported_extension_and_missing_file(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("x")
    with pytest.raises(ValueError, match=r"\.csv.*\.parquet.*\.sdf"):
        read_table(path)
    missing = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_table(missing)


def test_no_targets_and_missing_smiles(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("smiles,id\nCCO,1\n,2\n")
    table = load_molecule_table(path, "smiles")
    assert table.targets.shape == (2, 0) and table.targets.dtype == np.float32
    assert table.smiles == ["CCO", ""]


def test_dataframe_source_multiple_targets():
    frame = pd.DataFrame({"smi": ["CCO", "CC"], "a": [1, 0], "b": ["0.5", ""]}, index=[10, 11])
    table = load_molecule_table(frame, "smi", ["a", "b"])
    np.testing.assert_array_equal(table.targets, np.array([[1, 0.5], [0, np.nan]], dtype=np.float32))
    assert table.describe_row(1) == "<DataFrame> index 11"
    assert frame["b"].tolist() == ["0.5", ""]  # the caller's frame is not modified
    with pytest.raises(ValueError, match="<DataFrame> index 0: column .a. has value .inf."):
        load_molecule_table(pd.DataFrame({"smi": ["C"], "a": ["inf"]}), "smi", ["a"])


def test_an_empty_or_ragged_csv_is_an_input_error_naming_the_file(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InvalidInputError, match=r"empty.csv: the file is empty"):
        read_table(empty)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("smiles\nCCO\nCC,1,2\n")
    with pytest.raises(InvalidInputError, match=r"ragged.csv: cannot parse the table \(.*line 3"):
        read_table(ragged)
