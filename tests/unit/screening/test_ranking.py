"""Acquisition scores and the bounded running top-k (merged per shard = sorted globally)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from molgen.screening.ranking import Ranking, TopK


def shard(source: str, means: list[float], stds: list[float] | None = None, **columns) -> pd.DataFrame:
    n = len(means)
    frame = pd.DataFrame({"source": source, "row": np.arange(n), "y": means, "valid": True, "passes_filters": True})
    frame["y_std"] = stds if stds is not None else 0.0
    for name, values in columns.items():
        frame[name] = values
    return frame


def ranked_rows(ranking: Ranking, frames: list[pd.DataFrame]) -> list[tuple[str, int]]:
    top = TopK(ranking)
    for frame in frames:
        top.add(ranking.select(frame))
    result = top.result()
    assert result["rank"].tolist() == list(range(1, len(result) + 1))
    return list(zip(result["source"], result["row"]))


def test_merged_shard_top_k_equals_the_global_sort():
    rng = np.random.default_rng(0)
    frames = [shard(f"f{i}", rng.normal(size=50).tolist()) for i in range(7)]
    ranking = Ranking("y", top_k=15)
    everything = pd.concat(frames, ignore_index=True).sort_values("y", ascending=False).head(15)
    assert ranked_rows(ranking, frames) == list(zip(everything["source"], everything["row"]))
    lowest = pd.concat(frames, ignore_index=True).sort_values("y").head(15)
    assert ranked_rows(Ranking("y", top_k=15, ascending=True), frames) == list(zip(lowest["source"], lowest["row"]))


def test_ucb_adds_the_spread_and_its_minimizing_form_subtracts_it():
    frame = shard("a", [1.0, 0.8, 0.0], stds=[0.0, 0.5, 2.0])
    ucb = Ranking("y", top_k=3, acquisition="ucb", kappa=1.0, std_column="y_std")
    assert ranked_rows(ucb, [frame]) == [("a", 2), ("a", 1), ("a", 0)]  # 2.0, 1.3, 1.0
    assert ranked_rows(Ranking("y", top_k=3), [frame]) == [("a", 0), ("a", 1), ("a", 2)]
    lcb = Ranking("y", top_k=3, acquisition="ucb", kappa=1.0, std_column="y_std", ascending=True)
    assert ranked_rows(lcb, [frame]) == [("a", 2), ("a", 1), ("a", 0)]  # -2.0, 0.3, 1.0
    np.testing.assert_allclose(ucb.scores(frame), [1.0, 1.3, 2.0])


def test_invalid_and_filtered_rows_are_never_ranked_and_ties_break_by_source_and_row():
    frame = shard("b", [5.0, 9.0, 9.0, 1.0, np.nan])
    frame.loc[1, "valid"] = False
    frame["passes_filters"] = pd.array([True, True, True, False, None], dtype="boolean")
    tie = shard("a", [5.0])
    assert ranked_rows(Ranking("y", top_k=10), [frame, tie]) == [("b", 2), ("a", 0), ("b", 0)]


def test_bad_rankings_are_refused_with_the_valid_choices():
    quantities = {"y": None, "z": None}
    with pytest.raises(ValueError, match="cannot sort by 'w'; the models predict: y, z"):
        Ranking.create(quantities, "w")
    with pytest.raises(ValueError, match="ucb needs an ensemble"):
        Ranking.create(quantities, "y", acquisition="ucb")
    with pytest.raises(ValueError, match="unknown acquisition 'ei'; valid: mean, ucb"):
        Ranking.create(quantities, acquisition="ei")
    with pytest.raises(ValueError, match="kappa"):
        Ranking("y", kappa=-1)
    with pytest.raises(ValueError, match="top-k"):
        Ranking("y", top_k=0)
    assert Ranking.create(quantities).column == "y"
