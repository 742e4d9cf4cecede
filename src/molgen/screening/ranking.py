"""Ranking screened molecules: an acquisition score and a bounded running top-k.

``mean`` ranks by the (ensemble-mean) prediction; ``ucb`` adds the ensemble's spread,
``mean + κ·std``, to favour molecules the models disagree on (an optimistic upper confidence
bound). With ``ascending=True`` (a target to minimize) lower is better and ``ucb`` becomes the
optimistic lower bound ``mean - κ·std``. Only valid rows that pass every filter are ranked; ties
are broken by (source file, row), so the order never depends on which shard finished first.

Example:
    >>> import pandas as pd
    >>> ranking = Ranking("y", top_k=2)
    >>> top = TopK(ranking)
    >>> top.add(ranking.select(pd.DataFrame({"source": "a.smi", "row": [0, 1, 2], "y": [0.5, 2.0, 1.0],
    ...                                      "valid": True, "passes_filters": True})))
    >>> top.result()["row"].tolist()
    [1, 2]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from molgen.errors import ConfigError, UnknownNameError

__all__ = ["ACQUISITIONS", "Ranking", "TopK"]

ACQUISITIONS = ("mean", "ucb")
_TIE_BREAK = ["source", "row"]


@dataclass(frozen=True)
class Ranking:
    """How rows are scored and how many are kept.

    Attributes:
        column: prediction column ranked (an ensemble mean). std_column: its spread (for ``ucb``).
        top_k: rows kept. acquisition: ``mean`` or ``ucb``. kappa: weight of the spread in ``ucb``.
        ascending: lower scores are better (a target to minimize).
    """

    column: str
    top_k: int = 100
    acquisition: str = "mean"
    kappa: float = 1.0
    ascending: bool = False
    std_column: str | None = None

    def __post_init__(self) -> None:
        if self.acquisition not in ACQUISITIONS:
            raise UnknownNameError(f"unknown acquisition {self.acquisition!r}; valid: {', '.join(ACQUISITIONS)}")
        if self.top_k < 1:
            raise ConfigError(f"top-k must be ≥ 1, got {self.top_k}")
        if not np.isfinite(self.kappa) or self.kappa < 0:
            raise ConfigError(f"kappa must be a finite number ≥ 0, got {self.kappa}")
        if self.acquisition == "ucb" and self.std_column is None:
            raise ConfigError(
                "ucb needs an ensemble spread: pass several --model, or a model trained with --ensemble-size > 1"
            )

    @classmethod
    def create(cls, quantities: Mapping[str, str | None], sort_by: str | None = None, **options: Any) -> Ranking:
        """A ranking of one of ``quantities`` (rankable column → its std column or None).

        Raises:
            ValueError: ``sort_by`` is not a rankable column (the message lists them).
        """
        names = list(quantities)
        if sort_by is None:
            if not names:
                raise ConfigError("the models predict nothing that can be ranked")
            sort_by = names[0]
        if sort_by not in quantities:
            raise UnknownNameError(f"cannot sort by {sort_by!r}; the models predict: {', '.join(names)}")
        return cls(column=sort_by, std_column=quantities[sort_by], **options)

    def describe(self) -> dict[str, Any]:
        return asdict(self)

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        """The acquisition score of every row (NaN where a row cannot be ranked)."""
        score = frame[self.column].to_numpy(dtype=float, na_value=np.nan).copy()
        if self.acquisition == "ucb":
            spread = self.kappa * frame[self.std_column].to_numpy(dtype=float, na_value=np.nan)
            score = score - spread if self.ascending else score + spread
        eligible = frame["valid"].to_numpy(dtype=bool) & frame["passes_filters"].fillna(False).to_numpy(dtype=bool)
        score[~eligible] = np.nan
        return score

    def select(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The best ``top_k`` rankable rows of ``frame``, best first, with a ``score`` column."""
        score = self.scores(frame)
        keep = np.flatnonzero(~np.isnan(score))
        best = frame.iloc[keep].assign(score=score[keep])
        return self._sorted(best).head(self.top_k)

    def _sorted(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.sort_values(["score", *_TIE_BREAK], ascending=[self.ascending, True, True], kind="stable")


class TopK:
    """The best ``ranking.top_k`` rows seen so far; memory stays O(k) however many shards are added."""

    def __init__(self, ranking: Ranking) -> None:
        self.ranking = ranking
        self._best: pd.DataFrame | None = None

    def add(self, candidates: pd.DataFrame) -> None:
        """Merges a shard's own top rows (from :meth:`Ranking.select`)."""
        if candidates.empty:
            return
        merged = candidates if self._best is None else pd.concat([self._best, candidates], ignore_index=True)
        self._best = self.ranking._sorted(merged).head(self.ranking.top_k).reset_index(drop=True)

    def result(self) -> pd.DataFrame:
        """Best first, with a 1-based ``rank`` column first and the ``score`` second."""
        if self._best is None:
            return pd.DataFrame(columns=["rank", "score"])
        best = self._best.reset_index(drop=True)
        columns = ["score", *[c for c in best.columns if c != "score"]]
        return best[columns].assign(rank=np.arange(1, len(best) + 1))[["rank", *columns]]
