"""Report: mean ± std over seeds, published references and differences, Markdown and plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.unit.benchmarking.helpers import cell, record

from molgen.benchmarking.report import (
    higher_is_better,
    markdown,
    summarize,
    write_report,
)


def test_mean_std_and_reference_difference():
    rec = record(
        [cell("esol", "dmpnn", s, v) for s, v in enumerate([0.60, 0.70, 0.80])]
        + [cell("esol", "gin", 0, 0.9), cell("esol", "gin", 1, None, error="RuntimeError: boom")]
    )
    dmpnn, gin = summarize(rec)
    assert dmpnn.mean == pytest.approx(0.70) and dmpnn.std == pytest.approx(0.10)  # sample std
    assert dmpnn.seeds == (0, 1, 2) and dmpnn.wall_s == pytest.approx(11.0)
    chemprop = next(r for r in dmpnn.references if r.model.startswith("Chemprop"))
    assert chemprop.value == pytest.approx(0.555) and "github.com/chemprop" in chemprop.source
    assert dmpnn.to_dict()["differences"]["Chemprop D-MPNN"] == pytest.approx(0.70 - 0.555)
    assert gin.values == (0.9,) and gin.std == 0.0 and gin.failed == ("seed 1: RuntimeError: boom",)
    text = markdown(rec, [dmpnn, gin])
    assert "| esol | random | dmpnn | rmse ↓ | 3 | 0.700 ± 0.100 | Chemprop D-MPNN 0.555 ± 0.047 [1]" in text
    assert "| +0.145; +0.120 |" in text  # vs Chemprop 0.555 and MoleculeNet's best 0.58
    assert "0.900 ± 0.000 (1 failed)" in text and "## Failed cells" in text and "RuntimeError: boom" in text
    assert "1. Chemprop README" in text


def test_references_only_for_the_matching_split_and_user_files_have_none():
    (scaffold,) = summarize(record([cell("esol", "dmpnn", 0, 0.7, split="scaffold")]))
    assert scaffold.references == ()
    (user,) = summarize(record([cell("my_assay", "dmpnn", 0, 0.7)]))
    assert user.references == () and "| – | – |" in markdown(record([]), [user])


def test_metric_direction():
    assert higher_is_better("rmse") is False and higher_is_better("roc_auc") is True
    assert higher_is_better("valid") is None


def test_write_report_files(tmp_path: Path):
    rec = record(
        [cell("esol", "dmpnn", s, v) for s, v in enumerate([0.6, 0.7])]
        + [cell("bbbp", "dmpnn", 0, 0.85, metric="roc_auc", split="scaffold")]
    )
    write_report(tmp_path, rec, {"passed": True, "failures": [], "lines": ["`esol/dmpnn`: ok"]})
    assert (tmp_path / "tiny.png").stat().st_size > 1000
    text = (tmp_path / "results.md").read_text()
    assert "**PASSED**" in text and "![tiny](tiny.png)" in text
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["summary"][0]["mean"] == pytest.approx(0.65) and saved["check"]["passed"] is True


def test_subsets_get_no_difference():
    subset = cell("hiv", "dmpnn", 0, 0.9, metric="roc_auc", split="scaffold")
    subset["overrides"] = {"data.max_rows": 3000}
    (summary,) = summarize(record([subset]))
    assert summary.subset == 3000 and summary.references and summary.to_dict()["differences"] == {}
    assert "| hiv (first 3,000 rows) | scaffold | dmpnn |" in markdown(record([subset]), [summary])
    assert "n/a (subset)" in markdown(record([subset]), [summary])
