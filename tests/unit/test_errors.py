"""molgen.errors: the hierarchy, and user mistakes that raise it (with messages that say where and what)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from molgen.errors import (
    ConfigError,
    DataSourceError,
    InvalidInputError,
    ModelFormatError,
    MolgenError,
    UnknownNameError,
)


@pytest.mark.parametrize(
    ("error", "builtins"),
    [
        (ConfigError, (ValueError,)),
        (UnknownNameError, (ConfigError, ValueError, KeyError)),
        (InvalidInputError, (ValueError,)),
        (DataSourceError, (FileNotFoundError, OSError)),
        (ModelFormatError, (ValueError,)),
    ],
)
def test_every_error_is_a_molgen_error_and_the_builtin_older_code_catches(error: type, builtins: tuple) -> None:
    assert issubclass(error, MolgenError)
    for base in builtins:
        assert issubclass(error, base)
    with pytest.raises(builtins[0]):
        raise error("boom")


def test_unknown_name_error_message_is_not_quoted_like_a_key_error() -> None:
    assert str(UnknownNameError("no model 'x'; valid: a, b")) == "no model 'x'; valid: a, b"


def test_a_bad_fasta_character_is_an_invalid_input_naming_record_and_position(tmp_path: Path) -> None:
    from molgen.data.tables import read_fasta
    from molgen.genomics.encoding import one_hot, validate_sequence

    fasta = tmp_path / "seqs.fa"
    fasta.write_text(">ok\nACGT\n>bad\nACXT\n")
    frame = read_fasta(fasta)
    with pytest.raises(InvalidInputError, match=r"bad.*'X'.*position 3"):
        validate_sequence(frame["sequence"][1], record=frame["id"][1])
    with pytest.raises(InvalidInputError, match="'X'"):
        one_hot(frame["sequence"].tolist())


def test_an_empty_fasta_is_an_invalid_input(tmp_path: Path) -> None:
    from molgen.data.tables import read_fasta

    fasta = tmp_path / "empty.fa.gz"
    fasta.write_bytes(gzip.compress(b"no header line\n"))
    with pytest.raises(InvalidInputError, match="no FASTA records"):
        read_fasta(fasta)


def test_an_unknown_dataset_name_lists_the_valid_ones() -> None:
    from molgen.data.catalog import get_dataset

    with pytest.raises(UnknownNameError) as caught:
        get_dataset("no-such-dataset")
    assert "esol" in str(caught.value)


def test_unknown_split_kind_is_an_unknown_name() -> None:
    from molgen.data.splits import kfold_splits

    with pytest.raises(UnknownNameError, match="predefined"):
        kfold_splits("predefined", 10, 2)


def test_a_missing_table_is_a_data_source_error(tmp_path: Path) -> None:
    from molgen.data.tables import read_table

    with pytest.raises(DataSourceError, match="not found"):
        read_table(tmp_path / "absent.csv")


def test_a_malformed_table_is_an_invalid_input_naming_line_and_column(tmp_path: Path) -> None:
    from molgen.data.tables import load_molecule_table, read_table

    table = tmp_path / "data.csv"
    table.write_text("smiles,logS\nCCO,1.5\nCCN,soluble\n")
    with pytest.raises(InvalidInputError, match=r"data.csv line 3: column 'logS' has value 'soluble'"):
        load_molecule_table(table, "smiles", ["logS"])
    with pytest.raises(InvalidInputError, match=r"column\(s\) \['smi'\] not found"):
        load_molecule_table(table, "smi")
    duplicated = tmp_path / "dup.tsv"
    duplicated.write_text("smiles\tx\tx\nCCO\t1\t2\n")
    with pytest.raises(InvalidInputError, match="duplicate column names"):
        read_table(duplicated)
    with pytest.raises(InvalidInputError, match="unsupported table format"):
        read_table(tmp_path / "data.xlsx")


def test_a_bad_screening_library_is_reported_as_user_input(tmp_path: Path) -> None:
    from molgen.data.shards import plan_library

    with pytest.raises(DataSourceError, match="library not found"):
        plan_library(tmp_path / "absent.smi", 10)
    library = tmp_path / "lib.csv"
    library.write_text("name,weight\na,1\n")
    with pytest.raises(InvalidInputError, match="no SMILES column"):
        plan_library(library, 10)
    with pytest.raises(ConfigError, match="chunk size"):
        plan_library(library, 0)


def test_an_unknown_readout_is_an_unknown_name() -> None:
    from molgen.models.layers import build_readout

    with pytest.raises(UnknownNameError, match="unknown readout"):
        build_readout("median", 8)
