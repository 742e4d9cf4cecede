"""Chemprop 2.3.1 as a baseline on the very cells of a suite: same rows, same split, same seed, same epochs.

For each dataset × seed × split of a finished suite, the Chemprop CLI trains its default architecture on the
rows of the molgen cell's ``splits.json`` (train/val/test input rows, passed as Chemprop's ``--splits-file``)
for the cell's ``trainer.max_epochs`` (and its early-stopping ``trainer.patience``), with ``--pytorch-seed`` = the cell's seed and the same torch thread
count; its test predictions are scored with molgen's own metric code (:func:`compute_metrics`), so the two
columns of ``results.md`` differ only in the model and its training.

Chemprop runs in its own virtual environment (``chemprop_python``), created on first use: torch first, the
release installed here (so pip never swaps in another build), then ``chemprop==2.3.1``. A machine where that
fails (no network, no wheel) gets a :class:`BaselineUnavailable` with pip's reason; the suite's molgen cells
are unaffected. One failed Chemprop run is recorded with its error and log path, and the others go on.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import time
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from molgen.errors import MolgenError

__all__ = [
    "CHEMPROP_VERSION",
    "BaselineUnavailable",
    "chemprop_python",
    "default_venv",
    "run_baselines",
    "run_chemprop_baseline",
]

CHEMPROP_VERSION = "2.3.1"
CHEMPROP_TASK_TYPES = {"regression": "regression", "binary": "classification", "multilabel": "classification"}
"""molgen task type → Chemprop ``--task-type`` (multiclass is not compared)."""


class BaselineUnavailable(MolgenError):
    """The baseline's environment cannot be created or used here; the message says why."""


def chemprop_python(venv_dir: Path, *, log: Callable[[str], None] = print) -> Path:
    """The python of ``venv_dir`` with chemprop 2.3.1 in it, creating the environment on first use.

    Raises:
        BaselineUnavailable: creating the environment or installing into it failed (pip's last lines).
    """
    python = venv_dir / "bin" / "python"
    if _chemprop_version(python) == CHEMPROP_VERSION:
        return python
    import torch

    torch_spec = f"torch=={torch.__version__.split('+')[0]}"
    log(f"creating the Chemprop {CHEMPROP_VERSION} environment in {venv_dir} ({torch_spec} first)")
    try:
        venv.create(venv_dir, with_pip=True, clear=python.exists())
    except (OSError, subprocess.CalledProcessError) as err:
        raise BaselineUnavailable(f"cannot create a virtual environment in {venv_dir}: {err}") from None
    for spec in (torch_spec, f"chemprop=={CHEMPROP_VERSION}"):
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", spec],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            reason = " ".join(done.stderr.strip().splitlines()[-2:]) or f"exit status {done.returncode}"
            raise BaselineUnavailable(f"pip install {spec} into {venv_dir} failed: {reason}")
    if _chemprop_version(python) != CHEMPROP_VERSION:
        raise BaselineUnavailable(f"chemprop {CHEMPROP_VERSION} does not import in {venv_dir}")
    return python


def _chemprop_version(python: Path) -> str | None:
    if not python.is_file():
        return None
    probe = [str(python), "-c", "import chemprop; print(chemprop.__version__)"]
    found = subprocess.run(probe, capture_output=True, text=True, check=False)
    return found.stdout.strip() if found.returncode == 0 else None


def split_key(run_dir: Path) -> str:
    """A short hash of the cell's train/val/test rows: cells with equal keys share one Chemprop run."""
    folds = json.loads((run_dir / "splits.json").read_text())["folds"]
    return hashlib.sha256(json.dumps(folds, sort_keys=True).encode()).hexdigest()[:12]


def run_chemprop_baseline(
    run_dir: Path, work: Path, python: Path, *, metric: str, threads: int | None = None
) -> dict[str, Any]:
    """Trains and tests Chemprop on the rows and split of the molgen run ``run_dir``; never raises.

    Args:
        run_dir: a finished molgen run folder (``config.yaml``, ``splits.json``).
        work: Chemprop's folder for this run (its data, splits file, model and ``chemprop.log``).
        python: the Chemprop environment's python (:func:`chemprop_python`).
        metric: the molgen metric to score the test predictions with (``rmse``, ``roc_auc`` …).
        threads: torch threads for Chemprop (default: this process's).

    Returns:
        ``{"status": "ok"|"failed", "value", "metrics", "wall_s", "epochs", "seed", "log", "error"}``.
    """
    log_path = work / "chemprop.log"
    entry: dict[str, Any] = {"status": "failed", "value": None, "metrics": {}, "log": str(log_path), "error": None}
    start = time.perf_counter()
    try:
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        job = _write_inputs(run_dir, work)
        entry.update(
            seed=job["seed"],
            epochs=job["epochs"],
            patience=job["patience"],
            n_rows={k: len(v) for k, v in job["rows"].items()},
        )
        _train(python, job, work, log_path, threads)
        predictions = _test_predictions(work / "model")
        entry["metrics"] = _score(predictions, job, metric)
        entry["value"] = entry["metrics"][metric]
        entry["status"] = "ok" if math.isfinite(entry["value"]) else "failed"
        if entry["status"] == "failed":
            entry["error"] = f"{metric} is {entry['value']}"
    except Exception as err:  # one failed baseline run is recorded; the suite goes on
        entry["error"] = f"{type(err).__name__}: {err}"
    entry["wall_s"] = time.perf_counter() - start
    return entry


def _write_inputs(run_dir: Path, work: Path) -> dict[str, Any]:
    """``data.csv`` (the split's rows: train, then val, then test), ``splits.json`` in Chemprop's format."""
    import pandas as pd

    from molgen.config import RunConfig
    from molgen.data.catalog import catalog_entry
    from molgen.data.sources import resolve
    from molgen.data.tables import load_molecule_table

    cfg = RunConfig.from_dict(yaml.safe_load((run_dir / "config.yaml").read_text()), where=str(run_dir))
    task_type = cfg.task.type or "regression"
    if task_type not in CHEMPROP_TASK_TYPES:
        raise BaselineUnavailable(f"a {task_type} task is not compared with Chemprop")
    spec = catalog_entry(str(cfg.data.name), "molecule table")
    source: Any = resolve(spec.remote) if spec is not None else Path(str(cfg.data.name))
    targets = list(cfg.data.target_columns or [])
    table = load_molecule_table(
        source,
        str(cfg.data.smiles_column),
        targets,
        class_labels=task_type != "regression",
        positive_class=cfg.task.positive_class,
    )
    frame = table.frame if cfg.data.max_rows is None else table.frame.iloc[: cfg.data.max_rows]
    fold = json.loads((run_dir / "splits.json").read_text())["folds"][0]
    rows = {part: [int(i) for i in fold[part]] for part in ("train", "val", "test")}
    ordered = rows["train"] + rows["val"] + rows["test"]
    names = [f"target_{t}" for t in range(len(targets))]  # Chemprop's CLI splits column names on commas
    data = pd.DataFrame({"smiles": frame[str(cfg.data.smiles_column)].iloc[ordered].to_numpy()})
    for name, target in zip(names, targets, strict=True):
        data[name] = frame[target].iloc[ordered].to_numpy(dtype=float)
    data.to_csv(work / "data.csv", index=False)
    n_train, n_val = len(rows["train"]), len(rows["val"])
    positions = {
        "train": list(range(n_train)),
        "val": list(range(n_train, n_train + n_val)),
        "test": list(range(n_train + n_val, len(ordered))),
    }
    (work / "splits.json").write_text(json.dumps([positions]))
    return {
        "task_type": task_type,
        "chemprop_task": CHEMPROP_TASK_TYPES[task_type],
        "targets": names,
        "target_labels": targets,
        "seed": cfg.trainer.seed,
        "epochs": cfg.trainer.max_epochs,
        "patience": cfg.trainer.patience,
        "rows": rows,
        "test_targets": data[names].iloc[positions["test"]].to_numpy(dtype=float),
    }


def _train_command(python: Path, job: dict[str, Any], work: Path) -> list[str]:
    """The ``chemprop train`` command line of one job: its rows, split, seed and epoch budget."""
    command = [
        str(python.parent / "chemprop"),  # the CLI's entry point (the package has no __main__)
        "train",
        "--data-path",
        str(work / "data.csv"),
        "--smiles-columns",
        "smiles",
        "--target-columns",
        *job["targets"],
        "--task-type",
        job["chemprop_task"],
        "--splits-file",
        str(work / "splits.json"),
        "--epochs",
        str(job["epochs"]),
        "--pytorch-seed",
        str(job["seed"]),
        "--num-workers",
        "0",
        "--accelerator",
        "cpu",
        "--devices",
        "1",
        "--save-dir",
        str(work / "model"),
    ]
    if job["patience"]:  # the cell's early stopping (Chemprop monitors its validation loss)
        command += ["--patience", str(job["patience"])]
    return command


def _train(python: Path, job: dict[str, Any], work: Path, log_path: Path, threads: int | None) -> None:
    import torch

    command = _train_command(python, job, work)
    n_threads = str(threads or torch.get_num_threads())
    env = {**os.environ, "OMP_NUM_THREADS": n_threads, "MKL_NUM_THREADS": n_threads, "PYTHONWARNINGS": "ignore"}
    with log_path.open("w") as log:
        log.write(" ".join(command) + "\n")
        log.flush()
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env, check=False)
    if done.returncode != 0:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or [""]
        raise RuntimeError(f"chemprop train exited with {done.returncode}: {tail[0][:300]}")


def _test_predictions(save_dir: Path) -> Any:
    """Chemprop's test-set predictions (``model_0/test_predictions.csv`` under the save dir)."""
    import pandas as pd

    found = sorted(save_dir.rglob("test_predictions.csv"))
    if not found:
        raise RuntimeError(f"chemprop wrote no test_predictions.csv under {save_dir}")
    return pd.read_csv(found[0])


def _score(predictions: Any, job: dict[str, Any], metric: str) -> dict[str, float]:
    import torch

    from molgen.evaluation.supervised import compute_metrics, metric_registry

    registry = metric_registry(job["task_type"])
    names = job["targets"]
    if len(predictions) != len(job["test_targets"]):
        raise RuntimeError(f"chemprop predicted {len(predictions)} test rows, the split has {len(job['test_targets'])}")
    preds = torch.tensor(predictions[names].to_numpy(dtype=float))
    targets = torch.tensor(job["test_targets"])
    chosen = [registry.get(metric)]
    chosen += [registry.get(m) for m in registry.names() if m != metric]
    return compute_metrics(chosen, preds, targets, target_names=job["target_labels"], split="test")


def default_venv() -> Path:
    """Where the Chemprop environment lives unless told: ``<molgen cache>/chemprop-<version>-py<X.Y>``."""
    from molgen.data.sources import cache_dir

    return cache_dir() / f"chemprop-{CHEMPROP_VERSION}-py{sys.version_info.major}.{sys.version_info.minor}"


def run_baselines(
    record: dict[str, Any],
    output: Path,
    *,
    venv_dir: Path | None = None,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Runs Chemprop once per distinct split of the suite's finished molgen cells and records it in
    ``record["baseline"]`` (``cells``: one entry per split key; each molgen cell gets its ``baseline_key``).

    Splits already run with the same epochs and patience are kept (a rerun resumes). An environment that cannot be created
    is recorded as ``status: unavailable`` with the reason; the molgen results are untouched.
    """
    from molgen.benchmarking.runner import save_results

    baseline = record.setdefault("baseline", {"name": "chemprop", "version": CHEMPROP_VERSION, "cells": {}})
    try:
        python = chemprop_python(venv_dir or default_venv(), log=progress)
    except BaselineUnavailable as err:
        baseline.update(status="unavailable", reason=str(err))
        progress(f"chemprop baseline skipped: {err}")
        return record
    baseline.update(status="ok", reason=None)
    cells = [c for c in record["cells"] if c["status"] == "ok"]
    for i, cell in enumerate(cells, 1):
        run_dir = output / cell["run_dir"]
        key = f"{cell['dataset']}-seed{cell['seed']}-{split_key(run_dir)}"
        cell["baseline_key"] = key
        done = baseline["cells"].get(key)
        trainer = yaml.safe_load((run_dir / "config.yaml").read_text())["trainer"]
        budget = (trainer["max_epochs"], trainer.get("patience", 0))
        if done and done["status"] == "ok" and (done.get("epochs"), done.get("patience", 0)) == budget:
            continue
        entry = run_chemprop_baseline(run_dir, output / "chemprop" / key, python, metric=cell["metric"])
        baseline["cells"][key] = entry
        save_results(output, record)  # an interrupted baseline resumes after its last finished run
        shown = f"{cell['metric']} {entry['value']:.4f}" if entry["status"] == "ok" else f"FAILED ({entry['error']})"
        progress(f"[chemprop {i}/{len(cells)}] {key}: {shown} ({entry['wall_s']:.0f} s)")
    return record
