"""Uncertainty in the supervised loop and in prediction: which method a run uses, the calibration split, the
members' samples → mean / std / interval / prediction set, the calibrator (``model.yaml``'s ``calibration``) and
the test-split UQ metrics. See docs/uncertainty.md.

Samples are ``{"mean": [S, n, T] (multiclass [S, n, T, C]), "var"?: [S, n, T], "lower"/"upper"?: [S, n, T]}``:
one row per ensemble member × MC-dropout pass, in user units.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from molgen.config import DEFAULT_UNCERTAINTY, RunConfig, replace, resolved
from molgen.data.splits import Split, calibration_rows
from molgen.errors import ConfigError
from molgen.evaluation import calibration as cal
from molgen.evaluation import uncertainty as metrics
from molgen.evaluation.supervised import MULTICLASS, REGRESSION

log = logging.getLogger("molgen")

METHODS = ("ensemble", "mve", "evidential", "dropout")
REGRESSION_ONLY = ("mve", "evidential")
CALIBRATION = {REGRESSION: ("zscale", "conformal", "cqr"), "classification": ("platt", "isotonic", "conformal")}
MIN_CALIBRATION_ROWS = 20
Samples = dict[str, np.ndarray]


def resolve(cfg: RunConfig, supported: Sequence[str], where: str) -> RunConfig:
    """``cfg`` with ``auto`` replaced by the default method and what a method needs filled in (logged): an
    ensemble of ``uncertainty.ensemble_size`` members, model dropout ``uncertainty.dropout``. Refuses methods
    ``where`` (a family or model) cannot give and calibrations that do not fit the task type."""
    u, task_type = cfg.uncertainty, resolved(cfg.task.type, "task.type")
    kind = REGRESSION if task_type == REGRESSION else "classification"
    method = DEFAULT_UNCERTAINTY[kind] if u.method == "auto" else u.method
    if method != "none" and method not in supported:
        methods = ", ".join(supported) if supported else "none (it is deterministic and gives no spread)"
        raise ConfigError(f"--uncertainty {method}: {where} supports: {methods}")
    if method in REGRESSION_ONLY and kind != REGRESSION:
        methods = ", ".join(m for m in supported if m not in REGRESSION_ONLY)
        raise ConfigError(f"--uncertainty {method} is for regression; a {task_type} task supports: {methods}")
    if u.calibration != "none":
        allowed = CALIBRATION[kind]
        if u.calibration not in allowed:
            raise ConfigError(
                f"--calibration {u.calibration} does not fit a {task_type} task; use {' | '.join(allowed)}"
            )
        if u.calibration in ("platt", "isotonic") and task_type == MULTICLASS:
            raise ConfigError(f"--calibration {u.calibration} maps binary probabilities; a multiclass task: conformal")
        if u.calibration == "zscale" and method == "none":
            raise ConfigError("--calibration zscale scales a predicted std: add --uncertainty (e.g. mve)")
        if u.calibration == "cqr" and method in REGRESSION_ONLY:
            raise ConfigError(f"--calibration cqr trains its own quantile head: use it without --uncertainty {method}")
        if cfg.data.n_folds > 1:
            raise ConfigError("--calibration needs one train/val/test split, not k-fold (n_folds > 1)")
    trainer, model = cfg.trainer, cfg.model
    if method == "ensemble" and trainer.ensemble_size == 1:
        log.info("--uncertainty ensemble: training %d members (--ensemble-size)", u.ensemble_size)
        trainer = replace(trainer, ensemble_size=u.ensemble_size)
    if method == "dropout" and getattr(model, "dropout", 0.0) == 0.0:
        log.info("--uncertainty dropout: model dropout set to %s (--dropout)", u.dropout)
        model = replace(model, dropout=u.dropout)
    return replace(cfg, uncertainty=replace(u, method=method), trainer=trainer, model=model)


def active(cfg: RunConfig) -> bool:
    return cfg.uncertainty.method != "none" or cfg.uncertainty.calibration != "none"


def task_head(cfg: RunConfig) -> dict[str, Any] | None:
    """The regression head ``build_task(head=…)`` needs: mve, evidential, or quantile for ``--calibration cqr``."""
    u = cfg.uncertainty
    if u.method in REGRESSION_ONLY:
        return {"head": u.method, "evidential_weight": u.evidential_weight}
    if u.calibration == "cqr":
        return {"head": "quantile", "coverage": u.coverage}
    return None


def mc_samples(section: Mapping[str, Any] | None) -> int:
    """Dropout passes per prediction for a ``model.yaml`` ``uncertainty`` section (0: one deterministic pass)."""
    return int(section["mc_samples"]) if section and section.get("method") == "dropout" else 0


def spec_section(cfg: RunConfig) -> dict[str, Any]:
    """``model.yaml``'s ``uncertainty``: method, coverage, MC passes."""
    u = cfg.uncertainty
    return {"method": u.method, "coverage": u.coverage, "mc_samples": u.mc_samples}


def carve_calibration(
    split: Split, fraction: float, seed: int, smiles: Sequence[str] | None = None
) -> tuple[Split, np.ndarray]:
    """``(split without the calibration rows, calibration positions)``: a seeded ``fraction`` of the training
    rows (whole scaffolds when ``smiles`` is given: scaffold splits), never trained on nor used for early
    stopping. Fewer than 20 rows: a :class:`ConfigError` naming the size."""
    held = calibration_rows(split.train, fraction, seed, smiles)
    if len(held) < MIN_CALIBRATION_ROWS:
        raise ConfigError(
            f"the calibration split would have {len(held)} molecules ({fraction} of {len(split.train)} training "
            f"rows); calibration needs at least {MIN_CALIBRATION_ROWS}: use more data or a larger --calibration-fraction"
        )
    return Split(np.setdiff1d(split.train, held), split.val, split.test), held


def to_numpy(samples: Mapping[str, Any]) -> Samples:
    return {
        key: np.asarray(value.float().numpy() if hasattr(value, "numpy") else value) for key, value in samples.items()
    }


def concat(parts: Sequence[Samples]) -> Samples:
    """Members' samples joined along ``S``."""
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


@dataclasses.dataclass
class Summary:
    """Per row: ``mean [n, T]`` (``[n, T, C]``), ``std`` (total: spread of the samples + mean predicted variance),
    quantile-head ``lower``/``upper``; each ``[n, T]`` or None."""

    mean: np.ndarray
    std: np.ndarray | None = None
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None


def summarize(samples: Samples) -> Summary:
    means = samples["mean"]
    var = means.var(0) if len(means) > 1 and means.ndim == 3 else None
    if "var" in samples:
        var = samples["var"].mean(0) + (0.0 if var is None else var)
    return Summary(
        means.mean(0),
        None if var is None else np.sqrt(var),
        samples["lower"].mean(0) if "lower" in samples else None,
        samples["upper"].mean(0) if "upper" in samples else None,
    )


# --- the calibrator ----------------------------------------------------------------------------------------
def fit_calibration(
    method: str, coverage: float, task_type: str, targets: Sequence[str], summary: Summary, y: np.ndarray
) -> dict[str, Any]:
    """``model.yaml``'s ``calibration`` from the calibration rows' summary and labels ``y [n, T]``."""
    per_target: dict[str, Any] = {}
    for t, name in enumerate(targets):
        labels = y[:, t]
        if task_type == REGRESSION:
            mean, std = summary.mean[:, t], None if summary.std is None else summary.std[:, t]
            if method == "zscale":
                assert std is not None
                per_target[name] = cal.fit_zscale(labels, mean, std)
            elif method == "conformal":
                per_target[name] = cal.fit_conformal(labels, mean, std, coverage)
            else:
                assert summary.lower is not None and summary.upper is not None
                per_target[name] = cal.fit_cqr(labels, summary.lower[:, t], summary.upper[:, t], coverage)
        elif method == "conformal":
            per_target[name] = cal.fit_conformal_sets(labels, summary.mean[:, t], coverage)
        else:
            per_target[name] = (cal.fit_platt if method == "platt" else cal.fit_isotonic)(labels, summary.mean[:, t])
    return {"method": method, "coverage": coverage, "n_rows": len(y), "targets": per_target}


def calibrate_samples(calibration: Mapping[str, Any] | None, targets: Sequence[str], samples: Samples) -> Samples:
    """Samples with each probability passed through the target's Platt / isotonic map (other methods: as is)."""
    if not calibration or calibration["method"] not in ("platt", "isotonic"):
        return samples
    apply = cal.apply_platt if calibration["method"] == "platt" else cal.apply_isotonic
    mean = samples["mean"].copy()
    for t, name in enumerate(targets):
        mean[:, :, t] = apply(calibration["targets"][name], mean[:, :, t])
    return {**samples, "mean": mean}


def columns(
    task_type: str,
    targets: Sequence[str],
    summary: Summary,
    calibration: Mapping[str, Any] | None,
    coverage: float,
    classes: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, np.ndarray]:
    """Per target ``<target>_std`` (when there is a spread), ``<target>_lower``/``_upper`` (regression: calibrated
    intervals, else Gaussian ones at ``coverage``) and ``<target>_set`` (conformal sets, labels joined by ``|``)."""
    out: dict[str, np.ndarray] = {}
    method = calibration["method"] if calibration else None
    for t, name in enumerate(targets):
        params = calibration["targets"][name] if calibration else {}
        std = None if summary.std is None else summary.std[:, t]
        if task_type != REGRESSION:
            if std is not None:
                out[f"{name}_std"] = std
            if method == "conformal":
                members = cal.apply_conformal_sets(params, summary.mean[:, t])
                labels = list((classes or {}).get(name) or range(members.shape[1]))
                out[f"{name}_set"] = np.array(
                    ["|".join(str(labels[c]) for c in np.flatnonzero(row)) for row in members]
                )
            continue
        mean = summary.mean[:, t]
        if method == "zscale":
            assert std is not None  # resolve() refuses zscale without a method that gives a std
            std = cal.apply_zscale(params, std)
        if method == "conformal":
            lower, upper = cal.apply_conformal(params, mean, std)
        elif method == "cqr":
            assert summary.lower is not None and summary.upper is not None
            lower, upper = cal.apply_cqr(params, summary.lower[:, t], summary.upper[:, t])
        elif std is not None:
            lower, upper = cal.gaussian_bounds(mean, std, coverage)
        else:
            continue
        if std is not None:
            out[f"{name}_std"] = std
        out[f"{name}_lower"], out[f"{name}_upper"] = lower, upper
    return out


def test_metrics(
    task_type: str,
    targets: Sequence[str],
    summary: Summary,
    cols: Mapping[str, np.ndarray],
    y: np.ndarray,
    calibration: Mapping[str, Any] | None = None,
) -> dict[str, float]:
    """UQ metrics of the test rows (names in :mod:`molgen.evaluation.uncertainty`), pooled and per target;
    conformal sets add ``coverage`` (the true label is in the set) and ``set_size`` (mean labels per set)."""
    per_target: dict[str, dict[str, float]] = {}
    for t, name in enumerate(targets):
        labels = y[:, t]
        if task_type == REGRESSION:
            per_target[name] = metrics.regression_uq(
                labels,
                summary.mean[:, t],
                cols.get(f"{name}_std"),
                cols.get(f"{name}_lower"),
                cols.get(f"{name}_upper"),
            )
            continue
        per_target[name] = metrics.classification_uq(labels, summary.mean[:, t])
        keep = ~np.isnan(labels)
        if calibration and calibration["method"] == "conformal" and keep.any():
            sets = cal.apply_conformal_sets(calibration["targets"][name], summary.mean[:, t])[keep]
            per_target[name]["coverage"] = float(sets[np.arange(len(sets)), labels[keep].astype(int)].mean())
            per_target[name]["set_size"] = float(sets.sum(1).mean())
    return metrics.pooled(per_target, targets)


@dataclasses.dataclass
class FoldUncertainty:
    """One fold's uncertainty outputs: the calibrator fitted on the calibration rows (or None), the test rows'
    columns and UQ metrics, and the test samples' means ``[S, n, T]`` (after Platt / isotonic)."""

    calibration: dict[str, Any] | None
    columns: dict[str, np.ndarray]
    metrics: dict[str, float]
    mean: np.ndarray | None


def fold_uncertainty(
    cfg: RunConfig,
    task_type: str,
    targets: Sequence[str],
    classes: Mapping[str, Sequence[str]] | None,
    held: tuple[list[Samples], np.ndarray],
    test: tuple[list[Samples], np.ndarray | None],
) -> FoldUncertainty:
    """Fits the calibrator on ``held`` = (members' samples, labels) of the calibration rows, then calibrates and
    summarizes ``test`` = (members' samples, labels or None: no metrics, e.g. one fold of several)."""
    (held_samples, held_y), (test_samples, test_y) = held, test
    section = cfg.uncertainty
    calibration = None
    if held_samples:
        summary = summarize(concat(held_samples))
        calibration = fit_calibration(section.calibration, section.coverage, task_type, targets, summary, held_y)
    if not test_samples:
        return FoldUncertainty(calibration, {}, {}, None)
    samples = calibrate_samples(calibration, targets, concat(test_samples))
    summary = summarize(samples)
    cols = columns(task_type, targets, summary, calibration, section.coverage, classes)
    scores = {} if test_y is None else test_metrics(task_type, targets, summary, cols, test_y, calibration)
    return FoldUncertainty(calibration, cols, scores, samples["mean"])
