"""Runs every cell of a suite profile through ``fit()``, one fresh run folder per cell, resumable.

Layout of the output folder::

    OUTPUT/
      results.json      every cell (status, metric value, all metrics, wall time, error), versions, machine;
                        rewritten after every cell, so an interrupted suite resumes where it stopped
      results.md        mean ± std per dataset × model next to the published references
      <suite>.png       the plot
      cells/<dataset>-<model>-seed<k>/   the run folder of each cell (config.yaml, metrics.json, …)

A cell that raises is recorded with its error and the suite goes on. Running the same command again skips
the cells that finished with the same overrides and reruns failed, missing or changed ones.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from molgen.benchmarking import environment
from molgen.benchmarking.suite import Cell, Suite, SuiteError
from molgen.errors import DataSourceError

log = logging.getLogger("molgen.benchmark")

RESULTS_JSON = "results.json"
FitFunction = Callable[[Any], Any]


def run_suite(
    suite: Suite,
    profile: str,
    output: str | Path,
    *,
    only: Sequence[str] = (),
    seeds: Sequence[int] | None = None,
    fit: FitFunction | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Runs (or resumes) ``profile`` of ``suite`` into ``output`` and returns the results record.

    Args:
        only: ``dataset/model`` patterns (``esol``, ``*/gin``) restricting the cells.
        seeds: these seeds instead of the profile's.
        fit: the training function (default: ``molgen.recipes.fit``); a cell passes it one RunConfig.
        progress: called with one line per cell (default: the ``molgen.benchmark`` logger).
    """
    if fit is None:
        from molgen.recipes import fit as default_fit

        fit = default_fit
    say = progress or log.info
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    cells = suite.cells(profile, only, seeds)
    record = _load_or_start(output, suite, profile)
    record["only"] = list(only)
    done = {c["key"]: c for c in record["cells"]}
    start = time.perf_counter()
    ran = 0
    for i, cell in enumerate(cells, 1):
        previous = done.get(cell.key)
        if previous and previous["status"] == "ok" and previous["overrides"] == _jsonable(cell.overrides):
            say(f"[{i}/{len(cells)}] {cell.key}: done earlier ({previous['metric']} {previous['value']:.4f}), skipped")
            continue
        outcome = run_cell(cell, suite, output, fit)
        ran += 1
        done[cell.key] = outcome
        record["cells"] = [done[k] for k in _ordered_keys(done, cells)]
        record["wall_s"] = record.get("wall_s_before", 0.0) + time.perf_counter() - start
        save_results(output, record)
        if outcome["status"] == "ok":
            say(
                f"[{i}/{len(cells)}] {cell.key}: {outcome['metric']} {outcome['value']:.4f} ({outcome['wall_s']:.0f} s)"
            )
        else:
            say(f"[{i}/{len(cells)}] {cell.key}: FAILED ({outcome['error']})")
    record["cells"] = [done[k] for k in _ordered_keys(done, cells)]
    record["selected"] = [c.key for c in cells]
    record["seeds"] = sorted({c["seed"] for c in record["cells"]} | {c.seed for c in cells})
    record["wall_s"] = record.get("wall_s_before", 0.0) + time.perf_counter() - start
    if ran or not record.get("finished"):
        record["finished"] = environment.now()
        record["machine"]["load_average_end"] = environment.load_average()
    save_results(output, record)
    return record


def run_cell(cell: Cell, suite: Suite, output: Path, fit: FitFunction) -> dict[str, Any]:
    """Trains one cell in a fresh run folder; any exception becomes a ``failed`` record."""
    run_dir = output / "cells" / cell.key.replace("/", "-")
    if run_dir.exists():  # a previous attempt of this cell (crashed, failed or changed): start clean
        shutil.rmtree(run_dir)
    entry: dict[str, Any] = {
        "key": cell.key,
        "group": cell.group,
        "dataset": cell.dataset_label,
        "model": cell.model.name,
        "seed": cell.seed,
        "split": cell.overrides.get("data.split"),
        "metric": cell.dataset.metric,
        "metric_split": suite.metric_split,
        "higher_is_better": cell.dataset.higher_is_better,
        "status": "failed",
        "value": None,
        "metrics": {},
        "wall_s": None,
        "epochs": None,
        "run_dir": str(run_dir.relative_to(output)),
        "error": None,
        "overrides": _jsonable(cell.overrides),
        "started": environment.now(),
        "load_average": environment.load_average(),
    }
    start = time.perf_counter()
    try:
        result = fit(cell.config(run_dir))
        entry["metrics"] = _jsonable(result.metrics)
        entry["epochs"] = _jsonable(result.details.get("epochs"))
        entry["details"] = {k: _jsonable(v) for k, v in result.details.items() if _is_numeric(v)}
        entry["split"] = result.config.data.split
        entry["family"] = result.config.family
        entry["n_invalid"] = result.n_invalid
        entry["metric"] = cell.dataset.metric or _default_metric(cell, result)
        section = result.metrics.get(suite.metric_split, {})
        if entry["metric"] not in section:
            raise SuiteError(
                f"metric {entry['metric']!r} is not in the {suite.metric_split!r} metrics of this run; "
                f"available: {', '.join(sorted(section)) or 'none'} (set the dataset's metric in the suite)"
            )
        entry["value"] = float(section[entry["metric"]])
        entry["status"] = "ok" if math.isfinite(entry["value"]) else "failed"
        if entry["status"] == "failed":
            entry["error"] = f"{entry['metric']} is {entry['value']}"
    except Exception as err:
        entry["error"] = f"{type(err).__name__}: {err}"
        entry["traceback"] = traceback.format_exc(limit=8)
    entry["wall_s"] = time.perf_counter() - start
    return entry


def _default_metric(cell: Cell, result: Any) -> str:
    """The catalog's headline metric, else the run's monitored metric."""
    from molgen.data.catalog import get_dataset
    from molgen.registry import UnknownNameError

    try:
        return get_dataset(cell.dataset.name).metric
    except UnknownNameError:
        monitor = result.config.task.monitor
        if not monitor:
            raise SuiteError(
                f"{cell.key}: not a catalog dataset and the run has no monitored metric; "
                "set the dataset's metric in the suite"
            ) from None
        return monitor


def load_results(output: str | Path) -> dict[str, Any]:
    path = Path(output) / RESULTS_JSON
    if not path.is_file():
        raise DataSourceError(f"no {RESULTS_JSON} in {output} (run the suite first)")
    return json.loads(path.read_text())


def save_results(output: Path, record: dict[str, Any]) -> None:
    """Writes results.json atomically (a crash never leaves half a file)."""
    tmp = output / (RESULTS_JSON + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, allow_nan=True))
    tmp.replace(output / RESULTS_JSON)


def _load_or_start(output: Path, suite: Suite, profile: str) -> dict[str, Any]:
    path = output / RESULTS_JSON
    if path.is_file():
        record = json.loads(path.read_text())
        if (record.get("suite"), record.get("profile")) != (suite.name, profile):
            raise SuiteError(
                f"{path} holds suite {record.get('suite')!r} profile {record.get('profile')!r}, not {suite.name!r} "
                f"profile {profile!r}; use another --output folder"
            )
        record["description"] = suite.description  # the suite file may have been edited since
        record["profile_description"] = suite.profile(profile).description
        record["wall_s_before"] = record.get("wall_s", 0.0)
        record["resumed"] = record.get("resumed", 0) + 1
        # versions and machine stay those of the first session; each session is listed with its own
        record.setdefault("sessions", []).append(
            {"started": environment.now(), "versions": environment.versions(), "machine": environment.machine()}
        )
        return record
    return {
        "suite": suite.name,
        "profile": profile,
        "description": suite.description,
        "profile_description": suite.profile(profile).description,
        "suite_file": str(suite.path) if suite.path else None,
        "metric_split": suite.metric_split,
        "seeds": list(suite.profile(profile).seeds),
        "started": environment.now(),
        "finished": None,
        "wall_s": 0.0,
        "versions": environment.versions(),
        "machine": environment.machine(),
        "cells": [],
    }


def _ordered_keys(done: dict[str, Any], cells: Sequence[Cell]) -> list[str]:
    """Keys of this run's cells in suite order, then any cells kept from earlier runs (other --only)."""
    current = [c.key for c in cells if c.key in done]
    return current + [k for k in done if k not in set(current)]


def _jsonable(value: Any) -> Any:
    """Plain JSON types (tuples → lists, numpy scalars → floats) so that resume compares like with like."""
    return json.loads(json.dumps(value, default=float))


def _is_numeric(value: Any) -> bool:
    """A number or a flat list of numbers (throughputs, epoch counts) worth keeping from ``RunResult.details``."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return bool(items) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items)
