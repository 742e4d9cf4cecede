"""Uncertainty metrics on one target (numpy/scipy): how well predicted spreads, intervals and probabilities
match what happened.

Regression: :func:`gaussian_nll`, :func:`miscalibration_area`, :func:`spearman_error_std`, :func:`coverage`,
:func:`interval_width`. Classification: :func:`ece`, :func:`brier`. :func:`uncertainty_metrics` computes the
ones that apply, per target (``<metric>/<target>`` with several targets) and pooled (the mean over targets),
as :mod:`molgen.evaluation.supervised` does. Inputs are 1-D arrays ``[n]`` in user units; rows with a NaN label
are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

REGRESSION_UQ = ("nll", "miscalibration_area", "spearman_error_std", "coverage", "interval_width")
CLASSIFICATION_UQ = ("ece", "brier")


def gaussian_nll(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    """Mean negative log-likelihood of ``y`` under ``N(mean, std²)`` (nats per molecule)."""
    var = np.maximum(np.asarray(std, float) ** 2, 1e-12)
    return float(np.mean(0.5 * np.log(2 * math.pi * var) + (y - mean) ** 2 / (2 * var)))


def miscalibration_area(y: np.ndarray, mean: np.ndarray, std: np.ndarray, n_bins: int = 100) -> float:
    """Area between the observed and the expected coverage of central Gaussian intervals (Chemprop v2's
    ``miscalibration_area``): for p = 0, 1/n_bins, …, 1 the fraction of ``|y − mean| ≤ std · Φ⁻¹((1+p)/2)``
    against p, summed as ``Σ |observed(p) − p| / n_bins``. 0 is perfect; at most about 0.5."""
    from scipy.special import erfinv

    p = np.arange(1, n_bins) / n_bins
    scale = erfinv(p) * math.sqrt(2)  # half-width in units of std of the central interval holding p
    errors = np.abs(y - mean)
    observed = (np.asarray(std)[None, :] * scale[:, None] >= errors[None, :]).mean(1)
    observed = np.concatenate([[0.0], observed, [1.0]])
    expected = np.arange(n_bins + 1) / n_bins
    return float(np.sum(np.abs(observed - expected)) / n_bins)


def spearman_error_std(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    """Spearman rank correlation of ``|y − mean|`` with ``std`` (NaN when either is constant)."""
    from scipy.stats import spearmanr

    errors = np.abs(y - mean)
    if len(y) < 2 or np.ptp(errors) == 0 or np.ptp(std) == 0:
        return math.nan
    return float(spearmanr(errors, std).statistic)


def coverage(y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Fraction of ``y`` inside ``[lower, upper]``."""
    return float(np.mean((y >= lower) & (y <= upper)))


def interval_width(lower: np.ndarray, upper: np.ndarray) -> float:
    """Mean ``upper − lower`` (user units)."""
    return float(np.mean(upper - lower))


def ece(y: np.ndarray, prob: np.ndarray, n_bins: int = 10) -> float:
    """Expected calibration error with ``n_bins`` equal-width bins.

    Binary (``prob [n]``, the positive class): ``Σ_b n_b/n · |mean(y_b) − mean(prob_b)|`` over the bins of
    ``prob``. Multiclass (``prob [n, C]``): the same on the top-class confidence against its accuracy.
    """
    prob = np.asarray(prob, float)
    if prob.ndim == 2:
        confidence, hit = prob.max(1), (prob.argmax(1) == y).astype(float)
    else:
        confidence, hit = prob, np.asarray(y, float)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        total += in_bin.sum() / len(y) * abs(hit[in_bin].mean() - confidence[in_bin].mean())
    return float(total)


def brier(y: np.ndarray, prob: np.ndarray) -> float:
    """Brier score: mean ``(prob − y)²`` (binary) or mean ``Σ_c (prob_c − [y = c])²`` (multiclass ``[n, C]``)."""
    prob = np.asarray(prob, float)
    if prob.ndim == 2:
        onehot = np.eye(prob.shape[1])[np.asarray(y, int)]
        return float(np.mean(np.sum((prob - onehot) ** 2, axis=1)))
    return float(np.mean((prob - y) ** 2))


def regression_uq(
    y: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray | None,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
) -> dict[str, float]:
    """The regression metrics that the given arrays allow (``std`` → nll, area, Spearman; bounds → coverage,
    width)."""
    keep = ~np.isnan(y)
    out: dict[str, float] = {}
    if not keep.any():
        return out
    if std is not None:
        y_, m_, s_ = y[keep], mean[keep], std[keep]
        out["nll"] = gaussian_nll(y_, m_, s_)
        out["miscalibration_area"] = miscalibration_area(y_, m_, s_)
        out["spearman_error_std"] = spearman_error_std(y_, m_, s_)
    if lower is not None and upper is not None:
        out["coverage"] = coverage(y[keep], lower[keep], upper[keep])
        out["interval_width"] = interval_width(lower[keep], upper[keep])
    return out


def classification_uq(y: np.ndarray, prob: np.ndarray) -> dict[str, float]:
    """ECE and Brier of one target (``prob [n]`` binary or ``[n, C]`` multiclass)."""
    keep = ~np.isnan(y)
    if not keep.any():
        return {}
    return {"ece": ece(y[keep], prob[keep]), "brier": brier(y[keep], prob[keep])}


def pooled(per_target: Mapping[str, Mapping[str, float]], names: Sequence[str]) -> dict[str, float]:
    """``{target: {metric: v}}`` → pooled ``metric`` (mean over the targets with a finite value) and, with
    several targets, ``metric/target``."""
    out: dict[str, float] = {}
    metrics = dict.fromkeys(m for values in per_target.values() for m in values)
    for metric in metrics:
        values = [per_target[t][metric] for t in names if metric in per_target.get(t, {})]
        finite = [v for v in values if math.isfinite(v)]
        out[metric] = float(np.mean(finite)) if finite else math.nan
        if len(names) > 1:
            for t in names:
                if metric in per_target.get(t, {}):
                    out[f"{metric}/{t}"] = per_target[t][metric]
    return out
