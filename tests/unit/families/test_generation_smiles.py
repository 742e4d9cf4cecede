"""Generator training data goes through the one table reader: whole cells, .smi = SMILES then a name."""

from __future__ import annotations

from molgen.config import RunConfig
from molgen.families.generation.family import load_smiles, resolve_config


def _load(path):
    cfg = RunConfig(family="generation").with_values(
        {"data.name": str(path), "model.name": "charrnn", "data.on_invalid": "skip"}
    )
    cfg, spec = resolve_config(cfg)
    return load_smiles(cfg, spec)


def test_a_csv_cell_with_whitespace_is_invalid_not_cut(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("smiles\nCCO\nCC O\nc1ccccc1\nCCN\n")
    valid, _rows, invalid_rows, problems = _load(path)
    assert valid == ["CCO", "c1ccccc1", "CCN"] and invalid_rows == [1]
    assert problems == ["train.csv line 3: 'CC O': whitespace inside SMILES"]


def test_smi_names_a_header_and_blank_lines(tmp_path):
    path = tmp_path / "train.smi"
    path.write_text("smiles name\nCCO ethanol\n\nc1ccccc1\tbenzene\nCC1 broken\n")
    valid, rows, invalid_rows, problems = _load(path)
    assert valid == ["CCO", "c1ccccc1"] and rows.tolist() == [0, 1] and invalid_rows == [2]
    assert problems[0].startswith("train.smi line 5: 'CC1': SMILES syntax error")
