"""`molgen pretrain` and `molgen embed` as a user runs them: real processes, real files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.cli.test_train_predict import molgen
from tests.conftest import MOLECULES

pytestmark = pytest.mark.slow


def test_pretrain_then_embed(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.csv"
    pd.DataFrame({"smi": MOLECULES * 3 + ["not_a_smiles"]}).to_csv(corpus, index=False)
    run = tmp_path / "pretrain"
    result = molgen(
        "pretrain", "--data", str(corpus), "--smiles-column", "smi", "--model", "gin", "--hidden-dim", "16",
        "--depth", "2", "--objective", "masking=1", "--chunk-size", "40", "--batch-size", "16", "--max-epochs", "1",
        "--workers", "1", "--output", str(run),
    )  # fmt: skip
    assert "skipped 1 invalid molecule(s)" in result.stdout
    assert json.loads((run / "metrics.json").read_text())["pretraining"]["invalid_molecules"] == 1
    molgen("embed", "--model", str(run), "--input", str(corpus), "--output", str(tmp_path / "emb.parquet"))
    out = pd.read_parquet(tmp_path / "emb.parquet")
    assert len(out) == len(MOLECULES) * 3 + 1 and out["valid"].sum() == len(MOLECULES) * 3


def test_the_shipped_encoder_fine_tunes_offline_with_the_default_model(regression_csv: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from molgen.families.init_from import encoder_state, resolve_pretrained, shipped_encoders

    assert "dmpnn-pretrained" in shipped_encoders()
    run = tmp_path / "frozen"
    result = molgen(
        "train", "--data", str(regression_csv), "--smiles-column", "smiles", "--target-columns", "logp",
        "--init-from", "molgen:dmpnn-pretrained", "--freeze-encoder", "--max-epochs", "1", "--output", str(run),
    )  # fmt: skip
    assert "encoder initialized from molgen:dmpnn-pretrained" in result.stdout + result.stderr
    shipped = encoder_state(load_file(resolve_pretrained("molgen:dmpnn-pretrained") / "model.safetensors"))
    trained = encoder_state(load_file(run / "model" / "model.safetensors"))
    assert shipped.keys() == trained.keys() and all(shipped[k].equal(trained[k]) for k in shipped)
    molgen(
        "embed", "--model", "molgen:dmpnn-pretrained", "--input", str(regression_csv), "--smiles-column", "smiles",
        "--output", str(tmp_path / "emb.parquet"),
    )  # fmt: skip
    embedded = pd.read_parquet(tmp_path / "emb.parquet")
    assert len(embedded) == len(pd.read_csv(regression_csv)) and embedded.filter(like="embedding_").shape[1] == 300
