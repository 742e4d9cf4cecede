"""The first-use estimate of the MOSES reference statistics matches what they cost (~40 min on 2 cores)."""

from __future__ import annotations

from molgen.evaluation.generation.reference import first_use_seconds, minutes


def test_moses_first_use_estimate_is_about_forty_minutes_on_two_cores():
    seconds = (
        first_use_seconds(176_074, "reference-props", 2)  # Test, with properties
        + first_use_seconds(176_226, "reference", 2)  # TestSF
        + first_use_seconds(1_584_663, "train", 2)  # canonical training SMILES for Novelty
    )
    assert 30 * 60 < seconds < 50 * 60
    assert minutes(seconds) == f"about {round(seconds / 60)} min" and minutes(59) == "under a minute"
