"""Benchmark suites: datasets × models × seeds × one metric, with named profiles, loaded strictly from YAML.

A suite file looks like this (every key is checked; an unknown one is an error listing the valid ones)::

    name: moleculenet
    description: MoleculeNet with Chemprop's splits
    metric_split: test                 # which metrics.json section holds the scored metric
    set: {data.on_invalid: skip}       # dotted RunConfig overrides for every cell
    datasets:
      - {name: esol, split: random}    # metric: default = the catalog's headline metric
      - {name: hiv, split: scaffold, set: {data.batch_size: 128}}
    models: [dmpnn, gin, {name: attentivefp, set: {model.depth: 2}},
             {name: dmpnn-pretrained, model: dmpnn, set: {optim.init_from: "molgen:dmpnn-pretrained"}}]
    profiles:
      full: {seeds: [0, 1, 2], set: {trainer.max_epochs: 30}}
      ci:
        seeds: [0]
        set: {trainer.max_epochs: 8}
        datasets: {hiv: {data.max_rows: 2000}}
        exclude: [hiv/attentivefp]
        thresholds:
          esol/dmpnn: {max: 1.30, measured: 1.05, measured_on: 2026-11-23}

A cell is ``dataset/model`` at one seed; its run config is the RunConfig defaults with, in this order, the
suite's ``set``, the dataset's, the model's, the profile's ``set``, the profile's per-dataset and
per-model overrides, and finally the cell's own data name, split, model name, seed and output folder.
"""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from molgen.config import ConfigError, RunConfig

SUITE_KEYS = ("name", "description", "metric_split", "set", "datasets", "models", "profiles")
DATASET_KEYS = ("name", "split", "metric", "higher_is_better", "set", "note")
MODEL_KEYS = ("name", "model", "set", "note")
PROFILE_KEYS = ("description", "seeds", "set", "datasets", "models", "exclude", "thresholds")
THRESHOLD_KEYS = ("min", "max", "measured", "measured_on", "note")
PROFILES = ("ci", "full")
"""Every suite defines both: ``ci`` (minutes on a 2-core CPU, with thresholds) and ``full`` (paper settings)."""


class SuiteError(ConfigError):
    """A suite file that cannot be used; the message names the file, the key and the valid choices."""


@dataclasses.dataclass(frozen=True)
class DatasetEntry:
    name: str
    """A catalog name or a table path (relative paths are resolved against the suite file's folder)."""
    split: str | None = None
    metric: str | None = None
    """The scored metric (a key of metrics.json's ``metric_split`` section); default: the catalog's headline."""
    higher_is_better: bool | None = None
    """Direction of ``metric`` when molgen cannot tell it from the metric name."""
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    note: str = ""


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str
    """The label of the model's cells (``esol/<name>``); also its architecture unless ``architecture`` says."""
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    note: str = ""
    architecture: str | None = None
    """The ``model.name`` it trains when the label names a variant (``dmpnn-pretrained`` → ``dmpnn``)."""


@dataclasses.dataclass(frozen=True)
class Threshold:
    """The gate of one ``dataset/model`` cell: the mean over seeds must stay within [min, max]."""

    min: float | None = None
    max: float | None = None
    measured: float | None = None
    """The value this threshold was derived from (documentation only)."""
    measured_on: str | None = None
    note: str = ""

    def violation(self, value: float) -> str | None:
        """A sentence saying how ``value`` crosses the threshold, or None when it passes."""
        if math.isnan(value):  # NaN never passes
            return "the metric is NaN"
        if self.min is not None and value < self.min:
            return f"{value:.4f} < min {self.min}"
        if self.max is not None and value > self.max:
            return f"{value:.4f} > max {self.max}"
        return None


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    description: str = ""
    seeds: tuple[int, ...] = (0,)
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    dataset_overrides: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    model_overrides: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    """``dataset/model`` patterns (``*`` wildcards) left out of this profile."""
    thresholds: Mapping[str, Threshold] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Cell:
    """One run of the suite: a dataset × model at one seed, with its complete override set."""

    dataset: DatasetEntry
    model: ModelEntry
    seed: int
    overrides: Mapping[str, Any]

    @property
    def key(self) -> str:
        return f"{self.group}/seed{self.seed}"

    @property
    def group(self) -> str:
        """``dataset/model``: the unit of reporting and thresholds (seeds are aggregated)."""
        return f"{self.dataset_label}/{self.model.name}"

    @property
    def dataset_label(self) -> str:
        return dataset_label(self.dataset.name)

    def config(self, output: Path | str) -> RunConfig:
        """The run config of this cell, writing its run folder to ``output``."""
        return RunConfig().with_values({**self.overrides, "output": str(output)}, where=f"benchmark cell {self.key}")


@dataclasses.dataclass(frozen=True)
class Suite:
    name: str
    description: str
    datasets: tuple[DatasetEntry, ...]
    models: tuple[ModelEntry, ...]
    profiles: Mapping[str, Profile]
    metric_split: str = "test"
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    path: Path | None = None

    def profile(self, name: str) -> Profile:
        if name not in self.profiles:
            raise SuiteError(f"suite {self.name!r} has no profile {name!r}; valid profiles: {', '.join(self.profiles)}")
        return self.profiles[name]

    def cells(self, profile: str, only: Sequence[str] = (), seeds: Sequence[int] | None = None) -> list[Cell]:
        """Every cell of ``profile`` (dataset-major, then model, then seed), restricted to ``only`` patterns;
        ``seeds`` replaces the profile's (e.g. the ci cells at three seeds, to measure their spread)."""
        prof = self.profile(profile)
        cells = []
        for dataset in self.datasets:
            for model in self.models:
                group = f"{dataset_label(dataset.name)}/{model.name}"
                if any(fnmatch.fnmatchcase(group, pattern) for pattern in prof.exclude):
                    continue
                if only and not any(_matches(group, pattern) for pattern in only):
                    continue
                for seed in prof.seeds if seeds is None else seeds:
                    overrides = {
                        **self.overrides,
                        **dataset.overrides,
                        **model.overrides,
                        **prof.overrides,
                        **prof.dataset_overrides.get(dataset_label(dataset.name), {}),
                        **prof.model_overrides.get(model.name, {}),
                        "data.name": dataset.name,
                        "model.name": model.architecture or model.name,
                        "trainer.seed": seed,
                    }
                    if dataset.split is not None:
                        overrides["data.split"] = dataset.split
                    cells.append(Cell(dataset, model, seed, overrides))
        if only and not cells:
            groups = [f"{dataset_label(d.name)}/{m.name}" for d in self.datasets for m in self.models]
            raise SuiteError(
                f"--only {' '.join(only)} matches no cell of suite {self.name!r}; cells: {', '.join(groups)}"
            )
        return cells


def dataset_label(name: str) -> str:
    """The short name of a dataset in cell keys: the catalog name, or a table file's stem."""
    stem = Path(name).name
    for suffix in (".gz", ".csv", ".tsv", ".parquet", ".sdf", ".fa", ".fasta"):
        stem = stem.removesuffix(suffix)
    return stem


def _matches(group: str, pattern: str) -> bool:
    """``--only`` patterns: ``esol/dmpnn``, ``esol`` (every model), ``*/gin``; ``*`` wildcards allowed."""
    return fnmatch.fnmatchcase(group, pattern if "/" in pattern else f"{pattern}/*")


def find_suite(name_or_path: str | Path, search_dir: Path | None = None) -> Path:
    """A suite YAML path: an existing file, or ``<search_dir>/<name>.yaml`` (default: the repo's benchmarks/)."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise SuiteError(f"suite file not found: {path}")
        return path
    folders = [search_dir] if search_dir else default_suite_dirs()
    for folder in folders:
        candidate = folder / f"{name_or_path}.yaml"
        if candidate.is_file():
            return candidate
    known = sorted({p.stem for folder in folders if folder.is_dir() for p in folder.glob("*.yaml")})
    raise SuiteError(
        f"unknown suite {str(name_or_path)!r}; suites in {', '.join(map(str, folders))}: "
        f"{', '.join(known) or 'none'} (or pass a YAML path)"
    )


def default_suite_dirs() -> list[Path]:
    """``./benchmarks``, then ``benchmarks/`` of the source checkout molgen runs from (suites are data files
    of the repository, not of the installed package)."""
    checkout = Path(__file__).resolve().parents[3] / "benchmarks"
    here = Path.cwd() / "benchmarks"
    return [here] if here.resolve() == checkout.resolve() else [here, checkout]


def load_suite(path: str | Path) -> Suite:
    """Parses and validates a suite file; every problem names the file and the key."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise SuiteError(f"{path}: not valid YAML: {err}") from None
    where = str(path)
    top = _mapping(raw, where, "top level", SUITE_KEYS, required=("name", "datasets", "models", "profiles"))
    overrides = _overrides(top.get("set", {}), where, "set")
    datasets = tuple(
        _dataset(item, where, i, path.parent) for i, item in enumerate(_list(top["datasets"], where, "datasets"))
    )
    models = tuple(_model(item, where, i) for i, item in enumerate(_list(top["models"], where, "models")))
    _unique([dataset_label(d.name) for d in datasets], where, "datasets")
    _unique([m.name for m in models], where, "models")
    profiles_raw = _mapping(top["profiles"], where, "profiles", PROFILES, required=PROFILES)
    profiles = {name: _profile(name, profiles_raw[name], where, datasets, models) for name in PROFILES}
    metric_split = top.get("metric_split", "test")
    if metric_split not in ("test", "val"):
        raise SuiteError(f"{where}: metric_split must be test or val, got {metric_split!r}")
    suite = Suite(
        str(top["name"]),
        str(top.get("description", "")),
        datasets,
        models,
        profiles,
        metric_split=metric_split,
        overrides=overrides,
        path=path,
    )
    for profile in PROFILES:  # every override key must exist in RunConfig: fail now, not after an hour of runs
        for cell in suite.cells(profile):
            try:
                cell.config("check")
            except ConfigError as err:
                raise SuiteError(f"{where}: profile {profile}, cell {cell.group}: {err}") from None
    return suite


def _dataset(item: Any, where: str, i: int, base: Path) -> DatasetEntry:
    if isinstance(item, str):
        item = {"name": item}
    entry = _mapping(item, where, f"datasets[{i}]", DATASET_KEYS, required=("name",))
    name = str(entry["name"])
    if any(name.endswith(s) for s in (".csv", ".tsv", ".parquet", ".sdf", ".gz", ".fa", ".fasta")):
        local = Path(name)
        name = str(local if local.is_absolute() else (base / local).resolve())
    hib = entry.get("higher_is_better")
    if hib is not None and not isinstance(hib, bool):
        raise SuiteError(f"{where}: datasets[{i}].higher_is_better must be true or false")
    return DatasetEntry(
        name,
        entry.get("split"),
        entry.get("metric"),
        hib,
        _overrides(entry.get("set", {}), where, f"datasets[{i}].set"),
        str(entry.get("note", "")),
    )


def _model(item: Any, where: str, i: int) -> ModelEntry:
    if isinstance(item, str):
        item = {"name": item}
    entry = _mapping(item, where, f"models[{i}]", MODEL_KEYS, required=("name",))
    return ModelEntry(
        str(entry["name"]),
        _overrides(entry.get("set", {}), where, f"models[{i}].set"),
        str(entry.get("note", "")),
        str(entry["model"]) if "model" in entry else None,
    )


def _profile(
    name: str, raw: Any, where: str, datasets: Sequence[DatasetEntry], models: Sequence[ModelEntry]
) -> Profile:
    at = f"profiles.{name}"
    entry = _mapping(raw or {}, where, at, PROFILE_KEYS)
    seeds = entry.get("seeds", [0])
    if (
        not isinstance(seeds, list)
        or not seeds
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
    ):
        raise SuiteError(f"{where}: {at}.seeds must be a non-empty list of integers, got {seeds!r}")
    dataset_names = [dataset_label(d.name) for d in datasets]
    model_names = [m.name for m in models]
    per_dataset = _named_overrides(entry.get("datasets", {}), where, f"{at}.datasets", dataset_names)
    per_model = _named_overrides(entry.get("models", {}), where, f"{at}.models", model_names)
    exclude = tuple(str(p) for p in _list(entry.get("exclude", []), where, f"{at}.exclude"))
    groups = [f"{d}/{m}" for d in dataset_names for m in model_names]
    for pattern in exclude:
        if not any(fnmatch.fnmatchcase(g, pattern) for g in groups):
            raise SuiteError(f"{where}: {at}.exclude pattern {pattern!r} matches no cell; cells: {', '.join(groups)}")
    thresholds = {}
    for group, spec in _mapping(entry.get("thresholds", {}), where, f"{at}.thresholds").items():
        if group not in groups:
            raise SuiteError(f"{where}: {at}.thresholds: unknown cell {group!r}; cells: {', '.join(groups)}")
        thresholds[group] = _threshold(spec, where, f"{at}.thresholds.{group}")
    return Profile(
        name,
        str(entry.get("description", "")),
        tuple(seeds),
        _overrides(entry.get("set", {}), where, f"{at}.set"),
        per_dataset,
        per_model,
        exclude,
        thresholds,
    )


def _threshold(raw: Any, where: str, at: str) -> Threshold:
    entry = _mapping(raw, where, at, THRESHOLD_KEYS)
    values = {}
    for key in ("min", "max", "measured"):
        value = entry.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise SuiteError(f"{where}: {at}.{key} must be a number, got {value!r}")
        values[key] = None if value is None else float(value)
    if values["min"] is None and values["max"] is None:
        raise SuiteError(f"{where}: {at} needs min or max")
    measured_on = entry.get("measured_on")
    if isinstance(measured_on, (datetime.date, datetime.datetime)):
        measured_on = measured_on.isoformat()
    return Threshold(
        values["min"],
        values["max"],
        values["measured"],
        None if measured_on is None else str(measured_on),
        str(entry.get("note", "")),
    )


def _named_overrides(raw: Any, where: str, at: str, valid: Sequence[str]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, values in _mapping(raw, where, at).items():
        if name not in valid:
            raise SuiteError(f"{where}: {at}: unknown name {name!r}; valid names: {', '.join(valid)}")
        out[name] = _overrides(values, where, f"{at}.{name}")
    return out


def _overrides(raw: Any, where: str, at: str) -> dict[str, Any]:
    """Dotted RunConfig keys → values; unknown keys are caught when the cells' configs are built."""
    values = _mapping(raw or {}, where, at)
    for key in values:
        if not isinstance(key, str) or not key:
            raise SuiteError(f"{where}: {at}: keys must be dotted config keys like trainer.max_epochs, got {key!r}")
    return dict(values)


def _mapping(
    raw: Any, where: str, at: str, valid: Sequence[str] | None = None, required: Sequence[str] = ()
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: {at} must be a mapping, got {type(raw).__name__}")
    if valid is not None:
        unknown = sorted(str(k) for k in raw if k not in valid)
        if unknown:
            raise SuiteError(f"{where}: unknown key(s) {', '.join(unknown)} in {at}; valid keys: {', '.join(valid)}")
    missing = [k for k in required if k not in raw]
    if missing:
        raise SuiteError(f"{where}: {at} is missing {', '.join(missing)}")
    return raw


def _list(raw: Any, where: str, at: str) -> list[Any]:
    if not isinstance(raw, list):
        raise SuiteError(f"{where}: {at} must be a list, got {type(raw).__name__}")
    return raw


def _unique(names: Sequence[str], where: str, at: str) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SuiteError(f"{where}: {at} lists {', '.join(duplicates)} more than once")
