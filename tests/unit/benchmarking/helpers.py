"""Hand-written results records (plain data, as runner.py writes them) for report and gate tests."""

from __future__ import annotations


def cell(
    dataset: str,
    model: str,
    seed: int,
    value: float | None,
    *,
    metric: str = "rmse",
    split: str = "random",
    error: str | None = None,
) -> dict:
    return {
        "key": f"{dataset}/{model}/seed{seed}",
        "group": f"{dataset}/{model}",
        "dataset": dataset,
        "model": model,
        "seed": seed,
        "split": split,
        "metric": metric,
        "status": "ok" if error is None else "failed",
        "value": value,
        "metrics": {"test": {metric: value}} if value is not None else {},
        "wall_s": 10.0 + seed,
        "error": error,
    }


def record(cells: list[dict]) -> dict:
    return {
        "suite": "tiny",
        "profile": "ci",
        "description": "d",
        "started": "2026-11-23T20:00:00+00:00",
        "finished": "2026-11-23T20:10:00+00:00",
        "wall_s": 600.0,
        "seeds": [0, 1, 2],
        "metric_split": "test",
        "versions": {"molgen": "0.1.0", "torch": "2.13.0"},
        "machine": {"cpu": "x", "cpus_usable": 2},
        "cells": cells,
    }
