"""`molgen train` / `molgen predict` on DNA: FASTA + labels as real processes; CSV through the same CLI code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from tests.integration.test_expression_overfit import planted

from molgen.cli.main import main
from molgen.genomics.encoding import MAX_PREDICT_LENGTH

MOLGEN = str(Path(sys.executable).parent / "molgen")
FAST = ["--hidden-dim", "8", "--depth", "1", "--max-epochs", "2", "--batch-size", "32"]


def molgen(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([MOLGEN, *args], capture_output=True, text=True, env=env, timeout=600)
    if result.returncode != 0:
        raise AssertionError(f"molgen {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def dna_files(tmp_path):
    seqs, counts = planted(60, 40)
    (tmp_path / "train.fa").write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    pd.DataFrame({"id": [f"s{i}" for i in range(60)], "motifs": counts[:, 0]}).to_csv(
        tmp_path / "labels.csv", index=False
    )
    pd.DataFrame({"seq": seqs, "motifs": counts[:, 0]}).to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / "query.fa").write_text(">good\nTGACTCATGACTCA\n>broken\nACGTACXGT\n>empty\n>soft\nacgtnacgt\n")
    return tmp_path


@pytest.mark.slow
def test_fasta_train_and_predict_as_processes(dna_files):
    run = dna_files / "run"
    out = molgen(
        "train",
        "--data",
        str(dna_files / "train.fa"),
        "--labels",
        str(dna_files / "labels.csv"),
        "--model",
        "cnn",
        "--output",
        str(run),
        *FAST,
    )
    assert "test pearson" in out.stdout
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["family"] == "expression" and config["data"]["seq_length"] == 40
    assert {"pearson", "spearman", "r2", "mse"} <= set(json.loads((run / "metrics.json").read_text())["test"])
    for name in ("model/model.safetensors", "model/model.yaml", "model/README.md", "checkpoints/best.ckpt"):
        assert (run / name).exists(), name
    result = molgen(
        "predict", "--model", str(run), "--input", str(dna_files / "query.fa"), "--output", str(dna_files / "out.csv")
    )
    assert (
        "wrote 4 rows (2 invalid)" in result.stdout and "broken: invalid character 'X' at position 7" in result.stderr
    )
    frame = pd.read_csv(dna_files / "out.csv", keep_default_na=False, na_values=[""])
    assert frame["id"].tolist() == ["good", "broken", "empty", "soft"]
    assert frame["valid"].tolist() == [True, False, False, True]
    assert frame.loc[2, "invalid_reason"] == "empty: empty sequence" and frame["motifs"].isna().tolist() == [
        False,
        True,
        True,
        False,
    ]


def test_csv_kmer_train_and_predict_through_the_cli(dna_files, capsys, caplog):
    run = dna_files / "kmer"
    assert (
        main(
            [
                "train",
                "--data",
                str(dna_files / "train.csv"),
                "--sequence-column",
                "seq",
                "--target-columns",
                "motifs",
                "--model",
                "kmer",
                "--set",
                "model.kmer_size=3",
                "--output",
                str(run),
            ]
        )
        == 0
    )
    assert "test pearson" in capsys.readouterr().out
    pd.DataFrame({"seq": ["TGACTCA" * 4, "NOPE"]}).to_csv(dna_files / "q.csv", index=False)
    assert (
        main(
            [
                "predict",
                "--model",
                str(run / "model"),
                "--input",
                str(dna_files / "q.csv"),
                "--input-column",
                "seq",
                "--output",
                str(dna_files / "q_out.csv"),
            ]
        )
        == 0
    )
    frame = pd.read_csv(dna_files / "q_out.csv", keep_default_na=False, na_values=[""])
    assert (
        frame["valid"].tolist() == [True, False]
        and frame.loc[1, "invalid_reason"] == "row 2: invalid character 'O' at position 2"
    )
    # sequences of another length than the model's input: one warning with the counts, or refused
    seq_length = yaml.safe_load((run / "model" / "model.yaml").read_text())["input"]["length"]
    rows = ["A" * (seq_length + 5), "ACGT", "A" * seq_length, "A" * (MAX_PREDICT_LENGTH + 1)]
    pd.DataFrame({"seq": rows}).to_csv(dna_files / "lengths.csv", index=False)
    predict = ["predict", "--model", str(run), "--input", str(dna_files / "lengths.csv"), "--input-column", "seq"]
    capsys.readouterr()
    assert main([*predict, "--output", str(dna_files / "lengths_out.csv")]) == 0
    assert f"1 sequence(s) longer than the model's {seq_length} nt input cropped, 1 shorter padded" in caplog.text
    frame = pd.read_csv(dna_files / "lengths_out.csv", keep_default_na=False, na_values=[""])
    assert frame["valid"].tolist() == [True, True, True, False]
    assert (
        frame.loc[3, "invalid_reason"] == f"row 4: {MAX_PREDICT_LENGTH + 1} nt is longer than {MAX_PREDICT_LENGTH} nt"
    )
    assert main([*predict, "--output", str(dna_files / "refused.csv"), "--on-length-mismatch", "error"]) == 2
    assert "1 sequence(s) longer and 1 shorter than the model's" in capsys.readouterr().err
    assert not (dna_files / "refused.csv").exists()


def test_clear_errors(dna_files, capsys):
    args = [
        "train",
        "--data",
        str(dna_files / "train.csv"),
        "--target-columns",
        "motifs",
        "--output",
        str(dna_files / "x"),
    ]
    assert main([*args, "--sequence-column", "seq", "--model", "gin"]) == 2
    assert "unknown DNA model 'gin'; valid names: cnn, dilated, transformer, kmer" in capsys.readouterr().err
    assert main([*args, "--model", "cnn", "--smiles-column", "seq"]) == 2
    assert "use --sequence-column" in capsys.readouterr().err
    assert (
        main(["train", "--data", str(dna_files / "train.fa"), "--model", "cnn", "--output", str(dna_files / "y")]) == 2
    )
    assert "pass --labels" in capsys.readouterr().err
