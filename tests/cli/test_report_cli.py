"""`molgen train` writes report.html at the end (unless --no-report) and `molgen report` writes it later: real
processes on tiny CSVs, 2 epochs, the pages opened in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.browser import open_in_chromium
from tests.conftest import MOLECULES, crippen_logp
from tests.integration.test_expression_overfit import planted

from molgen.cli.train import write_run_report
from molgen.report import SECTIONS

MOLGEN = str(Path(sys.executable).parent / "molgen")
FAST = ["--hidden-dim", "16", "--max-epochs", "2", "--batch-size", "16", "--featurize-jobs", "1"]
HEADINGS = [heading for _, heading in SECTIONS]


def molgen(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([MOLGEN, *args], capture_output=True, text=True, env=env, timeout=600)
    if result.returncode != 0:
        raise AssertionError(f"molgen {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 molecules and one unparseable SMILES (data row 40): logp and a binary label."""
    path = tmp_path_factory.mktemp("data") / "mols.csv"
    frame = pd.DataFrame({"smiles": [*MOLECULES, "C1CC(N"]})
    frame["logp"] = [crippen_logp(s) for s in MOLECULES] + [0.0]
    frame["active"] = (frame["logp"] > frame["logp"].median()).astype(int)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def regression_run(data: Path) -> tuple[Path, subprocess.CompletedProcess]:
    out = data.parent / "regression"
    args = ["--data", str(data), "--target-columns", "logp", "--split", "scaffold", "--on-invalid", "skip"]
    return out, molgen("train", *args, *FAST, "--output", str(out))


def check_page(path: Path) -> None:
    page = open_in_chromium(path)
    assert page.errors == [] and page.failed == []
    assert page.image_widths and all(width > 0 for width in page.image_widths), page.image_widths
    assert page.headings == HEADINGS


@pytest.mark.slow
def test_train_ends_with_the_report_of_its_run(regression_run):
    out, result = regression_run
    assert f"report: {out / 'report.html'}" in result.stdout
    summary = json.loads((out / "metrics.json").read_text())["data_summary"]
    assert summary["rows"] == 41 and summary["invalid"] == 1 and summary["scaffold_overlap"] == [{"val": 0, "test": 0}]
    html = (out / "report.html").read_text()
    assert "SMILES syntax error" in html and "test rows with a train scaffold" in html and "parity: logp" in html
    check_page(out / "report.html")


@pytest.mark.slow
def test_report_after_no_report_for_a_classification_ensemble(data):
    out = data.parent / "binary"
    args = ["--data", str(data), "--target-columns", "active", "--task-type", "binary", "--on-invalid", "skip"]
    result = molgen("train", *args, *FAST, "--ensemble-size", "2", "--output", str(out), "--no-report")
    assert not (out / "report.html").exists() and "report:" not in result.stdout
    page = data.parent / "binary.html"
    molgen("report", str(out), "--output", str(page))
    html = page.read_text()
    assert html.count("fold_0/member_") == 0  # member tags are legend text inside the PNG, not the page
    assert "calibration: active" in html and "Worst test predictions" in html
    check_page(page)


@pytest.mark.slow
def test_uncertainty_and_domain_columns_of_a_real_run_are_plotted(regression_run, tmp_path):
    source, _ = regression_run
    run = tmp_path / "run"
    shutil.copytree(source, run)
    (run / "report.html").unlink()
    table = pd.read_csv(run / "predictions" / "test.csv")
    assert "train_similarity" in table  # a molecule run has its applicability domain: the histogram is there
    before = (source / "report.html").read_text()
    assert "applicability" in before.lower()
    rng = np.random.default_rng(0)
    table["logp_std"] = rng.uniform(0.1, 1.0, len(table))
    table["logp_lower"], table["logp_upper"] = table.logp_pred - 1.0, table.logp_pred + 1.0
    table["train_similarity"] = rng.uniform(size=len(table))
    table["in_domain"] = table.train_similarity > 0.2
    table.to_csv(run / "predictions" / "test.csv", index=False)
    molgen("report", str(run))
    html = (run / "report.html").read_text()
    assert html.count("<img ") == before.count("<img ") + 2 and "empirical coverage" in html  # + calibration, coverage
    check_page(run / "report.html")


@pytest.mark.slow
def test_an_expression_run_gets_a_report_with_sequence_ids(tmp_path):
    seqs, counts = planted(60, 40)
    (tmp_path / "train.fa").write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    pd.DataFrame({"id": [f"s{i}" for i in range(60)], "motifs": counts[:, 0]}).to_csv(
        tmp_path / "labels.csv", index=False
    )
    out = tmp_path / "run"
    args = ["--data", str(tmp_path / "train.fa"), "--labels", str(tmp_path / "labels.csv"), "--model", "cnn"]
    molgen("train", *args, "--hidden-dim", "8", "--depth", "1", "--max-epochs", "2", "--output", str(out))
    html = (out / "report.html").read_text()
    assert "<th>id</th>" in html and "parity: motifs" in html
    assert "worst test predictions for" not in html  # no structures for sequences: ids in the table only
    check_page(out / "report.html")


def test_a_failing_report_leaves_one_warning_line_and_the_run_alone(tmp_path, capsys):
    write_run_report(tmp_path)  # no config.yaml: the report cannot be written
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "warning: the report was not written" in err[0] and f"molgen report {tmp_path}" in err[0]
    with pytest.raises(Exception, match="is not a run folder"):
        write_run_report(tmp_path, debug=True)
