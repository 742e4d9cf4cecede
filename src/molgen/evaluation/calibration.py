"""Calibrators fitted on a held-out calibration split, one target at a time, stored as plain numbers.

Each ``fit_*`` takes 1-D arrays of the calibration rows (labels ``y``; NaN labels are dropped) and returns a
dict of plain floats (or lists of floats) for ``model.yaml``; each ``apply_*`` takes that dict and new
predictions. Regression: :func:`fit_zscale`, :func:`fit_conformal` (split conformal on ``|residual|``, or on
``|residual| / std`` when a std exists), :func:`fit_cqr` (conformalized quantile regression). Classification:
:func:`fit_platt`, :func:`fit_isotonic` (probability maps), :func:`fit_conformal_sets` (LAC prediction sets).

Conformal quantiles use the finite-sample correction: the ``⌈(n+1)·coverage⌉``-th smallest of ``n`` scores,
which guarantees at least ``coverage`` on exchangeable data (``inf`` when ``n`` is too small for it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_EPS = 1e-6


def conformal_quantile(scores: np.ndarray, coverage: float) -> float:
    """The ``⌈(n+1)·coverage⌉``-th smallest score (``inf`` when that rank exceeds ``n``)."""
    scores = np.sort(np.asarray(scores, float))
    rank = math.ceil((len(scores) + 1) * coverage)
    return float(scores[rank - 1]) if rank <= len(scores) else math.inf


def gaussian_bounds(mean: np.ndarray, std: np.ndarray, coverage: float) -> tuple[np.ndarray, np.ndarray]:
    """Central ``coverage`` interval of ``N(mean, std²)``."""
    from scipy.stats import norm  # ~0.4 s to import (after numpy and scipy.sparse): only for Gaussian bounds

    half = norm.ppf(0.5 + coverage / 2) * std
    return mean - half, mean + half


def _labelled(y: np.ndarray, *arrays: np.ndarray | None) -> list[Any]:
    keep = ~np.isnan(y)
    return [y[keep], *(None if a is None else np.asarray(a)[keep] for a in arrays)]


# --- regression ------------------------------------------------------------------------------------------
def fit_zscale(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> dict[str, float]:
    """``scale`` such that ``(y − mean) / (scale · std)`` has unit mean square on the calibration rows."""
    y, mean, std = _labelled(y, mean, std)
    z = (y - mean) / np.maximum(std, _EPS)
    return {"scale": float(np.sqrt(np.mean(z**2)))}


def apply_zscale(params: dict[str, Any], std: np.ndarray) -> np.ndarray:
    return std * float(params["scale"])


def fit_conformal(y: np.ndarray, mean: np.ndarray, std: np.ndarray | None, coverage: float) -> dict[str, float | bool]:
    """Split conformal half-width ``q``: of ``|y − mean|`` (``normalized`` false) or ``|y − mean| / std``."""
    y, mean, std = _labelled(y, mean, std)
    scores = np.abs(y - mean) if std is None else np.abs(y - mean) / np.maximum(std, _EPS)
    return {"q": conformal_quantile(scores, coverage), "normalized": std is not None}


def apply_conformal(params: dict[str, Any], mean: np.ndarray, std: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``mean ± q`` (or ``mean ± q · std`` when ``normalized``)."""
    if not params["normalized"]:
        return mean - float(params["q"]), mean + float(params["q"])
    if std is None:
        raise ValueError("a normalized conformal calibrator needs the model's std")
    half = float(params["q"]) * np.maximum(std, _EPS)
    return mean - half, mean + half


def fit_cqr(y: np.ndarray, lower: np.ndarray, upper: np.ndarray, coverage: float) -> dict[str, float]:
    """Conformalized quantile regression (Romano et al. 2019): ``q`` of ``max(lower − y, y − upper)``."""
    y, lower, upper = _labelled(y, lower, upper)
    return {"q": conformal_quantile(np.maximum(lower - y, y - upper), coverage)}


def apply_cqr(params: dict[str, Any], lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    q = float(params["q"])
    return lower - q, upper + q


# --- classification --------------------------------------------------------------------------------------
def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def fit_platt(y: np.ndarray, prob: np.ndarray) -> dict[str, float]:
    """Platt scaling: ``p' = sigmoid(a · logit(p) + b)`` by (nearly unregularized) logistic regression."""
    from sklearn.linear_model import LogisticRegression

    y, prob = _labelled(y, prob)
    if len(np.unique(y)) < 2:
        raise ValueError("Platt scaling needs both classes in the calibration split")
    fit = LogisticRegression(C=1e6).fit(_logit(prob)[:, None], y.astype(int))
    return {"a": float(fit.coef_[0, 0]), "b": float(fit.intercept_[0])}


def apply_platt(params: dict[str, Any], prob: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(float(params["a"]) * _logit(prob) + float(params["b"]))))


def fit_isotonic(y: np.ndarray, prob: np.ndarray) -> dict[str, list[float]]:
    """Isotonic recalibration as its breakpoints ``x`` → ``y`` (linear in between, clipped outside)."""
    from sklearn.isotonic import IsotonicRegression

    y, prob = _labelled(y, prob)
    fit = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(prob, y)
    return {"x": [float(v) for v in fit.X_thresholds_], "y": [float(v) for v in fit.y_thresholds_]}


def apply_isotonic(params: dict[str, Any], prob: np.ndarray) -> np.ndarray:
    return np.interp(prob, np.asarray(params["x"], float), np.asarray(params["y"], float))


def class_probs(prob: np.ndarray) -> np.ndarray:
    """``[n]`` positive-class probabilities → ``[n, 2]``; ``[n, C]`` unchanged."""
    prob = np.asarray(prob, float)
    return np.stack([1 - prob, prob], axis=1) if prob.ndim == 1 else prob


def fit_conformal_sets(y: np.ndarray, prob: np.ndarray, coverage: float) -> dict[str, float]:
    """LAC conformal prediction sets: ``q`` of the score ``1 − prob[true class]`` (binary ``prob [n]`` or
    multiclass ``[n, C]``); a class is in the set when ``1 − prob[class] ≤ q``."""
    y, prob = _labelled(y, prob)
    probs = class_probs(prob)
    scores = 1.0 - probs[np.arange(len(y)), y.astype(int)]
    return {"q": conformal_quantile(scores, coverage)}


def apply_conformal_sets(params: dict[str, Any], prob: np.ndarray) -> np.ndarray:
    """``[n, C]`` booleans: class ``c`` is in row ``i``'s set."""
    return 1.0 - class_probs(prob) <= float(params["q"]) + 1e-12
