"""Uncertainty estimators × calibrators on MoleculeNet sets: accuracy, NLL, miscalibration area, Spearman, coverage.

Usage: python benchmarks/uncertainty.py [--datasets esol freesolv lipophilicity bbbp clintox] [--splits random scaffold]
           [--seeds 0 1 2] [--epochs 30] [--max-rows N] [--hidden-dim 300] [--ensemble-size 3]
           [--output benchmarks/results/uncertainty-<date>.md]

Each (dataset, split, seed, estimator) is one ``fit(cfg)`` (the path of ``molgen train``) with ``--calibration
conformal`` (``cqr`` for the quantile head), so the run holds a calibration split carved from the training rows.
The exported model then predicts the calibration and test rows as ``molgen predict`` does, and every calibrator
that fits the task is applied to the same predictions (regression: none = Gaussian intervals of the raw std,
zscale, conformal; classification: none, platt, isotonic, conformal sets). Regression sets run on the given
splits; classification sets (BBBP, ClinTox) on scaffold only. The table ends with the best default per task type.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from molgen import __version__
from molgen.analysis.prediction import load_model, predict_frame
from molgen.config import RunConfig
from molgen.evaluation import calibration as cal
from molgen.evaluation import uncertainty as uq
from molgen.families import FAMILIES
from molgen.recipes import fit

REGRESSION_SETS, CLASSIFICATION_SETS = ("esol", "freesolv", "lipophilicity"), ("bbbp", "clintox")
REGRESSION_ESTIMATORS = ("ensemble", "mve", "evidential", "dropout", "cqr")
CLASSIFICATION_ESTIMATORS = ("ensemble", "dropout", "none")


def run_cell(dataset: str, split: str, seed: int, estimator: str, args: argparse.Namespace, work: Path) -> list[dict]:
    """Trains one model and scores every calibrator on its calibration/test predictions."""
    regression = dataset in REGRESSION_SETS
    method = "none" if estimator == "cqr" else estimator
    values: dict[str, Any] = {
        "data.name": dataset,
        "data.split": split,
        "data.on_invalid": "skip",
        "data.featurize_jobs": 1,
        "model.hidden_dim": args.hidden_dim,
        "trainer.seed": seed,
        "trainer.max_epochs": args.epochs,
        "trainer.progress_bar": False,
        "uncertainty.method": method,
        "uncertainty.calibration": "cqr" if estimator == "cqr" else "conformal",
        "uncertainty.ensemble_size": args.ensemble_size,
        "output": str(work / f"{dataset}-{split}-{seed}-{estimator}"),
    }
    if args.max_rows:
        values["data.max_rows"] = args.max_rows
    start = time.perf_counter()
    result = fit(RunConfig().with_values(values))
    seconds = time.perf_counter() - start
    family = FAMILIES.get("property")
    cfg, spec = family.resolve_config(result.config)
    data = family.load_data(cfg, spec)
    splits = json.loads((result.run_dir / "splits.json").read_text())
    model = load_model(result.run_dir / "model")
    parts = {}
    for part, rows in (("cal", splits["calibration"]), ("test", splits["folds"][0]["test"])):
        out = predict_frame(model, data.frame.iloc[rows].reset_index(drop=True), n_jobs=1)
        parts[part] = (out, data.table.targets[rows])
    names = list(data.target_names)
    base = {"dataset": dataset, "split": split, "seed": seed, "estimator": estimator, "seconds": seconds}
    score = _regression if regression else _classification
    return [{**base, **row} for row in score(names, parts, args.coverage, result.metrics["test"])]


def _regression(names: list[str], parts: dict, coverage: float, test_metrics: dict) -> list[dict]:
    (cal_out, cal_y), (test_out, test_y) = parts["cal"], parts["test"]
    rows = []
    calibrators = ("cqr",) if f"{names[0]}_std" not in test_out else ("none", "zscale", "conformal")
    for calibrator in calibrators:
        per_target = {}
        for t, name in enumerate(names):
            mean, y = test_out[name].to_numpy(float), test_y[:, t]
            std = test_out[f"{name}_std"].to_numpy(float) if f"{name}_std" in test_out else None
            c_mean, c_std = (
                cal_out[name].to_numpy(float),
                (cal_out[f"{name}_std"].to_numpy(float) if std is not None else None),
            )
            if calibrator == "cqr":  # the stored CQR intervals are already conformalized
                lower, upper = test_out[f"{name}_lower"].to_numpy(float), test_out[f"{name}_upper"].to_numpy(float)
            elif calibrator == "conformal":
                lower, upper = cal.apply_conformal(cal.fit_conformal(cal_y[:, t], c_mean, c_std, coverage), mean, std)
            else:
                if calibrator == "zscale":
                    std = cal.apply_zscale(cal.fit_zscale(cal_y[:, t], c_mean, c_std), std)
                lower, upper = cal.gaussian_bounds(mean, std, coverage)
            keep = ~np.isnan(y)
            metrics = uq.regression_uq(y, mean, std, lower, upper)
            metrics["rmse"] = float(np.sqrt(np.mean((mean[keep] - y[keep]) ** 2)))
            per_target[name] = metrics
        rows.append({"calibrator": calibrator, **uq.pooled(per_target, names)})
    return rows


def _classification(names: list[str], parts: dict, coverage: float, test_metrics: dict) -> list[dict]:
    from sklearn.metrics import roc_auc_score

    (cal_out, cal_y), (test_out, test_y) = parts["cal"], parts["test"]
    rows = []
    for calibrator in ("none", "platt", "isotonic", "conformal"):
        per_target = {}
        for t, name in enumerate(names):
            prob, y, c_prob = test_out[name].to_numpy(float), test_y[:, t], cal_out[name].to_numpy(float)
            keep, c_keep = ~np.isnan(y), ~np.isnan(cal_y[:, t])
            if len(np.unique(cal_y[c_keep, t])) < 2 or len(np.unique(y[keep])) < 2:
                continue
            if calibrator == "platt":
                prob = cal.apply_platt(cal.fit_platt(cal_y[:, t], c_prob), prob)
            elif calibrator == "isotonic":
                prob = cal.apply_isotonic(cal.fit_isotonic(cal_y[:, t], c_prob), prob)
            metrics = {"roc_auc": float(roc_auc_score(y[keep], prob[keep])), **uq.classification_uq(y, prob)}
            if calibrator == "conformal":
                sets = cal.apply_conformal_sets(cal.fit_conformal_sets(cal_y[:, t], c_prob, coverage), prob)[keep]
                metrics["coverage"] = float(sets[np.arange(len(sets)), y[keep].astype(int)].mean())
                metrics["set_size"] = float(sets.sum(1).mean())
            per_target[name] = metrics
        rows.append({"calibrator": calibrator, **uq.pooled(per_target, names)})
    return rows


COLUMNS = (
    "rmse",
    "roc_auc",
    "nll",
    "miscalibration_area",
    "spearman_error_std",
    "ece",
    "brier",
    "coverage",
    "interval_width",
    "set_size",
)


def table(results: list[dict]) -> tuple[str, dict[str, list[float]]]:
    """Markdown rows (mean ± std over seeds) and the per-cell means by key."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in results:
        groups[(r["dataset"], r["split"], r["estimator"], r["calibrator"])].append(r)
    lines = ["| dataset | split | estimator | calibrator | " + " | ".join(COLUMNS) + " | s / run |"]
    lines.append("|" + "---|" * (len(COLUMNS) + 5))
    for key, rows in groups.items():
        cells = []
        for column in COLUMNS:
            values = [r[column] for r in rows if column in r and math.isfinite(r[column])]
            if not values:
                cells.append("")
            elif len(values) == 1:
                cells.append(f"{values[0]:.3f}")
            else:
                cells.append(f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}")
        seconds = statistics.mean(r["seconds"] for r in rows)
        lines.append(f"| {' | '.join(map(str, key))} | {' | '.join(cells)} | {seconds:.0f} |")
    return "\n".join(lines), {}


def best_defaults(results: list[dict]) -> list[str]:
    """Regression: the estimator with the highest mean Spearman(|error|, std) (what calibration cannot add),
    NLL after z-scaling as the tie-break; classification: the estimator × calibrator with the lowest mean ECE."""
    lines = []
    reg = [r for r in results if r["dataset"] in REGRESSION_SETS and r["calibrator"] == "zscale"]
    if reg:
        by: dict[str, list[dict]] = defaultdict(list)
        for r in reg:
            by[r["estimator"]].append(r)
        ranked = sorted(
            by,
            key=lambda e: (
                -np.nanmean([r["spearman_error_std"] for r in by[e]]),
                np.nanmean([r["nll"] for r in by[e]]),
            ),
        )
        for e in ranked:
            lines.append(
                f"- regression {e}: mean Spearman {np.nanmean([r['spearman_error_std'] for r in by[e]]):.3f}, "
                f"NLL after zscale {np.nanmean([r['nll'] for r in by[e]]):.3f}"
            )
        lines.append(f"- **best regression default: {ranked[0]}**")
    conformal = [r for r in results if r["dataset"] in REGRESSION_SETS and r["calibrator"] in ("conformal", "cqr")]
    if conformal:
        worst = max(conformal, key=lambda r: abs(r["coverage"] - 0.9))
        lines.append(
            f"- conformal coverage over regression cells: min {min(r['coverage'] for r in conformal):.3f}, "
            f"max {max(r['coverage'] for r in conformal):.3f} (worst: {worst['dataset']} {worst['split']} "
            f"{worst['estimator']} seed {worst['seed']})"
        )
    cls = [r for r in results if r["dataset"] in CLASSIFICATION_SETS and "ece" in r]
    if cls:
        by2: dict[tuple, list[float]] = defaultdict(list)
        for r in cls:
            by2[(r["estimator"], r["calibrator"])].append(r["ece"])
        ranked2 = sorted(by2, key=lambda k: np.nanmean(by2[k]))
        for k in ranked2:
            lines.append(f"- classification {k[0]} + {k[1]}: mean ECE {np.nanmean(by2[k]):.3f}")
        lines.append(f"- **best classification default: {ranked2[0][0]} (calibrator {ranked2[0][1]})**")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=[*REGRESSION_SETS, *CLASSIFICATION_SETS])
    parser.add_argument("--splits", nargs="+", default=["random", "scaffold"], help="for the regression sets")
    parser.add_argument("--estimators", nargs="+", default=None, help="default: all that fit the task type")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--max-rows", type=int, default=None)
    parser.add_argument("--hidden-dim", type=int, default=300)
    parser.add_argument("--ensemble-size", type=int, default=3)
    parser.add_argument("--coverage", type=float, default=0.9)
    today = datetime.date.today().isoformat()
    parser.add_argument("--output", type=Path, default=Path(f"benchmarks/results/uncertainty-{today}.md"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="molgen-uq-"))
    results: list[dict] = []
    start = time.perf_counter()
    for dataset in args.datasets:
        regression = dataset in REGRESSION_SETS
        estimators = args.estimators or (REGRESSION_ESTIMATORS if regression else CLASSIFICATION_ESTIMATORS)
        for split in args.splits if regression else ["scaffold"]:
            for seed in args.seeds:
                for estimator in estimators:
                    if not regression and estimator in ("mve", "evidential", "cqr"):
                        continue
                    rows = run_cell(dataset, split, seed, estimator, args, work)
                    results.extend(rows)
                    for row in rows:
                        shown = {k: round(v, 3) for k, v in row.items() if k in COLUMNS}
                        print(dataset, split, seed, estimator, row["calibrator"], shown, flush=True)
    body, _ = table(results)
    header = (
        f"molgen {__version__}, torch {torch.__version__}, {platform.machine()}, {torch.get_num_threads()} threads; "
        f"datasets {args.datasets}, regression splits {args.splits}, seeds {args.seeds}, {args.epochs} epochs "
        f"(early stopping as configured), hidden_dim {args.hidden_dim}, ensemble of {args.ensemble_size}, "
        f"max_rows {args.max_rows}, nominal coverage {args.coverage}; calibration split = 0.1 of the training rows; "
        f"total {time.perf_counter() - start:.0f} s\n\n"
        "Command: `python benchmarks/uncertainty.py " + " ".join(_argv()) + "`\n\n"
    )
    text = header + body + "\n\n## Best default per task type\n\n" + "\n".join(best_defaults(results)) + "\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    args.output.with_suffix(".json").write_text(json.dumps(results, indent=1))
    print(text)


def _argv() -> list[str]:
    import sys

    return sys.argv[1:]


if __name__ == "__main__":
    main()
