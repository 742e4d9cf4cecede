"""Pretraining on a tiny streamed corpus: export, exact mid-epoch resume, fine-tuning from it, embeddings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import lightning.pytorch as L
import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from safetensors.torch import load_file
from tests.conftest import MOLECULES

from molgen.analysis.embedding import embed_file
from molgen.analysis.prediction import load_model
from molgen.config import GraphModelConfig, RunConfig
from molgen.errors import ConfigError, ModelFormatError
from molgen.families.init_from import encoder_state, load_encoder
from molgen.families.pretraining.family import parse_objectives
from molgen.families.property import GRAPH_ENCODERS
from molgen.recipes import fit

pytestmark = pytest.mark.slow

INVALID = ["not_a_smiles", "C1CC"]


def corpus_smiles() -> list[str]:
    """200 valid molecules (made here) with two invalid lines among them."""
    made = [form.format(c="C" * n) for n in range(1, 41) for form in ("{c}O", "c1ccccc1{c}", "N{c}C(=O)O", "{c}Cl")]
    smiles = MOLECULES + made
    return smiles[:70] + INVALID[:1] + smiles[70:150] + INVALID[1:] + smiles[150:]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "corpus.smi"
    path.write_text("".join(s + "\n" for s in corpus_smiles()))
    return path


def config(corpus: Path, output: Path, **values: object) -> RunConfig:
    base = {
        "family": "pretrain",
        "output": str(output),
        "data.name": str(corpus),
        "data.batch_size": 16,
        "model.hidden_dim": 16,
        "model.depth": 2,
        "model.ffn_hidden_dim": 16,
        "pretrain.chunk_size": 50,
        "pretrain.workers": 0,
        "pretrain.checkpoint_every_n_steps": 2,
        "trainer.max_epochs": 1,
        "trainer.progress_bar": False,
    }
    return RunConfig().with_values({**base, **values})


@pytest.fixture(scope="module")
def pretrained(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("pretrain") / "run"
    fit(config(corpus, run_dir, **{"pretrain.objectives": ["descriptors=1.0", "masking=0.5"]}))
    return run_dir


def test_pretraining_exports_an_encoder_and_counts_invalid_molecules(pretrained: Path) -> None:
    metrics = json.loads((pretrained / "metrics.json").read_text())
    assert metrics["pretraining"]["invalid_molecules"] == len(INVALID)
    assert metrics["pretraining"]["corpus_rows_read"] == len(corpus_smiles())
    assert metrics["pretraining"]["molecules"] == len(corpus_smiles()) - len(INVALID) - 50  # chunk 0 validates
    assert metrics["pretraining"]["molecules_per_s"] > 0
    assert set(metrics["val"]) == {"loss", "descriptors", "masking"}
    spec = yaml.safe_load((pretrained / "model" / "model.yaml").read_text())
    assert spec["family"] == "pretrain" and spec["pretraining"]["objectives"] == {"descriptors": 1.0, "masking": 0.5}
    assert len(spec["pretraining"]["descriptors"]) == 109
    weights = load_file(str(pretrained / "model" / "model.safetensors"))
    std = weights["members.0.descriptor_std"]
    assert std.shape == (109,) and bool((std > 0).all())  # the standardization travels with the export
    assert "# molgen pretrained encoder: dmpnn" in (pretrained / "model" / "README.md").read_text()


class Crash(L.Callback):
    """Stops the run after ``step`` optimizer steps, as a kill would."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:  # type: ignore[no-untyped-def]
        if trainer.global_step >= self.step:
            raise RuntimeError("killed")


def test_a_run_killed_mid_epoch_resumes_from_its_stream_position(corpus: Path, tmp_path: Path) -> None:
    # descriptors only, no target dropping: the run is deterministic, so a resumed run must match an unbroken one
    values = {"pretrain.objectives": ["descriptors=1"], "pretrain.descriptor_mask_rate": 0.0}
    whole = fit(config(corpus, tmp_path / "whole", **values))
    broken = config(corpus, tmp_path / "broken", **values)
    with pytest.raises(RuntimeError, match="killed"):
        fit(broken, extra_callbacks=[Crash(5)])
    saved = torch.load(tmp_path / "broken" / "checkpoints" / "last.ckpt", weights_only=True)
    position = next(v for k, v in saved["callbacks"].items() if k.startswith("StreamPosition"))
    assert saved["global_step"] == 4 and position["pass_index"] == 0 and (position["done"] or position["partial"])
    resumed = fit(broken, resume=True)
    total = whole.details["pretraining"]["molecules"]
    assert 0 < resumed.details["pretraining"]["molecules"] < total  # the corpus was not read again from its start
    a = load_file(str(tmp_path / "whole" / "model" / "model.safetensors"))
    b = load_file(str(tmp_path / "broken" / "model" / "model.safetensors"))
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-5, atol=1e-6, msg=name)
    assert json.loads((tmp_path / "broken" / "metrics.json").read_text())["pretraining"]["invalid_molecules"] == 2


def _esol_like(tmp_path: Path) -> Path:
    from tests.conftest import crippen_logp

    path = tmp_path / "train.csv"
    pd.DataFrame({"smiles": MOLECULES, "logp": [crippen_logp(s) for s in MOLECULES]}).to_csv(path, index=False)
    return path


def test_fine_tuning_starts_from_the_pretrained_encoder_and_freezing_keeps_it(pretrained: Path, tmp_path: Path) -> None:
    weights = load_file(str(pretrained / "model" / "model.safetensors"))
    exported = encoder_state({k.removeprefix("members.0."): v for k, v in weights.items()})
    model = GraphModelConfig(hidden_dim=16, depth=2)
    encoder = GRAPH_ENCODERS.get("dmpnn")(atom_dim=72, bond_dim=14, hidden_dim=16, depth=2, dropout=0.0)
    assert any(not torch.equal(v, exported[k]) for k, v in encoder.state_dict().items())  # a random start differs
    load_encoder(encoder, str(pretrained), model, "v2")
    for name, value in encoder.state_dict().items():  # step 0 of fine-tuning: the pretrained tensors
        assert torch.equal(value, exported[name]), name
    data = _esol_like(tmp_path)
    base = {"data.name": str(data), "data.target_columns": ["logp"], "model.hidden_dim": 16, "model.depth": 2,
            "trainer.max_epochs": 2, "trainer.progress_bar": False, "optim.init_from": str(pretrained)}  # fmt: skip
    fit(RunConfig().with_values({**base, "output": str(tmp_path / "frozen"), "optim.freeze_encoder": True}))
    fit(RunConfig().with_values({**base, "output": str(tmp_path / "tuned"), "optim.encoder_lr_ratio": 0.1}))
    frozen = load_file(str(tmp_path / "frozen" / "model" / "model.safetensors"))
    tuned = load_file(str(tmp_path / "tuned" / "model" / "model.safetensors"))
    for name, value in exported.items():
        assert torch.equal(frozen[f"members.0.encoder.{name}"], value), name
    assert any(not torch.equal(tuned[f"members.0.encoder.{n}"], v) for n, v in exported.items())


def test_an_encoder_of_another_shape_or_kind_is_a_clear_error(pretrained: Path, tmp_path: Path) -> None:
    wider = GRAPH_ENCODERS.get("dmpnn")(atom_dim=72, bond_dim=14, hidden_dim=24, depth=2, dropout=0.0)
    with pytest.raises(
        ModelFormatError, match=r"'W_h.weight' has shape \[16, 16\] in the pretrained model and \[24, 24\]"
    ):
        load_encoder(wider, str(pretrained), GraphModelConfig(hidden_dim=24, depth=2), "v2")
    gin = GRAPH_ENCODERS.get("gin")(atom_dim=72, bond_dim=14, hidden_dim=16, depth=2, dropout=0.0)
    with pytest.raises(ModelFormatError, match="the pretrained encoder is a dmpnn, this model is a gin"):
        load_encoder(gin, str(pretrained), GraphModelConfig(name="gin", hidden_dim=16, depth=2), "v2")
    dna = tmp_path / "dna"
    shutil.copytree(pretrained / "model", dna)
    spec = yaml.safe_load((dna / "model.yaml").read_text())
    (dna / "model.yaml").write_text(yaml.safe_dump({**spec, "family": "expression"}))
    encoder = GRAPH_ENCODERS.get("dmpnn")(atom_dim=72, bond_dim=14, hidden_dim=16, depth=2, dropout=0.0)
    with pytest.raises(ModelFormatError, match="holds a DNA sequence model"):
        load_encoder(encoder, str(dna), GraphModelConfig(hidden_dim=16, depth=2), "v2")
    with pytest.raises(
        ModelFormatError, match="no pretrained encoder 'no-such-encoder' is shipped.*molgen:dmpnn-pretrained"
    ):
        load_encoder(encoder, "molgen:no-such-encoder", GraphModelConfig(hidden_dim=16, depth=2), "v2")
    with pytest.raises(
        ConfigError, match="unknown pretraining objective 'context'; valid names: descriptors, masking, contrastive"
    ):
        parse_objectives(["context=1"])
    with pytest.raises(ConfigError, match="the expression family cannot use them"):
        fit(RunConfig().with_values({"data.name": "x.fasta", "optim.init_from": str(pretrained)}))


def test_embed_writes_one_row_per_input_in_order_with_invalid_rows_marked(pretrained: Path, tmp_path: Path) -> None:
    smiles = ["CCO", "not_a_smiles", "c1ccccc1O", "", "CCN(CC)CC"]
    (tmp_path / "in.csv").write_text("smiles,name\n" + "".join(f"{s},m{i}\n" for i, s in enumerate(smiles)))
    (tmp_path / "rev.csv").write_text("smiles\n" + "".join(f"{s}\n" for s in reversed(smiles) if s))
    model = load_model(pretrained)
    summary = embed_file(model, tmp_path / "in.csv", tmp_path / "out.parquet", n_jobs=1)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert summary.n_invalid == 2 and list(out["name"]) == [f"m{i}" for i in range(5)]
    assert out["valid"].tolist() == [True, False, True, False, True]
    columns = [c for c in out.columns if c.startswith("embedding_")]
    assert len(columns) == 16 and out.loc[~out["valid"], columns].isna().all().all()
    embed_file(model, tmp_path / "rev.csv", tmp_path / "rev.parquet", n_jobs=1)
    rev = pd.read_parquet(tmp_path / "rev.parquet").set_index("smiles")
    for _, row in out[out["valid"]].iterrows():
        np.testing.assert_allclose(
            rev.loc[row["smiles"], columns].to_numpy(float), row[columns].to_numpy(float), atol=1e-5
        )
