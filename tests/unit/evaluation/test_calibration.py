"""Calibrators on synthetic data: conformal coverage ≈ nominal, z-scaling recovers the right scale, probability
maps fix a miscalibrated classifier."""

from __future__ import annotations

import math

import numpy as np
import pytest

from molgen.evaluation import calibration as cal
from molgen.evaluation import uncertainty as uq


def heteroscedastic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=n)
    true_std = rng.uniform(0.2, 2.0, size=n)
    return mean + rng.normal(size=n) * true_std, mean, true_std


def test_conformal_quantile_finite_sample_rank():
    scores = np.arange(1.0, 11.0)  # n = 10, coverage 0.8 → rank ⌈11 · 0.8⌉ = 9
    assert cal.conformal_quantile(scores, 0.8) == 9.0
    assert cal.conformal_quantile(scores, 0.95) == math.inf  # rank 11 > n


@pytest.mark.parametrize("normalized", [False, True])
def test_split_conformal_covers_nominal(normalized: bool):
    y, mean, std = heteroscedastic(2000, 0)
    params = cal.fit_conformal(y, mean, std if normalized else None, 0.9)
    assert params["normalized"] is normalized
    y2, mean2, std2 = heteroscedastic(20000, 1)
    lower, upper = cal.apply_conformal(params, mean2, std2 if normalized else None)
    assert uq.coverage(y2, lower, upper) == pytest.approx(0.9, abs=0.02)
    if normalized:  # std-aware intervals are narrower at the same coverage
        plain = cal.apply_conformal(cal.fit_conformal(y, mean, None, 0.9), mean2, None)
        assert uq.interval_width(lower, upper) < uq.interval_width(*plain)


def test_zscale_recovers_the_scale_and_gaussian_bounds_cover():
    y, mean, std = heteroscedastic(5000, 2)
    params = cal.fit_zscale(y, mean, std / 3)  # a model 3x overconfident
    assert params["scale"] == pytest.approx(3.0, rel=0.05)
    y2, mean2, std2 = heteroscedastic(20000, 3)
    lower, upper = cal.gaussian_bounds(mean2, cal.apply_zscale(params, std2 / 3), 0.9)
    assert uq.coverage(y2, lower, upper) == pytest.approx(0.9, abs=0.02)


def test_cqr_widens_too_narrow_quantiles_to_nominal():
    y, mean, std = heteroscedastic(2000, 4)
    params = cal.fit_cqr(y, mean - 0.5 * std, mean + 0.5 * std, 0.9)
    assert params["q"] > 0
    y2, mean2, std2 = heteroscedastic(20000, 5)
    lower, upper = cal.apply_cqr(params, mean2 - 0.5 * std2, mean2 + 0.5 * std2)
    assert uq.coverage(y2, lower, upper) == pytest.approx(0.9, abs=0.02)


def overconfident_classifier(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    true = rng.uniform(0.05, 0.95, size=n)
    y = (rng.uniform(size=n) < true).astype(float)
    logit = np.log(true / (1 - true))
    return y, 1 / (1 + np.exp(-3 * logit))  # logits 3x too large


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_probability_maps_reduce_ece(method: str):
    y, prob = overconfident_classifier(5000, 0)
    fit, apply = (cal.fit_platt, cal.apply_platt) if method == "platt" else (cal.fit_isotonic, cal.apply_isotonic)
    params = fit(y, prob)
    assert all(isinstance(v, (float, list)) for v in params.values())
    y2, prob2 = overconfident_classifier(20000, 1)
    assert uq.ece(y2, apply(params, prob2)) < 0.03 < uq.ece(y2, prob2)
    if method == "platt":
        assert params["a"] == pytest.approx(1 / 3, abs=0.05)


def test_conformal_sets_cover_binary_and_multiclass():
    y, prob = overconfident_classifier(3000, 2)
    params = cal.fit_conformal_sets(y, prob, 0.9)
    y2, prob2 = overconfident_classifier(20000, 3)
    sets = cal.apply_conformal_sets(params, prob2)
    assert sets.shape == (20000, 2)
    assert sets[np.arange(20000), y2.astype(int)].mean() == pytest.approx(0.9, abs=0.02)
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(20000, 3)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(3, p=p) for p in probs]).astype(float)
    params = cal.fit_conformal_sets(labels[:5000], probs[:5000], 0.8)
    held = cal.apply_conformal_sets(params, probs[5000:])
    assert held[np.arange(15000), labels[5000:].astype(int)].mean() == pytest.approx(0.8, abs=0.02)
