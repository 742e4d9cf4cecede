"""The regression gate: thresholds of a suite profile against the measured means, plus failed cells."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from molgen.benchmarking.report import GroupSummary
from molgen.benchmarking.suite import Profile


def check(profile: Profile, summaries: Sequence[GroupSummary], selected_groups: Sequence[str]) -> dict[str, Any]:
    """Compares every threshold of ``profile`` with the mean over seeds of its ``dataset/model`` cell.

    A threshold fails when the mean crosses it (or is NaN), when every seed of its cell failed, or when
    the cell was selected but has no result. Any failed seed of any selected cell fails the gate too.
    Thresholds of cells left out with ``--only`` are listed as not checked.

    Returns:
        ``{"passed": bool, "failures": [...], "lines": [...]}``: one line per threshold and failure.
    """
    by_group = {s.group: s for s in summaries}
    selected = set(selected_groups)
    failures, lines = [], []
    for group, threshold in profile.thresholds.items():
        bound = " and ".join(f"{k} {v}" for k, v in (("min", threshold.min), ("max", threshold.max)) if v is not None)
        measured = f"; set from {threshold.measured} measured {threshold.measured_on}" if threshold.measured else ""
        if group not in selected:
            lines.append(f"`{group}`: not run (--only), not checked ({bound})")
            continue
        summary = by_group.get(group)
        problem: str | None
        if summary is None or not summary.values:
            problem = "no seed finished"
        else:
            problem = threshold.violation(summary.mean)
        if problem:
            failures.append(f"{group}: {problem} ({summary.metric if summary else 'metric'})")
            lines.append(f"`{group}`: FAIL, {problem}{measured}")
        else:
            assert summary is not None, "a missing summary is always a problem"
            lines.append(f"`{group}`: ok, {summary.metric} {summary.mean:.4f} within {bound}{measured}")
    for summary in summaries:
        if summary.group in selected:
            for failure in summary.failed:
                failures.append(f"{summary.group} {failure}")
                lines.append(f"`{summary.group}`: FAIL, {failure}")
    return {"passed": not failures, "failures": failures, "lines": lines}


def check_record(profile: Profile, record: dict[str, Any]) -> dict[str, Any]:
    """:func:`check` on the cells this run selected (``record["selected"]``), ignoring cells kept from
    earlier runs with another ``--only``."""
    from molgen.benchmarking.report import summarize

    selected = set(record.get("selected", [c["key"] for c in record["cells"]]))
    cells = [c for c in record["cells"] if c["key"] in selected]
    return check(profile, summarize({**record, "cells": cells}), sorted({c["group"] for c in cells}))
