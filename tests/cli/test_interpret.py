"""`molgen interpret` as a user runs it, on a small untrained model folder: the files it writes, one row per input
row (invalid rows included), --target, and the output folders it refuses."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.unit.analysis.test_interpretation import SMILES, export

from molgen.cli.main import main


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export(tmp_path_factory.mktemp("interpret") / "model", targets=("y", "z"))


@pytest.mark.parametrize("method", ["ig", "masking"])
def test_cli_writes_the_files_with_one_row_per_input(model_dir: Path, tmp_path: Path, method: str, capsys):
    inputs = tmp_path / "in.csv"
    pd.DataFrame({"smiles": [SMILES[0], "C1CC", SMILES[1], "", SMILES[2], "CCO", "CCN"]}).to_csv(inputs, index=False)
    out = tmp_path / "out"
    args = ["interpret", "--model", str(model_dir), "--input", str(inputs), "--output", str(out), "--method", method]
    assert main([*args, "--min-count", "1"]) == 0
    molecules = pd.read_csv(out / "molecules.csv", keep_default_na=False, na_values=[""])
    assert molecules["row"].tolist() == list(range(7))
    assert molecules["valid"].tolist() == [True, False, True, False, True, True, True]
    assert "C1CC" in molecules.loc[1, "invalid_reason"] and "empty SMILES" in molecules.loc[3, "invalid_reason"]
    assert molecules.loc[~molecules["valid"], ["y_pred", "z_pred"]].isna().all().all()
    assert molecules.loc[~molecules["valid"], "image"].isna().all()
    images = sorted(p.name for p in (out / "images").iterdir())
    assert images == sorted(f"{row}.png" for row in (0, 2, 4, 5, 6))
    assert (out / "images" / "0.png").read_bytes()[:4] == b"\x89PNG"
    atoms = pd.read_csv(out / "atoms.csv")
    assert list(atoms.columns) == ["row", "smiles", "atom_index", "element", "y_attribution", "z_attribution"]
    assert len(atoms) == molecules["n_atoms"].sum() == 13 + 6 + 1 + 3 + 3
    assert atoms.loc[atoms["row"] == 1].empty
    assert atoms.loc[atoms["row"] == 4, "element"].tolist() == ["C"]
    sums = atoms.groupby("row")["y_attribution"].sum()
    assert sums.to_numpy() == pytest.approx(molecules.set_index("row").loc[sums.index, "y_attribution_sum"].to_numpy())
    if method == "ig":
        gap = (molecules["y_pred"] - molecules["y_baseline"])[molecules["valid"]]
        assert sums.to_numpy() == pytest.approx(gap.to_numpy(), rel=0.1, abs=5e-4)
    substructures = pd.read_csv(out / "substructures.csv")
    assert set(substructures["target"]) == {"y", "z"} and (substructures["count"] >= 1).all()
    assert "## y: substructures that raise the prediction" in (out / "summary.md").read_text()
    captured = capsys.readouterr()
    assert "explained 5 of 7 rows" in captured.out
    assert "in.csv line 3" in captured.err and "in.csv line 5" in captured.err


def test_target_option_explains_one_target(model_dir: Path, tmp_path: Path, capsys):
    inputs = tmp_path / "in.smi"
    inputs.write_text("\n".join(SMILES) + "\n")
    out = tmp_path / "out"
    args = ["interpret", "--model", str(model_dir), "--input", str(inputs), "--output", str(out), "--target", "z"]
    assert main([*args, "--method", "masking"]) == 0
    assert [c for c in pd.read_csv(out / "atoms.csv").columns if c.endswith("_attribution")] == ["z_attribution"]
    assert main([*args, "--method", "masking"]) == 0  # an earlier output is replaced
    assert main([*args[:-1], "nope"]) == 2
    assert "unknown target 'nope'; this model predicts: y, z" in capsys.readouterr().err


def test_refuses_a_folder_it_did_not_write(model_dir: Path, tmp_path: Path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("keep me")
    (tmp_path / "in.smi").write_text("CCO\n")
    args = ["--model", str(model_dir), "--input", str(tmp_path / "in.smi"), "--output", str(tmp_path / "out")]
    assert main(["interpret", *args]) == 2
    assert "is a non-empty folder that molgen interpret did not write" in capsys.readouterr().err
    assert (tmp_path / "out" / "notes.txt").read_text() == "keep me"


def test_dna_model_is_refused_with_one_line(tmp_path: Path, capsys):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.yaml").write_text("format_version: 2\nfamily: expression\n")
    (tmp_path / "in.smi").write_text("CCO\n")
    args = ["--model", str(tmp_path / "model"), "--input", str(tmp_path / "in.smi"), "--output", str(tmp_path / "out")]
    assert main(["interpret", *args]) == 2
    err = capsys.readouterr().err
    assert "supported families: property" in err and "molgen attribute" in err
    assert not (tmp_path / "out").exists()


def test_standardizing_model_explains_the_molecule_it_saw(tmp_path: Path):
    model = export(tmp_path / "model", standardize="basic")
    (tmp_path / "in.smi").write_text("CC(=O)[O-].[Na+]\n")
    args = ["--model", str(model), "--input", str(tmp_path / "in.smi"), "--output", str(tmp_path / "out")]
    assert main(["interpret", *args, "--method", "masking"]) == 0
    molecules = pd.read_csv(tmp_path / "out" / "molecules.csv")
    assert molecules.loc[0, "n_atoms"] == 4  # acetic acid: the salt's largest organic fragment, neutralized
    assert "Na" not in molecules.loc[0, "mapped_smiles"] and ":4]" in molecules.loc[0, "mapped_smiles"]
    assert pd.read_csv(tmp_path / "out" / "atoms.csv")["element"].tolist() == ["C", "C", "O", "O"]


def test_help_names_the_methods_and_files(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["interpret", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "all-zero atom and bond features" in text and "images/<row>.png" in text and "molgen attribute" in text
