"""Public datasets by name: file (URL + sha256), columns, task, default split, metric, published results.

The entries are package data: ``molgen/data/catalog_data/datasets.yaml``, with the 617 ToxCast assay columns
in ``toxcast_targets.yaml`` next to it; that file says where its values come from. It is read on the first
lookup, not at import. Each entry is validated by :class:`_EntryFile` (unknown keys, and a kind, task type or
split outside its closed set, are errors) and becomes a frozen :class:`DatasetSpec`.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from molgen.config import DataConfig, replace
from molgen.data.sources import RemoteFile
from molgen.data.splits import SPLIT_TYPES
from molgen.errors import UnknownNameError
from molgen.registry import Registry

__all__ = ["KINDS", "TASK_TYPES", "DatasetSpec", "Reference", "dataset_names", "get_dataset"]

TaskType = Literal["regression", "binary", "multilabel", "multiclass", "generation"]
Kind = Literal["molecules", "sequences", "smiles"]
SplitType = Literal["random", "scaffold", "stratified", "predefined"]  # = molgen.data.splits.SPLIT_TYPES
TASK_TYPES: tuple[str, ...] = get_args(TaskType)
KINDS: tuple[str, ...] = get_args(Kind)

_DATA_PACKAGE = "molgen.data"
_DATA_FOLDER = "catalog_data"
_CATALOG_FILE = "datasets.yaml"


@dataclass(frozen=True)
class Reference:
    """A published result: ``value`` (± ``std``) of ``metric`` for ``model`` on a ``split`` split."""

    model: str
    metric: str
    value: float
    std: float | None
    split: str
    source: str  # citation + URL/DOI


@dataclass(frozen=True)
class DatasetSpec:
    """Everything needed to load, split and score a public dataset."""

    name: str
    description: str
    remote: RemoteFile
    input_column: str
    target_columns: tuple[str, ...]
    task_type: str  # regression | binary | multilabel | multiclass
    default_split: str  # random | scaffold | stratified | predefined
    metric: str  # headline metric, lowercase: rmse | mae | roc_auc | pr_auc | ...
    split_column: str | None = None  # column of a predefined split (train/valid/test values)
    references: tuple[Reference, ...] = ()
    citation: str = ""
    license: str = ""
    kind: str = "molecules"
    extra_files: tuple[RemoteFile, ...] = ()  # further files of a dataset assembled from several (see description)

    def __post_init__(self) -> None:
        if self.task_type not in TASK_TYPES:
            raise ValueError(f"{self.name}: task_type must be one of {TASK_TYPES}, got {self.task_type!r}")
        if self.default_split not in SPLIT_TYPES:
            raise ValueError(f"{self.name}: default_split must be one of {SPLIT_TYPES}, got {self.default_split!r}")
        if self.default_split == "predefined" and not self.split_column:
            raise ValueError(f"{self.name}: a predefined default split needs split_column")
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.input_column in self.target_columns or len(set(self.target_columns)) != len(self.target_columns):
            raise ValueError(f"{self.name}: input and target columns must be distinct")

    def to_dict(self) -> dict:
        """A JSON-able description (for ``molgen datasets info``)."""
        d = asdict(self)
        d["target_columns"] = list(self.target_columns)
        d["references"] = [asdict(r) for r in self.references]
        d["extra_files"] = [asdict(f) for f in self.extra_files]
        d["n_targets"] = len(self.target_columns)
        return d


# --- the schema of datasets.yaml -------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _RemoteFileEntry(_Strict):
    url: str
    sha256: str
    filename: str
    mirror_gzip: bool = False
    derived_from: str = ""

    def build(self) -> RemoteFile:
        return RemoteFile(self.url, self.sha256, self.filename, self.mirror_gzip, self.derived_from)


class _ReferenceEntry(_Strict):
    model: str
    metric: str
    value: float
    std: float | None
    split: SplitType
    source: str


class _EntryFile(_Strict):
    """One item of ``datasets:`` in datasets.yaml (the keys of :class:`DatasetSpec`; ``target_columns_file``
    instead of ``target_columns`` names a YAML file in the same folder that holds ``targets: [...]``)."""

    name: str
    kind: Kind = "molecules"
    description: str
    remote: _RemoteFileEntry
    extra_files: tuple[_RemoteFileEntry, ...] = ()
    input_column: str
    target_columns: tuple[str, ...] | None = None
    target_columns_file: str | None = None
    task_type: TaskType
    default_split: SplitType
    split_column: str | None = None
    metric: str
    references: tuple[_ReferenceEntry, ...] = ()
    citation: str = ""
    license: str = ""

    @model_validator(mode="after")
    def _one_source_of_targets(self) -> _EntryFile:
        if (self.target_columns is None) == (self.target_columns_file is None):
            raise ValueError("give exactly one of target_columns and target_columns_file")
        if self.name != self.name.strip().lower():
            raise ValueError(f"dataset names are lowercase without spaces, got {self.name!r}")
        return self

    def build(self) -> DatasetSpec:
        targets = self.target_columns
        if targets is None:
            assert self.target_columns_file is not None
            targets = _target_list(self.target_columns_file)
        return DatasetSpec(
            name=self.name,
            description=self.description,
            remote=self.remote.build(),
            input_column=self.input_column,
            target_columns=tuple(targets),
            task_type=self.task_type,
            default_split=self.default_split,
            metric=self.metric,
            split_column=self.split_column,
            references=tuple(Reference(**r.model_dump()) for r in self.references),
            citation=self.citation,
            license=self.license,
            kind=self.kind,
            extra_files=tuple(f.build() for f in self.extra_files),
        )


class _TargetsFile(_Strict):
    targets: tuple[str, ...]


class _CatalogFile(_Strict):
    datasets: tuple[_EntryFile, ...]


def _read_yaml(filename: str) -> Any:
    text = resources.files(_DATA_PACKAGE).joinpath(_DATA_FOLDER).joinpath(filename).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _target_list(filename: str) -> tuple[str, ...]:
    try:
        return _TargetsFile.model_validate(_read_yaml(filename)).targets
    except ValidationError as err:
        raise ValueError(f"catalog file {filename}: {err}") from None


def parse_catalog(data: Any) -> tuple[DatasetSpec, ...]:
    """The specs of a loaded datasets.yaml document (validated; duplicate names are an error)."""
    try:
        specs = tuple(entry.build() for entry in _CatalogFile.model_validate(data).datasets)
    except ValidationError as err:
        raise ValueError(f"catalog file {_CATALOG_FILE}: {err}") from None
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"catalog file {_CATALOG_FILE}: duplicate dataset names {duplicates}")
    return specs


@functools.cache
def _registry() -> Registry[DatasetSpec]:
    return Registry("dataset", {s.name: s for s in parse_catalog(_read_yaml(_CATALOG_FILE))})


def __getattr__(name: str) -> Any:  # DATASETS stays importable, read on first use
    if name == "DATASETS":
        return _registry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_dataset(name: str) -> DatasetSpec:
    """The spec of a public dataset (case-insensitive); a miss lists the valid names."""
    return _registry().get(name.strip().lower())


def dataset_names(kind: str | None = None) -> list[str]:
    """Sorted dataset names, optionally only those of one ``kind`` ("molecules", ...)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown dataset kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    registry = _registry()
    return [n for n in registry.names() if kind is None or registry.get(n).kind == kind]


def catalog_entry(name: str, files: str) -> DatasetSpec | None:
    """The catalog dataset ``name``, or None for a file path; ``files`` names the accepted files."""
    try:
        return get_dataset(name)
    except UnknownNameError as err:
        if Path(name).exists() or Path(name).suffix:
            return None
        raise UnknownNameError(f"{err}; or pass the path of a {files}") from None


def data_from_catalog(data: DataConfig, spec: DatasetSpec, input_key: str) -> DataConfig:
    """``data`` with its unset input column (``input_key``: ``smiles_column`` or ``sequence_column``), targets,
    split and split column taken from the catalog entry."""
    return replace(
        data,
        **{input_key: getattr(data, input_key) or spec.input_column},
        target_columns=data.target_columns or list(spec.target_columns),
        split=data.split or spec.default_split,
        split_column=data.split_column or spec.split_column,
    )
