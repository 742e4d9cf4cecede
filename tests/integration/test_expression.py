"""The expression recipe end to end: fit → run folder → export → load → predict, on tiny files made here,
plus the catalog's assembled datasets on the mirror ($MOLGEN_DATA_DIR)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from tests.integration.test_expression_overfit import planted

from molgen.analysis.prediction import load_model, predict_frame
from molgen.config import RunConfig
from molgen.errors import InvalidInputError
from molgen.genomics.encoding import one_hot, reverse_complement_onehot
from molgen.recipes import fit, resolve_family
from molgen.training.batches import SequenceBatch
from molgen.training.predictor import predict_onehot

FAST = {
    "model.hidden_dim": 8,
    "model.depth": 1,
    "model.ffn_hidden_dim": 16,
    "trainer.max_epochs": 2,
    "trainer.progress_bar": False,
    "data.batch_size": 32,
}


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _cfg(tmp_path, name: str, **values) -> RunConfig:
    fast = FAST
    if values.get("model.name") == "kmer":  # the k-mer baseline has no network sizes
        fast = {key: value for key, value in FAST.items() if not key.startswith("model.")}
    return RunConfig().with_values({**fast, "output": str(tmp_path / "run"), "data.name": str(name), **values})


@pytest.fixture
def tiny_csv(tmp_path):
    seqs, counts = planted(60, 40)
    frame = pd.DataFrame({"seq": seqs, "motifs": counts[:, 0], "gc": [s.count("G") + s.count("C") for s in seqs]})
    frame.loc[3, "seq"] = frame.loc[3, "seq"].lower()  # soft-masked: fine
    path = tmp_path / "tiny.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def tiny_fasta(tmp_path):
    seqs, counts = planted(60, 40)
    (tmp_path / "tiny.fa").write_text("".join(f">s{i} planted\n{s}\n" for i, s in enumerate(seqs)))
    pd.DataFrame({"id": [f"s{i}" for i in range(60)], "motifs": counts[:, 0]}).to_csv(
        tmp_path / "labels.csv", index=False
    )
    return tmp_path / "tiny.fa"


def test_family_is_picked_from_the_data():
    base = RunConfig()
    assert resolve_family(base).family == "property"
    assert resolve_family(base.with_values({"data.name": "ecoli_promoters_165"})).family == "expression"
    assert resolve_family(base.with_values({"data.name": "x.fa.gz"})).family == "expression"
    assert resolve_family(base.with_values({"data.name": "x.csv", "model.name": "cnn"})).family == "expression"
    assert resolve_family(base.with_values({"data.name": "x.csv", "data.sequence_column": "s"})).family == "expression"
    assert resolve_family(base.with_values({"data.name": "bbbp", "model.name": "gin"})).family == "property"


def test_csv_fit_export_load_predict(tiny_csv, tmp_path):
    result = fit(
        _cfg(
            tmp_path,
            tiny_csv,
            **{
                "model.name": "cnn",
                "model.depth": 2,
                "data.sequence_column": "seq",
                "data.target_columns": ["motifs", "gc"],
            },
        )
    )
    assert result.config.family == "expression" and result.config.data.seq_length == 40
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    pooled = {"pearson", "spearman", "r2", "mse"}
    assert pooled == {k for k in metrics["test"] if "/" not in k} and result.config.task.monitor == "pearson"
    assert {f"{m}/{t}" for m in pooled for t in ("motifs", "gc")} <= set(metrics["test"])  # per target too
    assert result.details["train_sequences_per_s"] > 0
    model = load_model(result.run_dir)
    assert model.spec.family == "expression" and model.spec.task.targets == ["motifs", "gc"]
    assert model.spec.input.model_dump() == {
        "kind": "dna",
        "column": "seq",
        "length": 40,
        "n_value": "uniform",
        "pad": "center",
    }
    queries = pd.DataFrame({"seq": ["ACGT" * 10, "ACGTZ", "", "acgtn" * 20, None], "name": list("abcde")})
    out = predict_frame(model, queries)
    assert len(out) == 5 and out["valid"].tolist() == [True, False, False, True, False]
    assert out.loc[1, "invalid_reason"] == "row 2: invalid character 'Z' at position 5"
    assert out.loc[2, "invalid_reason"] == "row 3: empty sequence"
    assert np.isfinite(out.loc[[0, 3], ["motifs", "gc"]].to_numpy()).all() and out.loc[1, ["motifs", "gc"]].isna().all()
    x = torch.from_numpy(one_hot(["ACGT" * 10, "TTGACTCATT" * 4], length=40))
    direct = model.members[0](SequenceBatch(x))  # the contract: a member maps a one-hot batch to [B, T]
    assert torch.allclose(predict_onehot(model.members, x, rc_average=False), direct, atol=1e-5)
    both = predict_onehot(model.members, x)
    assert both.shape == (2, 2) and torch.allclose(
        both, predict_onehot(model.members, reverse_complement_onehot(x)), atol=1e-5
    )


def test_fasta_with_labels_and_invalid_records(tiny_fasta, tmp_path):
    lines = tiny_fasta.read_text().splitlines()
    lines[11] = "ACGTR" + lines[11]  # record s5
    lines[19] = ""  # record s9: empty
    tiny_fasta.write_text("\n".join([*lines, ">lost", "ACGT"]) + "\n")
    cfg = _cfg(
        tmp_path,
        tiny_fasta,
        **{"model.name": "kmer", "model.kmer_size": 3, "data.labels": str(tmp_path / "labels.csv")},
    )
    with pytest.raises(InvalidInputError) as err:
        fit(cfg)
    message = str(err.value)
    assert "tiny.fa record 6 (s5): invalid character 'R' at position 5" in message
    assert "tiny.fa record 10 (s9): empty sequence" in message
    assert "tiny.fa record 61 (lost): no row with id 'lost'" in message
    result = fit(cfg.with_values({"data.on_invalid": "skip"}))
    assert result.n_invalid == 3 and np.isfinite(result.metrics["test"]["pearson"])
    splits = json.loads((result.run_dir / "splits.json").read_text())
    assert splits["invalid_rows"] == [5, 9, 60]
    out = load_model(result.run_dir)
    frame = predict_frame(out, pd.DataFrame({"id": ["q"], "sequence": ["TGACTCA" * 5]}))
    assert frame["valid"].tolist() == [True]


def test_bed_intervals_on_a_reference(tmp_path):
    rng = np.random.default_rng(1)
    genome = "".join(rng.choice(list("ACGT"), 3000))
    (tmp_path / "genome.fa").write_text(f">chr1\n{genome}\n")
    rows = [f"chr1\t{i * 50}\t{i * 50 + 40}\tr{i}\t0\t+\t{genome[i * 50 : i * 50 + 40].count('G')}" for i in range(50)]
    (tmp_path / "regions.bed").write_text("\n".join(rows + ["chr1\t2990\t3030\tpast_end\t0\t+\t1"]) + "\n")
    cfg = _cfg(
        tmp_path,
        tmp_path / "regions.bed",
        **{
            "model.name": "kmer",
            "model.kmer_size": 2,
            "data.reference": str(tmp_path / "genome.fa"),
            "data.target_columns": ["col7"],
            "data.on_invalid": "skip",
        },
    )
    result = fit(cfg)
    assert result.n_invalid == 1 and result.metrics["test"]["pearson"] > 0.9  # the G count is linear in 1-mer counts


def test_catalog_assemblies_on_the_mirror(data_mirror, tmp_path):
    from molgen.data.catalog import get_dataset
    from molgen.families import FAMILIES
    from molgen.families.expression import load_data, resolve_config
    from molgen.genomics.io import catalog_frame

    cfg, spec = resolve_config(RunConfig().with_values({"data.name": "ecoli_promoters_165", "model.name": "cnn"}))
    assert cfg.data.split == "predefined" and cfg.task.monitor == "pearson" and cfg.data.rc_augment is False
    (split,) = FAMILIES.get("expression").make_splits(cfg, load_data(cfg, spec))
    assert split.sizes == (13972 - 398 - 1397, 1397, 398)
    frame, _ = catalog_frame(get_dataset("chipseq_oct4_mafk"))
    assert len(frame) == 3897 + 3900 and frame["oct4"].sum() == 3897
    cfg, _ = resolve_config(RunConfig().with_values({"data.name": "chipseq_oct4_mafk", "model.name": "kmer"}))
    assert cfg.data.rc_augment is True and cfg.task.monitor == "roc_auc"
    result = fit(
        _cfg(tmp_path, "ecoli_promoters_50", **{"model.name": "kmer", "model.kmer_size": 3, "data.max_rows": 1500})
    )
    assert result.metrics["test"]["pearson"] > 0.1  # a real signal, from 1,500 rows and 3-mers
