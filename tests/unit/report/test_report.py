"""The report from run folders written here (every file a real run writes, with and without the optional
uncertainty and applicability-domain columns), checked as HTML and in a real headless Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from tests.browser import open_in_chromium
from tests.conftest import MOLECULES

from molgen.cli.main import main
from molgen.errors import InvalidInputError
from molgen.report import SECTIONS, render_report, write_report
from molgen.report.sections import demote_headings
from molgen.report.structures import worst_rows

CARD = "# my model\n\n- **Predicts**: y\n\n## Metrics\n\n| metric | test |\n|---|---|\n| rmse | 0.5 |\n\n```\n# not a heading\n```\n"


def write_run(folder: Path, task_type: str = "regression", *, optional: bool = False, members: int = 2) -> Path:
    """A run folder as ``molgen train`` leaves it, for 30 test molecules of target ``y``; ``optional`` adds
    ``y_std``, ``y_lower``, ``y_upper``, ``train_similarity`` and ``in_domain``."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "family": "property",
                "output": str(folder),
                "data": {"name": "mine.csv", "target_columns": ["y"], "split": "scaffold"},
                "model": {"name": "dmpnn", "hidden_dim": 16},
                "task": {"type": task_type, "monitor": "rmse" if task_type == "regression" else "roc_auc"},
            }
        )
    )
    n = 30
    test = list(range(n))
    (folder / "splits.json").write_text(
        json.dumps(
            {"type": "scaffold", "seed": 0, "invalid_rows": [40], "folds": [{"train": [], "val": [], "test": test}]}
        )
    )
    truth = rng.normal(size=n) if task_type == "regression" else (np.arange(n) % 2).astype(float)
    pred = truth + rng.normal(scale=0.5, size=n) if task_type == "regression" else rng.uniform(size=n)
    table = pd.DataFrame({"row": test, "smiles": MOLECULES[:n], "y": truth, "y_pred": pred})
    if optional:
        table["y_std"] = np.full(n, 0.5)
        table["y_lower"], table["y_upper"] = pred - 0.8, pred + 0.8
        table["train_similarity"] = rng.uniform(size=n)
        table["in_domain"] = table["train_similarity"] >= 0.3
    (folder / "predictions").mkdir()
    table.to_csv(folder / "predictions" / "test.csv", index=False)
    metric = "rmse" if task_type == "regression" else "roc_auc"
    summary = {
        "rows": 41,
        "valid": 40,
        "invalid": 1,
        "invalid_reasons": {"SMILES syntax error (around position 3)": 1},
        "invalid_examples": [{"row": 40, "reason": "SMILES syntax error (around position 3)"}],
        "unlabelled": 0,
        "split_sizes": [{"train": 30, "val": 5, "test": 5}],
        "scaffold_overlap": [{"val": 0, "test": 0}],
    }
    metrics = {"val": {metric: 0.61}, "test": {metric: 0.52, f"{metric}/y": 0.52}, "data_summary": summary}
    if optional:
        metrics["applicability_domain"] = {"threshold": 0.3, "test_similarity": {"min": 0.0, "median": 0.5}}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    for member in range(members):
        log = folder / "logs" / "fold_0" / f"member_{member}"
        log.mkdir(parents=True)
        rows = []
        for epoch in range(3):
            rows.append(
                {"epoch": epoch, "step": epoch, "val/loss": 1.0 / (epoch + 1), f"val/{metric}": 0.5 + epoch / 10}
            )
            rows.append({"epoch": epoch, "step": epoch, "train/loss": 1.2 / (epoch + 1)})
        pd.DataFrame(rows).to_csv(log / "metrics.csv", index=False)
    (folder / "model").mkdir()
    (folder / "model" / "README.md").write_text(CARD)
    (folder / "model" / "model.yaml").write_text(
        yaml.safe_dump({"family": "property", "task": {"type": task_type, "targets": ["y"]}})
    )
    return folder


def images(html: str) -> list[str]:
    return re.findall(r'<img src="([^"]*)"', html)


def test_regression_report_without_the_optional_columns(tmp_path):
    html = render_report(write_run(tmp_path / "run"))
    for anchor, heading in SECTIONS:
        assert f'<section id="{anchor}">' in html and f"<h2>{heading}</h2>" in html
    uris = images(html)
    assert len(uris) == 3  # curves, parity, worst structures
    assert all(u.startswith("data:image/png;base64,") for u in uris)
    assert "<script" not in html and not re.search(r'(src|href)="(https?:)?//', html)  # self-contained
    assert "No uncertainty in predictions/test.csv" in html and "No <code>train_similarity</code>" in html
    assert "SMILES syntax error (around position 3)" in html and "rows read" in html


def test_optional_columns_add_calibration_coverage_and_the_domain_histogram(tmp_path):
    run = write_run(tmp_path / "run", optional=True)
    html = render_report(run)
    assert len(images(html)) == 6  # + gaussian calibration, intervals, domain histogram
    table = pd.read_csv(run / "predictions" / "test.csv")
    coverage = ((table.y >= table.y_lower) & (table.y <= table.y_upper)).mean()
    assert f'<td class="num">{coverage:.3f}</td>' in html and '<td class="num">1.6</td>' in html  # mean width
    assert "threshold 0.300" in html and f"{int(table.in_domain.sum())} in domain" in html
    assert "<th>calibration</th>" not in html
    splits = json.loads((run / "splits.json").read_text())
    (run / "splits.json").write_text(json.dumps({**splits, "calibration": [31, 32, 33]}))
    assert (
        "<th>calibration</th>" in (html := render_report(run))
        and '<td class="num">3</td><td class="num">0</td>' in html
    )


def test_classification_gets_roc_pr_and_a_reliability_diagram(tmp_path):
    html = render_report(write_run(tmp_path / "run", "binary"))
    assert "ROC and PR: y" in html and "calibration: y" in html and "parity" not in html
    assert len(images(html)) == 4  # curves, ROC+PR, reliability, worst structures
    run = write_run(tmp_path / "one_class", "binary")
    table = pd.read_csv(run / "predictions" / "test.csv").assign(y=1.0)
    table.to_csv(run / "predictions" / "test.csv", index=False)
    assert "no ROC or PR curve for y: the test rows hold one class only" in render_report(run)


def test_the_model_card_is_rendered_from_markdown_under_the_report_headings(tmp_path):
    html = render_report(write_run(tmp_path / "run"))
    card = html[html.index('<div class="card">') :]
    assert "<h3>my model</h3>" in card and "<h4>Metrics</h4>" in card and "<table>" in card
    assert "# not a heading" in card  # fenced code stays as written
    assert demote_headings("# a\n```\n# b\n```\n## c", 1) == "## a\n```\n# b\n```\n### c"


def test_worst_rows_rank_by_absolute_error():
    table = pd.DataFrame({"row": [0, 1, 2, 3], "y": [1.0, 2.0, None, 0.0], "y_pred": [1.1, 0.0, 5.0, -0.5]})
    worst = worst_rows(table, "y", "regression", n=2)
    assert worst["row"].tolist() == [1, 3] and worst["error"].tolist() == pytest.approx([2.0, 0.5])
    probs = pd.DataFrame({"row": [0, 1], "y": [0, 1], "y_pred": [0, 0], "y_prob_0": [0.9, 0.8], "y_prob_1": [0.1, 0.2]})
    assert worst_rows(probs, "y", "multiclass")["row"].tolist() == [1, 0]


def test_the_cli_writes_the_report_and_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    run = write_run(tmp_path / "run")
    assert main(["report", str(run)]) == 0
    assert (run / "report.html").is_file() and f"wrote {run / 'report.html'}" in capsys.readouterr().out
    assert main(["report", str(run), "--output", str(tmp_path / "elsewhere.html")]) == 0
    assert (tmp_path / "elsewhere.html").read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.html", "run"]  # no temporary file left
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "is not a run folder: it does not exist" in capsys.readouterr().err
    with pytest.raises(InvalidInputError, match="has no config.yaml"):
        write_report(tmp_path)


def test_a_broken_metrics_file_is_named_with_its_line(tmp_path):
    run = write_run(tmp_path / "run")
    (run / "metrics.json").write_text('{"val": {\n  "rmse": }\n')
    with pytest.raises(InvalidInputError, match=r"metrics.json line 2 column \d+: not valid JSON"):
        render_report(run)


@pytest.mark.slow
@pytest.mark.parametrize(("task_type", "optional"), [("regression", True), ("binary", False)])
def test_the_report_loads_in_headless_chromium_with_every_image(tmp_path, task_type, optional):
    path = write_report(write_run(tmp_path / "run", task_type, optional=optional))
    page = open_in_chromium(path)
    assert page.errors == [] and page.failed == []
    assert len(page.image_widths) == len(images(path.read_text())) >= 4
    assert all(width > 0 for width in page.image_widths), page.image_widths
    assert page.headings == [heading for _, heading in SECTIONS]


def test_plots_stop_at_twelve_targets_and_say_so(tmp_path):
    run = write_run(tmp_path / "run")
    targets = [f"t{i}" for i in range(14)]
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"row": range(10), "smiles": MOLECULES[:10]})
    for target in targets:
        table[target], table[f"{target}_pred"] = rng.normal(size=10), rng.normal(size=10)
    table.to_csv(run / "predictions" / "test.csv", index=False)
    (run / "model" / "model.yaml").write_text(yaml.safe_dump({"task": {"type": "regression", "targets": targets}}))
    html = render_report(run)
    assert html.count("<figcaption>parity: ") == 12 and "parity: t12" not in html
    assert "shown for the first 12 of 14 targets" in html
