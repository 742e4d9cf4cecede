"""The report's sections as plain values for the template: each function takes the run's files and returns
a dict (or None when the run has nothing for that section; the template then says why)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import yaml

from molgen.report import plots
from molgen.report.run_files import RunFiles
from molgen.report.structures import molecule_grid, worst_rows

CLASSIFICATION = ("binary", "multilabel")
MAX_PLOTTED_TARGETS = 12
"""Targets that get plots and worst-prediction tables (ToxCast has 617; the metrics table lists them all)."""
METRIC_SECTIONS = ("val", "test", "test_ensemble")


def config_section(run: RunFiles) -> str:
    """The resolved run config, as YAML."""
    return yaml.safe_dump(run.config, sort_keys=False)


def data_section(run: RunFiles) -> dict[str, Any]:
    """Rows read, invalid and unlabelled rows, split sizes and scaffold overlap: ``metrics.json``'s
    ``data_summary`` when the run recorded one, else what ``splits.json`` says."""
    summary = run.metrics.get("data_summary") or {}
    folds = run.splits.get("folds") or []
    sizes = summary.get("split_sizes") or [{p: len(f.get(p, [])) for p in ("train", "val", "test")} for f in folds]
    overlap = summary.get("scaffold_overlap") or [None] * len(sizes)
    counts = [
        ("rows read", summary.get("rows")),
        ("valid rows", summary.get("valid")),
        ("invalid rows (skipped)", summary.get("invalid", len(run.splits.get("invalid_rows") or []) or None)),
        ("rows without a target value", summary.get("unlabelled", len(run.splits.get("unlabelled_rows") or []))),
        ("split", run.splits.get("type")),
        ("split seed", run.splits.get("seed")),
    ]
    calibration = _calibration_sizes(run.splits, len(sizes))
    return {
        "calibration": calibration,
        "counts": [(name, value) for name, value in counts if value is not None],
        "reasons": list((summary.get("invalid_reasons") or {}).items()),
        "examples": summary.get("invalid_examples") or [],
        "folds": [
            {"fold": i, **size, "overlap": overlap[i] if i < len(overlap) else None} for i, size in enumerate(sizes)
        ],
        "has_overlap": any(o is not None for o in overlap),
    }


def _calibration_sizes(splits: dict[str, Any], n_folds: int) -> list[int | None] | None:
    """Rows of the calibration split per fold (``splits.json``'s ``calibration`` list, per fold or at the top
    level); None when the run has none."""
    folds = splits.get("folds") or []
    sizes = [len(f["calibration"]) if isinstance(f.get("calibration"), list) else None for f in folds[:n_folds]]
    if isinstance(splits.get("calibration"), list):
        sizes = [len(splits["calibration"])] * n_folds
    return sizes if any(size is not None for size in sizes) else None


def curves_section(run: RunFiles) -> str | None:
    """Loss and the monitored validation metric per epoch, one line per member."""
    if not run.curves:
        return None
    monitor = str((run.config.get("task") or {}).get("monitor") or "loss")
    return plots.learning_curves(run.curves, monitor)


def metrics_section(run: RunFiles) -> dict[str, Any] | None:
    """``{"columns": [val, test, …], "rows": [(metric, [value or "", …])]}`` of the numeric metrics."""
    columns = [s for s in METRIC_SECTIONS if isinstance(run.metrics.get(s), dict) and run.metrics[s]]
    if not columns:
        return None
    names: list[str] = []
    for section in columns:
        names += [n for n, v in run.metrics[section].items() if n not in names and isinstance(v, int | float)]
    rows = [(name, [_number(run.metrics[s].get(name)) for s in columns]) for name in names]
    return {"columns": columns, "rows": rows}


def _number(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    return "nan" if math.isnan(value) else f"{value:.4g}"


def performance_section(run: RunFiles) -> list[dict[str, str]]:
    """Parity plots (regression) or ROC and precision–recall curves (classification) per target, from
    ``predictions/test.csv``."""
    table = run.predictions
    if table is None:
        return []
    images = []
    for target in plotted_targets(run):
        if run.task_type == "regression":
            truth, pred = _pair(table, target, f"{target}_pred")
            if len(truth):
                images.append({"title": f"parity: {target}", "uri": plots.parity(truth, pred, target)})
        else:
            for label, truth, score in _binary_scores(run, table, target):
                if len(np.unique(truth)) == 2:
                    images.append({"title": f"ROC and PR: {label}", "uri": plots.roc_pr(truth, score, label)})
                else:
                    images.append(
                        {"title": f"no ROC or PR curve for {label}: the test rows hold one class only", "uri": ""}
                    )
    return images


def uncertainty_section(run: RunFiles) -> dict[str, Any]:
    """Calibration plots and interval coverage: Gaussian calibration from ``<target>_std``, coverage and
    width from ``<target>_lower``/``_upper`` (regression); reliability diagrams of the predicted probabilities
    (binary, multilabel)."""
    table = run.predictions
    images: list[dict[str, str]] = []
    coverage: list[dict[str, Any]] = []
    if table is None:
        return {"images": images, "coverage": coverage}
    for target in plotted_targets(run):
        if run.task_type == "regression":
            truth, pred, std = _pair(table, target, f"{target}_pred", f"{target}_std")
            if len(std):
                uri = plots.gaussian_calibration(truth, pred, std, target)
                images.append({"title": f"calibration: {target}", "uri": uri})
            truth, pred, lower, upper = _pair(table, target, f"{target}_pred", f"{target}_lower", f"{target}_upper")
            if len(lower):
                inside = (truth >= lower) & (truth <= upper)
                coverage.append(
                    {"target": target, "n": len(truth), "coverage": inside.mean(), "width": (upper - lower).mean()}
                )
                images.append(
                    {"title": f"intervals: {target}", "uri": plots.intervals(truth, pred, lower, upper, target)}
                )
        elif run.task_type in CLASSIFICATION:
            truth, prob = _pair(table, target, f"{target}_pred")
            if len(truth):
                images.append({"title": f"calibration: {target}", "uri": plots.reliability(truth, prob, target)})
    return {"images": images, "coverage": coverage}


def worst_section(run: RunFiles) -> list[dict[str, Any]]:
    """Per target the 10 worst test predictions: a table and, when the rows have SMILES, their structures."""
    table = run.predictions
    if table is None or run.task_type not in (*CLASSIFICATION, "regression", "multiclass"):
        return []
    id_column = next((c for c in ("smiles", "id", "sequence") if c in table.columns), "row")
    out = []
    for target in plotted_targets(run):
        if target not in table.columns:
            continue
        worst = worst_rows(table, target, run.task_type)
        if not len(worst):
            continue
        pred_column = f"{target}_pred"
        rows = [
            {
                "row": r["row"] if "row" in worst else i,
                "input": str(r[id_column]),
                "true": r[target],
                "pred": r[pred_column],
                "error": r["error"],
            }
            for i, r in worst.iterrows()
        ]
        image = None
        if id_column == "smiles":
            legends = [f"row {r['row']}: {_short(r['true'])} vs {_short(r['pred'])}" for r in rows]
            png = molecule_grid([r["input"] for r in rows], legends)
            image = plots.png_uri(png) if png is not None else None
        out.append({"target": target, "input_column": id_column, "rows": rows, "uri": image})
    return out


def domain_section(run: RunFiles) -> dict[str, Any] | None:
    """Histogram of ``train_similarity`` with the in-domain threshold (model.yaml, else metrics.json), and
    the error inside and outside the domain."""
    table = run.predictions
    if table is None or "train_similarity" not in table.columns:
        return None
    similarity = pd.to_numeric(table["train_similarity"], errors="coerce").to_numpy(dtype=float)
    similarity = similarity[np.isfinite(similarity)]
    recorded = run.model_spec.get("applicability_domain") or run.metrics.get("applicability_domain") or {}
    threshold = recorded.get("threshold")
    threshold = float(threshold) if isinstance(threshold, int | float) else None
    in_domain = table["in_domain"].astype(str).str.lower().isin(["true", "1"]) if "in_domain" in table else None
    return {
        "uri": plots.similarity_histogram(similarity, threshold),
        "threshold": threshold,
        "n": len(similarity),
        "median": float(np.median(similarity)) if len(similarity) else None,
        "in_domain": int(in_domain.sum()) if in_domain is not None else None,
    }


def model_card_section(run: RunFiles) -> str | None:
    """``model/README.md`` rendered from Markdown (Python-Markdown with tables and fenced code)."""
    if run.model_card is None:
        return None
    import markdown

    return markdown.markdown(demote_headings(run.model_card, 2), extensions=["tables", "fenced_code"])


def demote_headings(text: str, levels: int) -> str:
    """Markdown ``text`` with every ATX heading ``levels`` deeper (the card's ``#`` becomes ``###`` under the
    report's own headings); lines inside fenced code blocks are left alone."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            line = "#" * levels + line
        lines.append(line)
    return "\n".join(lines)


def plotted_targets(run: RunFiles) -> list[str]:
    """The first :data:`MAX_PLOTTED_TARGETS` targets."""
    return all_targets(run)[:MAX_PLOTTED_TARGETS]


# --------------------------------------------------------------------------------------------- helpers
def all_targets(run: RunFiles) -> list[str]:
    table = run.predictions
    if run.targets or table is None:
        return run.targets
    return [c[: -len("_pred")] for c in table.columns if c.endswith("_pred")]


def _pair(table: pd.DataFrame, *columns: str) -> tuple[np.ndarray, ...]:
    """The columns as float arrays over the rows where all are finite (empty arrays when one is missing)."""
    if any(c not in table.columns for c in columns):
        return tuple(np.zeros(0) for _ in columns)
    values = np.column_stack([pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float) for c in columns])
    values = values[np.isfinite(values).all(axis=1)]
    return tuple(values[:, i] for i in range(len(columns)))


def _binary_scores(run: RunFiles, table: pd.DataFrame, target: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(label, 0/1 truth, score)`` per binary problem of ``target``: itself (binary, multilabel) or one per
    class against the rest (multiclass, from ``<target>_prob_<c>``)."""
    if run.task_type != "multiclass":
        truth, score = _pair(table, target, f"{target}_pred")
        return [(target, truth, score)]
    out = []
    prefix = f"{target}_prob_"
    for column in [c for c in table.columns if c.startswith(prefix)]:
        label = column[len(prefix) :]
        if not label.isdigit():  # class indices are 0..n_classes-1
            continue
        truth, score = _pair(table, target, column)
        out.append((f"{target} = {label}", (truth == int(label)).astype(float), score))
    return out


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, int | float | np.floating) else str(value)
