"""Uncertainty metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from molgen.evaluation import uncertainty as uq


def test_gaussian_nll_by_hand():
    y, mean, std = np.array([1.0, 0.0]), np.array([0.0, 0.0]), np.array([1.0, 2.0])
    expected = np.mean([0.5 * math.log(2 * math.pi) + 0.5, 0.5 * math.log(2 * math.pi * 4)])
    assert uq.gaussian_nll(y, mean, std) == pytest.approx(expected)


def test_miscalibration_area_zero_for_gaussian_and_large_for_overconfident():
    rng = np.random.default_rng(0)
    y = rng.normal(size=200_000)
    zeros, ones = np.zeros_like(y), np.ones_like(y)
    assert uq.miscalibration_area(y, zeros, ones) < 0.005
    # std 100x too small: almost no interval holds its error, so observed ≈ 0 below p = 1: area ≈ 0.5
    assert uq.miscalibration_area(y, zeros, ones / 100) == pytest.approx(0.49, abs=0.02)


def test_miscalibration_area_by_hand_with_two_bins():
    # p = 0, 0.5, 1; central 50 % interval half-width = 0.6745 std: one error inside, one outside → 0.5 observed
    y, mean, std = np.array([0.1, 5.0]), np.zeros(2), np.ones(2)
    assert uq.miscalibration_area(y, mean, std, n_bins=2) == pytest.approx(0.0)
    y = np.array([0.1, 0.2])  # both inside: observed(0.5) = 1 → |1 − 0.5| / 2
    assert uq.miscalibration_area(y, mean, std, n_bins=2) == pytest.approx(0.25)


def test_spearman_error_std():
    y, mean = np.array([1.0, 2.0, 3.0, 4.0]), np.zeros(4)
    assert uq.spearman_error_std(y, mean, np.array([0.1, 0.2, 0.3, 0.4])) == pytest.approx(1.0)
    assert uq.spearman_error_std(y, mean, np.array([0.4, 0.3, 0.2, 0.1])) == pytest.approx(-1.0)
    assert math.isnan(uq.spearman_error_std(y, mean, np.ones(4)))


def test_coverage_and_width():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    lower, upper = np.array([-1.0, 0.0, 2.5, 2.0]), np.array([1.0, 2.0, 3.0, 3.0])
    assert uq.coverage(y, lower, upper) == pytest.approx(0.75)
    assert uq.interval_width(lower, upper) == pytest.approx((2 + 2 + 0.5 + 1) / 4)


def test_ece_binary_by_hand():
    # bin [0.2, 0.3): p 0.2, 0.2, labels 0, 1 → |0.5 − 0.2|; bin [0.9, 1]: p 0.9, label 1 → |1 − 0.9|
    y, p = np.array([0.0, 1.0, 1.0]), np.array([0.2, 0.2, 0.9])
    assert uq.ece(y, p) == pytest.approx(2 / 3 * 0.3 + 1 / 3 * 0.1)


def test_ece_multiclass_uses_top_class_confidence():
    y = np.array([0, 1])
    p = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1]])  # both in bin 6/7 by confidence; accuracy 1 and 0
    assert uq.ece(y, p) == pytest.approx(0.5 * abs(1 - 0.7) + 0.5 * abs(0 - 0.6))


def test_brier():
    assert uq.brier(np.array([1.0, 0.0]), np.array([0.8, 0.4])) == pytest.approx((0.04 + 0.16) / 2)
    probs = np.array([[0.5, 0.5], [0.1, 0.9]])
    assert uq.brier(np.array([0, 1]), probs) == pytest.approx((0.5 + 0.02) / 2)


def test_pooled_and_per_target_names_and_nan_labels():
    y = np.array([1.0, np.nan, 3.0])
    one = uq.regression_uq(y, np.zeros(3), np.ones(3), -np.ones(3) * 2, np.ones(3) * 2)
    assert one["coverage"] == pytest.approx(0.5)
    out = uq.pooled({"a": {"nll": 1.0}, "b": {"nll": 3.0}}, ["a", "b"])
    assert out == {"nll": 2.0, "nll/a": 1.0, "nll/b": 3.0}
    assert uq.pooled({"a": {"ece": 0.1}}, ["a"]) == {"ece": 0.1}
