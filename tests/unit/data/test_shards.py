"""Libraries → shards → rows: every format, gzip, folders and globs; every record read exactly once."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.unit.screening.helpers import INVALID, library_frame, write_sdf

from molgen.data.shards import plan_library, read_shard, resolve_library


def read_all(library: Path | str, chunk_size: int, **options) -> tuple[pd.DataFrame, list]:
    _, shards = plan_library(library, chunk_size, **options)
    parts = [read_shard(shard).assign(row=range(shard.first_row, shard.first_row + shard.n_rows)) for shard in shards]
    return pd.concat(parts, ignore_index=True), shards


@pytest.mark.parametrize("name", ["lib.csv", "lib.csv.gz", "lib.tsv", "lib.tsv.gz"])
def test_delimited_files_are_read_whole_in_chunks(tmp_path: Path, name: str):
    frame = library_frame(53)
    path = tmp_path / name
    frame.to_csv(path, index=False, sep="\t" if ".tsv" in name else ",")
    rows, shards = read_all(path, 10)
    assert [s.n_rows for s in shards] == [10, 10, 10, 10, 10, 3]
    assert rows["smiles"].tolist() == frame["smiles"].fillna("").tolist()
    assert rows["id"].tolist() == frame["id"].tolist()
    assert rows["row"].tolist() == list(range(53))
    assert rows["read_error"].isna().all()


def test_blank_lines_missing_newline_and_exact_chunk_boundaries(tmp_path: Path):
    path = tmp_path / "lib.csv"
    path.write_text("SMILES,Name\nCCO,a\n\nc1ccccc1,c\nCC,d")  # a blank line, no final newline
    rows, shards = read_all(path, 2)
    assert rows["smiles"].tolist() == ["CCO", "", "c1ccccc1", "CC"]
    assert rows["id"].tolist() == ["a", None, "c", "d"]
    assert len(shards) == 2
    path.write_text("smiles\nCCO\nCC\n")
    rows, shards = read_all(path, 2)
    assert rows["smiles"].tolist() == ["CCO", "CC"] and len(shards) == 1
    path.write_text("smiles\n")
    assert plan_library(path, 2)[1] == []


@pytest.mark.parametrize("header", [True, False])
def test_smi_files_with_and_without_header(tmp_path: Path, header: bool):
    path = tmp_path / "lib.smi.gz"
    lines = ["CCO ethanol", "c1ccccc1\tbenzene ring", "C1CC", "", "CC"]
    with gzip.open(path, "wt") as fh:
        fh.write(("smiles name\n" if header else "") + "\n".join(lines) + "\n")
    rows, _ = read_all(path, 2)
    assert rows["smiles"].tolist() == ["CCO", "c1ccccc1", "C1CC", "", "CC"]
    assert rows["id"].tolist() == ["ethanol", "benzene ring", None, None, None]


@pytest.mark.parametrize("name", ["lib.sdf", "lib.sdf.gz"])
def test_sdf_records_titles_and_unreadable_records(tmp_path: Path, name: str):
    frame = library_frame(23)
    write_sdf(tmp_path / name, frame["smiles"].tolist(), frame["id"].tolist())
    rows, shards = read_all(tmp_path / name, 5)
    assert len(rows) == 23 and len(shards) == 5
    assert rows["id"].tolist() == frame["id"].tolist()
    bad = [i for i in INVALID if i < 23]
    assert rows.loc[bad, "read_error"].notna().all() and rows.loc[bad, "smiles"].isna().all()
    good = rows.drop(index=bad)
    assert good["read_error"].isna().all() and good["smiles"].str.len().gt(0).all()


def test_sdf_id_property_and_last_record_without_terminator(tmp_path: Path):
    path = tmp_path / "lib.sdf"
    write_sdf(path, ["CCO", "CC"], ["a", "b"])
    path.write_text(path.read_text().replace(">  <ID>\nb\n", ">  <ID>\nB-7\n").removesuffix("$$$$\n"))
    rows, _ = read_all(path, 1, id_column="ID")
    assert rows["id"].tolist() == ["a", "B-7"] and rows["smiles"].tolist() == ["CCO", "CC"]


def test_parquet_chunks_across_row_groups(tmp_path: Path):
    frame = library_frame(47).rename(columns={"smiles": "canonical_smiles", "id": "compound_id"})
    frame["compound_id"] = range(47)  # ints: read as strings
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "lib.parquet", row_group_size=7)
    rows, shards = read_all(tmp_path / "lib.parquet", 10)
    assert [s.n_rows for s in shards] == [10, 10, 10, 10, 7]
    assert rows["smiles"].tolist() == frame["canonical_smiles"].tolist()
    assert rows["id"].tolist() == [str(i) for i in range(47)]


def test_folder_and_glob_resolution(tmp_path: Path):
    (tmp_path / "lib" / "part2").mkdir(parents=True)
    library_frame(5).to_csv(tmp_path / "lib" / "a.csv", index=False)
    library_frame(3).to_csv(tmp_path / "lib" / "part2" / "b.csv.gz", index=False)
    (tmp_path / "lib" / "README.md").write_text("not a library file")
    base, files = resolve_library(tmp_path / "lib")
    assert [f.relative_to(base).as_posix() for f in files] == ["a.csv", "part2/b.csv.gz"]
    base, files = resolve_library(str(tmp_path / "lib" / "**" / "*.csv*"))
    assert len(files) == 2
    _, shards = plan_library(tmp_path / "lib", 4)
    assert [s.file.name for s in shards] == ["a.csv", "a.csv", "part2/b.csv.gz"]
    assert sum(s.n_rows for s in shards) == 8


def test_errors_name_the_problem(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="library not found"):
        plan_library(tmp_path / "missing.csv", 10)
    with pytest.raises(FileNotFoundError, match="no library files match"):
        plan_library(str(tmp_path / "*.smi"), 10)
    (tmp_path / "lib.xlsx").write_text("x")
    with pytest.raises(ValueError, match="unsupported library file.*\\.smi"):
        plan_library(tmp_path / "lib.xlsx", 10)
    (tmp_path / "lib.parquet.gz").write_bytes(b"x")
    with pytest.raises(ValueError, match="gzipped Parquet"):
        plan_library(tmp_path / "lib.parquet.gz", 10)
    pd.DataFrame({"mol": ["CCO"], "y": [1]}).to_csv(tmp_path / "cols.csv", index=False)
    with pytest.raises(ValueError, match="no SMILES column.*columns: mol, y"):
        plan_library(tmp_path / "cols.csv", 10)
    with pytest.raises(ValueError, match="id column 'name' not in"):
        plan_library(tmp_path / "cols.csv", 10, smiles_column="mol", id_column="name")
    with pytest.raises(ValueError, match="chunk size"):
        plan_library(tmp_path / "cols.csv", 0)


def test_a_quoted_line_break_is_refused_not_misread(tmp_path: Path):
    path = tmp_path / "lib.csv"
    path.write_text('smiles,note\nCCO,"two\nlines"\nCC,x\n')
    _, shards = plan_library(path, 10)
    with pytest.raises(ValueError, match="line break inside quotes"):
        read_shard(shards[0])
