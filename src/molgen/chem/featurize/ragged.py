"""Vectorized helpers for ragged (CSR-style) arrays: counts per item, rows concatenated."""

from __future__ import annotations

import numpy as np


def exclusive_cumsum(counts: np.ndarray) -> np.ndarray:
    """Start offset of each segment.

    Args:
        counts: int ``[n]`` segment lengths.

    Returns:
        int64 ``[n]``: ``[0, c0, c0 + c1, ...]`` (without the grand total).
    """
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def segment_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for every (s, c) pair, without a Python loop.

    Args:
        starts: int ``[n]`` first index of each segment.
        counts: int ``[n]`` length of each segment (may be 0).

    Returns:
        int64 ``[counts.sum()]`` indices.
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    shift = np.asarray(starts, dtype=np.int64) - exclusive_cumsum(counts)
    return np.repeat(shift, counts) + np.arange(total, dtype=np.int64)
