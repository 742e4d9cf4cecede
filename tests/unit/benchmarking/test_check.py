"""The regression gate: thresholds crossed, failed cells, cells left out with --only."""

from __future__ import annotations

from tests.unit.benchmarking.helpers import cell, record

from molgen.benchmarking.check import check_record
from molgen.benchmarking.suite import Profile, Threshold

PROFILE = Profile(
    "ci",
    thresholds={
        "esol/dmpnn": Threshold(max=1.0, measured=0.8, measured_on="2026-11-23"),
        "bbbp/dmpnn": Threshold(min=0.6),
    },
)


def test_passes_within_thresholds():
    rec = record([cell("esol", "dmpnn", 0, 0.9), cell("bbbp", "dmpnn", 0, 0.7, metric="roc_auc")])
    gate = check_record(PROFILE, rec)
    assert gate["passed"] and gate["failures"] == []
    assert any(
        "`esol/dmpnn`: ok, rmse 0.9000 within max 1.0; set from 0.8 measured 2026-11-23" in line
        for line in gate["lines"]
    )


def test_a_crossed_threshold_fails():
    rec = record(
        [
            cell("esol", "dmpnn", 0, 1.2),
            cell("esol", "dmpnn", 1, 0.9),  # mean 1.05 > 1.0
            cell("bbbp", "dmpnn", 0, 0.5, metric="roc_auc"),
        ]
    )
    gate = check_record(PROFILE, rec)
    assert not gate["passed"]
    assert gate["failures"] == ["esol/dmpnn: 1.0500 > max 1.0 (rmse)", "bbbp/dmpnn: 0.5000 < min 0.6 (roc_auc)"]


def test_a_failed_cell_fails_even_without_threshold():
    rec = record(
        [
            cell("esol", "dmpnn", 0, 0.9),
            cell("bbbp", "dmpnn", 0, 0.7, metric="roc_auc"),
            cell("esol", "gin", 0, None, error="ValueError: bad"),
        ]
    )
    gate = check_record(PROFILE, rec)
    assert not gate["passed"] and gate["failures"] == ["esol/gin seed 0: ValueError: bad"]


def test_every_seed_failed_fails_its_threshold():
    rec = record(
        [cell("esol", "dmpnn", 0, None, error="RuntimeError: x"), cell("bbbp", "dmpnn", 0, 0.7, metric="roc_auc")]
    )
    gate = check_record(PROFILE, rec)
    assert "esol/dmpnn: no seed finished (rmse)" in gate["failures"]


def test_cells_not_selected_are_not_checked():
    rec = record([cell("esol", "dmpnn", 0, 0.9), cell("bbbp", "dmpnn", 0, 0.1, metric="roc_auc")])
    rec["selected"] = ["esol/dmpnn/seed0"]  # bbbp kept from an earlier run with another --only
    gate = check_record(PROFILE, rec)
    assert gate["passed"] and any("`bbbp/dmpnn`: not run (--only)" in line for line in gate["lines"])
