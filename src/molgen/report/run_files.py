"""Reads what a report shows from a run folder, and nothing else: ``config.yaml``, ``splits.json``,
``metrics.json``, ``predictions/test.csv``, the Lightning CSV logs ``logs/**/metrics.csv``, ``model/model.yaml``
and ``model/README.md``. Every file but ``config.yaml`` is optional (a run stopped early, or trained without
export, still gets a report of what it has)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from molgen.errors import InvalidInputError

CONFIG_FILE = "config.yaml"


@dataclass
class RunFiles:
    """The contents of one run folder.

    Attributes:
        curves: ``(member tag, Lightning's metrics.csv)`` per trained member; the tag is the log folder
            relative to ``logs/`` (``fold_0/member_1``; ``""`` for a single member).
        task_type: regression | binary | multilabel | multiclass (from model.yaml, else config.yaml; "" when
            neither says, e.g. a generator).
        targets: the target names (model.yaml, else config.yaml's ``data.target_columns``).
    """

    run_dir: Path
    config: dict[str, Any]
    splits: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    predictions: pd.DataFrame | None = None
    curves: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    model_spec: dict[str, Any] = field(default_factory=dict)
    model_card: str | None = None
    task_type: str = ""
    targets: list[str] = field(default_factory=list)

    @property
    def family(self) -> str:
        return str(self.config.get("family") or self.model_spec.get("family") or "")


def read_run(run_dir: str | Path) -> RunFiles:
    """The run folder's files; :class:`InvalidInputError` when ``run_dir`` is not a run folder or a file in it
    cannot be read (the message names the file)."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG_FILE).is_file():
        what = "does not exist" if not run_dir.exists() else f"has no {CONFIG_FILE}"
        raise InvalidInputError(f"{run_dir} is not a run folder: it {what} (give the --output of molgen train)")
    run = RunFiles(run_dir=run_dir, config=_yaml(run_dir / CONFIG_FILE) or {})
    run.splits = _json(run_dir / "splits.json")
    run.metrics = _json(run_dir / "metrics.json")
    run.model_spec = _yaml(run_dir / "model" / "model.yaml") or {}
    card = run_dir / "model" / "README.md"
    run.model_card = card.read_text(encoding="utf-8") if card.is_file() else None
    test_csv = run_dir / "predictions" / "test.csv"
    if test_csv.is_file():
        run.predictions = _csv(test_csv)
    logs = run_dir / "logs"
    for path in sorted(logs.rglob("metrics.csv")) if logs.is_dir() else []:
        tag = path.parent.relative_to(logs).as_posix()
        run.curves.append(("" if tag == "." else tag, _csv(path)))
    task = run.model_spec.get("task") or {}
    config_task = run.config.get("task") or {}
    run.task_type = str(task.get("type") or config_task.get("type") or "")
    run.targets = [str(t) for t in task.get("targets") or (run.config.get("data") or {}).get("target_columns") or []]
    return run


def _json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise InvalidInputError(f"{path} line {err.lineno} column {err.colno}: not valid JSON: {err.msg}") from None
    if not isinstance(value, dict):
        raise InvalidInputError(f"{path}: expected a JSON object at the top level")
    return value


def _yaml(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        value = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        raise InvalidInputError(f"{path}{where}: not valid YAML") from None
    if value is not None and not isinstance(value, dict):
        raise InvalidInputError(f"{path}: expected a mapping at the top level")
    return value


def _csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InvalidInputError(f"{path}: cannot be read as CSV: {err}") from None
