"""A DNA run keeps its test predictions by record id, and its missing labels are counted (k-mer baseline: no
Lightning, so it runs in seconds)."""

from __future__ import annotations

import json

import pandas as pd
from tests.integration.test_expression_overfit import planted

from molgen.config import RunConfig
from molgen.recipes import fit


def test_fasta_run_keeps_test_predictions_by_record_id(tmp_path):
    seqs, counts = planted(60, 40)
    (tmp_path / "tiny.fa").write_text("".join(f">s{i} planted\n{s}\n" for i, s in enumerate(seqs)))
    labels = pd.DataFrame({"id": [f"s{i}" for i in range(60)], "motifs": counts[:, 0]})
    labels.loc[[7, 8], "motifs"] = None  # no label: left out of training and evaluation
    labels.to_csv(tmp_path / "labels.csv", index=False)
    cfg = RunConfig().with_values(
        {
            "data.name": str(tmp_path / "tiny.fa"),
            "data.labels": str(tmp_path / "labels.csv"),
            "model.name": "kmer",
            "model.kmer_size": 2,
            "output": str(tmp_path / "run"),
        }
    )
    result = fit(cfg)
    splits = json.loads((result.run_dir / "splits.json").read_text())
    assert splits["unlabelled_rows"] == [7, 8] and result.details["missing_targets"]["rows_without_targets"] == 2
    kept = pd.read_csv(result.run_dir / "predictions" / "test.csv")
    assert list(kept.columns) == ["row", "id", "motifs", "motifs_pred"]
    assert kept["row"].tolist() == splits["folds"][0]["test"]
    assert kept["id"].tolist() == [f"s{i}" for i in kept["row"]]
    assert kept["motifs"].tolist() == counts[kept["row"], 0].tolist()
