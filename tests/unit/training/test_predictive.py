"""The loop's uncertainty pieces without training: method resolution, calibration split, sample summary, columns."""

from __future__ import annotations

import numpy as np
import pytest

from molgen.config import RunConfig
from molgen.data.splits import Split
from molgen.errors import ConfigError
from molgen.evaluation.calibration import gaussian_bounds
from molgen.training import predictive as uq


def config(task_type: str = "regression", **uncertainty) -> RunConfig:
    return RunConfig.from_dict({"task": {"type": task_type}, "uncertainty": uncertainty})


def test_auto_picks_the_default_per_task_type_and_fills_what_the_method_needs(caplog):
    caplog.set_level("INFO", logger="molgen")
    cfg = uq.resolve(config(method="auto"), uq.METHODS, "m")
    assert cfg.uncertainty.method == "mve"
    cfg = uq.resolve(config("binary", method="auto"), uq.METHODS, "m")
    assert cfg.uncertainty.method == "dropout" and cfg.model.dropout == 0.1
    assert "model dropout set to 0.1" in caplog.text
    cfg = uq.resolve(config(method="ensemble"), uq.METHODS, "m")
    assert cfg.trainer.ensemble_size == 5


def test_refusals_name_what_fits():
    with pytest.raises(ConfigError, match="--uncertainty dropout: the kmer model supports: none"):
        uq.resolve(config(method="dropout"), (), "the kmer model")
    with pytest.raises(ConfigError, match="multiclass task: conformal"):
        uq.resolve(config("multiclass", calibration="platt"), uq.METHODS, "m")
    with pytest.raises(ConfigError, match="zscale scales a predicted std"):
        uq.resolve(config(calibration="zscale"), uq.METHODS, "m")
    with pytest.raises(ConfigError, match="cqr trains its own quantile head"):
        uq.resolve(config(method="mve", calibration="cqr"), uq.METHODS, "m")


def test_calibration_split_is_seeded_disjoint_and_at_least_20():
    split = Split(np.arange(200), np.arange(200, 250), np.arange(250, 300))
    carved, held = uq.carve_calibration(split, 0.1, seed=3)
    assert len(held) == 20 and not np.intersect1d(held, carved.train).size
    assert np.array_equal(np.union1d(held, carved.train), split.train)
    assert np.array_equal(uq.carve_calibration(split, 0.1, seed=3)[1], held)
    with pytest.raises(ConfigError, match="would have 19 molecules"):
        uq.carve_calibration(split, 0.095, seed=3)


def test_summary_adds_member_spread_and_predicted_variance():
    means = np.array([[[1.0]], [[3.0]]])  # two members, one row, one target
    summary = uq.summarize({"mean": means, "var": np.array([[[0.5]], [[1.5]]])})
    assert summary.mean[0, 0] == 2.0 and summary.std[0, 0] == pytest.approx(np.sqrt(1.0 + 1.0))
    assert uq.summarize({"mean": means[:1]}).std is None


def test_columns_gaussian_intervals_without_calibration_and_conformal_sets_with_names():
    summary = uq.Summary(mean=np.array([[1.0], [2.0]]), std=np.array([[0.5], [1.0]]))
    cols = uq.columns("regression", ["y"], summary, None, 0.9)
    lower, upper = gaussian_bounds(summary.mean[:, 0], summary.std[:, 0], 0.9)
    assert np.allclose(cols["y_lower"], lower) and np.allclose(cols["y_upper"], upper)
    zscaled = uq.columns("regression", ["y"], summary, {"method": "zscale", "targets": {"y": {"scale": 2.0}}}, 0.9)
    assert np.allclose(zscaled["y_std"], [1.0, 2.0])
    probs = uq.Summary(mean=np.array([[0.95], [0.5]]))
    calibration = {"method": "conformal", "targets": {"p": {"q": 0.6}}}
    sets = uq.columns("binary", ["p"], probs, calibration, 0.9, {"p": ["inactive", "active"]})
    assert sets["p_set"].tolist() == ["active", "inactive|active"]
    metrics = uq.test_metrics("binary", ["p"], probs, sets, np.array([[1.0], [0.0]]), calibration)
    assert metrics["coverage"] == 1.0 and metrics["set_size"] == 1.5


def test_platt_maps_every_sample():
    calibration = {"method": "platt", "targets": {"p": {"a": 1.0, "b": 0.0}}}
    samples = {"mean": np.array([[[0.2]], [[0.7]]])}
    assert np.allclose(uq.calibrate_samples(calibration, ["p"], samples)["mean"], samples["mean"])
    shifted = {"method": "platt", "targets": {"p": {"a": 0.0, "b": 0.0}}}
    assert np.allclose(uq.calibrate_samples(shifted, ["p"], samples)["mean"], 0.5)


def test_scaffold_runs_hold_out_whole_scaffolds():
    from molgen.data.splits import scaffold_of

    rings = ["c1ccccc1", "C1CCCCC1", "c1ccncc1", "C1CCOC1", "c1ccsc1", "C1CCNCC1", "c1ccc2ccccc2c1", "C1CCCC1"]
    smiles = [ring + "C" * n for ring in rings for n in range(1, 13)]  # 8 scaffolds × 12 molecules
    split = Split(np.arange(96), np.zeros(0), np.zeros(0))
    carved, held = uq.carve_calibration(split, 0.25, seed=0, smiles=smiles)
    assert len(held) == 24
    assert not {scaffold_of(smiles[i]) for i in held} & {scaffold_of(smiles[i]) for i in carved.train}
