"""Run-folder layout and the exported model: ``model.safetensors`` + ``model.yaml`` + ``README.md``.

An exported model never needs unpickling: weights are safetensors, the description (:class:`ModelSpec`)
is YAML of primitives with a ``format_version``. Ensemble members (or cross-validation folds) share one
file, their tensors prefixed ``members.<i>.``.

Formats: 1 (molgen ≤ 0.1: ``format: 1``, no ``format_version``) is upgraded when read; 2 is written today.

Integrity: ``model.yaml`` records the sha256 of each weights file (``sha256:``); loading recomputes it and refuses a
mismatch, and refuses non-finite weights. Folders written before the checksums existed load unverified (logged).
The folder is written atomically (built under a temporary name, then renamed), so a reader never sees half a model.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError
from safetensors import SafetensorError

if TYPE_CHECKING:  # torch is imported by the functions that move weights, so that reading a spec needs none
    import torch

    from molgen.config import RunConfig
    from molgen.data.catalog import DatasetSpec

from molgen import __version__, io
from molgen.errors import ModelFormatError

MODEL_DIR = "model"
WEIGHTS_FILE = "model.safetensors"
SPEC_FILE = "model.yaml"
CARD_FILE = "README.md"
FORMAT_VERSION = 2
"""The ``model.yaml`` format this molgen writes and the newest it reads."""

_PICKLE_MAGIC = (b"\x80", b"PK\x03\x04")  # pickle protocol 2+ / torch.save zip archive
log = logging.getLogger("molgen")


ModelLoadError = ModelFormatError  # the name this module used before molgen.errors


class _Open(BaseModel):
    """A spec section: its known fields typed, family-specific extras kept (and written back)."""

    model_config = ConfigDict(extra="allow")


class InputSpec(_Open):
    """What the model reads: ``kind`` smiles | dna, the table column; DNA: one-hot ``length``, ``n_value``, ``pad``."""

    kind: str
    column: str | None = None
    length: int | None = None
    n_value: str | None = None
    pad: str | None = None


class TaskSpec(_Open):
    """The task's ``describe()``: type, targets, metrics, classes, plus its state (e.g. ``target_mean``)."""

    type: str
    targets: list[str]
    metrics: list[str] = Field(default_factory=list)
    n_classes: int | None = None

    def state(self) -> dict[str, Any]:
        """The dict ``build_task(state=…)`` rebuilds the task from."""
        return self.model_dump()


class ReverseComplement(_Open):
    train_augment: bool = False
    predict_average: bool = False


class ModelSpec(_Open):
    """``model.yaml``: everything needed to rebuild an exported model, built by :func:`model_spec`.

    Supervised families fill ``input``, ``model`` (the model config), ``task`` and, for molecules,
    ``featurizer``; generators fill ``generator`` and their own extras (``tokenizer``, ``sizes`` …).
    """

    format_version: int = FORMAT_VERSION
    molgen_version: str = __version__
    ensemble_size: int = 1
    family: str
    input: InputSpec | None = None
    featurizer: dict[str, Any] | None = None
    reverse_complement: ReverseComplement | None = None
    model: dict[str, Any] | None = None
    task: TaskSpec | None = None
    generator: str | None = None
    trained_on: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = Field(default_factory=dict)
    applicability_domain: dict[str, Any] | None = None
    """Molecule models: ``radius``, ``n_bits``, ``threshold``, ``n_train`` of the training fingerprints stored in
    ``train_fingerprints.safetensors`` (absent in models exported before it existed)."""
    privacy: dict[str, Any] | None = None
    """DP-SGD models: ``epsilon`` spent, ``delta``, ``max_grad_norm``, ``noise_multiplier``, ``sample_rate``, ``steps``,
    ``accountant`` and the ``replaced_layers`` (rebuilt before the weights load)."""
    sha256: dict[str, str] = Field(default_factory=dict)
    """File name → sha256 hex digest of each weights file (empty in folders written before checksums)."""
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> str:
        """The ``model.yaml`` this spec was read from (for messages), or ``model.yaml``."""
        return str(self._source) if self._source is not None else SPEC_FILE

    def section(self, name: str) -> Any:
        """The section ``name`` (``task``, ``model``, ``input`` …); a :class:`ModelFormatError` naming the file
        when the ``model.yaml`` lacks it."""
        value = getattr(self, name, None)
        if value is None:
            raise ModelFormatError(f"{self.source}: missing key {name!r} (a {self.family} model needs it)")
        return value

    def to_yaml(self) -> str:
        values = {key: value for key, value in self.model_dump().items() if value is not None}  # absent sections
        if self.input is not None:  # a SMILES input has no length / padding
            values["input"] = self.input.model_dump(exclude_none=True)
        return yaml.safe_dump(values, sort_keys=False)


def read_spec(model_dir: str | Path) -> ModelSpec:
    """The :class:`ModelSpec` of a model folder, without loading weights (or torch)."""
    path = Path(model_dir) / SPEC_FILE
    try:
        return parse_spec(yaml.safe_load(path.read_text(encoding="utf-8")), path)
    except (OSError, yaml.YAMLError) as err:
        raise ModelLoadError(f"{path}: cannot read the model spec ({err})") from None


def parse_spec(values: Any, source: str | Path = SPEC_FILE) -> ModelSpec:
    """A :class:`ModelSpec` from the dict of a ``model.yaml``: format 1 is upgraded, a newer format refused."""
    if not isinstance(values, dict):
        raise ModelLoadError(f"{source}: not a molgen model spec (expected a mapping)")
    values = dict(values)
    version = values.pop("format_version", None)
    if version is None:  # format 1 wrote `format: 1` and nothing else that differs
        if values.pop("format", None) != 1:
            raise ModelLoadError(f"{source}: unsupported model format (no format_version)")
        version = 1
    if not isinstance(version, int) or version < 1:
        raise ModelLoadError(f"{source}: format_version must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise ModelLoadError(
            f"model.yaml format_version {version} is newer than this molgen understands ({FORMAT_VERSION}); upgrade molgen"
        )
    try:
        spec = ModelSpec.model_validate({**values, "format_version": FORMAT_VERSION})
    except ValidationError as err:
        raise ModelLoadError(f"{source}: invalid model spec: {_one_line(err)}") from None
    spec._source = Path(source)
    return spec


def _one_line(err: ValidationError) -> str:
    """Each problem as ``key: message``, on one line."""
    problems = []
    for error in err.errors():
        key = ".".join(str(part) for part in error["loc"])
        message = "missing key" if error["type"] == "missing" else error["msg"]
        problems.append(f"{key}: {message}")
    return "; ".join(problems)


def run_paths(run_dir: str | Path) -> dict[str, Path]:
    """The files every run folder holds."""
    run_dir = Path(run_dir)
    return {
        "config": run_dir / "config.yaml",
        "splits": run_dir / "splits.json",
        "metrics": run_dir / "metrics.json",
        "checkpoints": run_dir / "checkpoints",
        "model": run_dir / MODEL_DIR,
    }


def write_json(path: str | Path, data: Any) -> None:
    """Strict JSON (NaN → ``null``), written atomically."""
    io.write_json(path, data)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_model(
    model_dir: str | Path,
    members: Sequence[torch.nn.Module],
    spec: ModelSpec | Mapping[str, Any],
    card: str,
    folders: Mapping[str, Path] | None = None,
    arrays: Mapping[str, Mapping[str, np.ndarray]] | None = None,
) -> Path:
    """Writes the weights of every member, the spec (primitives) and a model card, all at once (the folder is
    built under a temporary name and swapped in).

    Args:
        members: trained modules with identical architecture (one per ensemble member or fold).
        spec: everything needed to rebuild the modules (input kind, featurizer, model sizes, task, …);
            its ``ensemble_size`` is set from ``members``.
        card: Markdown model card.
        folders: ``{name: folder}`` copied into the model folder (e.g. the autoencoder a LatentGAN samples with).
        arrays: ``{file name: {array name: numpy array}}`` written as more safetensors files (e.g. the training
            fingerprints), their sha256 recorded in ``model.yaml`` and checked by :func:`read_arrays`.
    """
    import shutil

    from safetensors.torch import save_file

    model_dir = Path(model_dir)
    tensors = {
        f"members.{i}.{name}": value.detach().cpu().contiguous()
        for i, member in enumerate(members)
        for name, value in member.state_dict().items()
    }
    values = spec.model_dump() if isinstance(spec, ModelSpec) else dict(spec)
    with io.atomic_dir(model_dir) as tmp:
        save_file(tensors, str(tmp / WEIGHTS_FILE), metadata={"molgen_version": __version__})
        checksums = {WEIGHTS_FILE: file_sha256(tmp / WEIGHTS_FILE)}
        if arrays:
            from safetensors.numpy import save_file as save_arrays

            for name, named in arrays.items():
                save_arrays({key: np.ascontiguousarray(value) for key, value in named.items()}, str(tmp / name))
                checksums[name] = file_sha256(tmp / name)
        full = ModelSpec.model_validate(
            {**values, "molgen_version": __version__, "ensemble_size": len(members), "sha256": checksums}
        )
        (tmp / SPEC_FILE).write_text(full.to_yaml(), encoding="utf-8")
        (tmp / CARD_FILE).write_text(card, encoding="utf-8")
        for name, folder in (folders or {}).items():
            shutil.copytree(folder, tmp / name)
    return model_dir


def model_folder(path: str | Path) -> Path:
    """The model folder ``path`` names: ``path`` itself, or the ``model/`` of a run folder."""
    path = Path(path)
    if not (path / SPEC_FILE).is_file() and (path / MODEL_DIR / SPEC_FILE).is_file():
        return path / MODEL_DIR
    return path


def read_model(model_dir: str | Path) -> tuple[ModelSpec, list[dict[str, torch.Tensor]]]:
    """Reads an exported model folder (or a run folder holding ``model/``).

    Returns:
        The spec and one state dict per member.

    Raises:
        ModelLoadError: missing files, a pickled file, truncated/corrupted weights, or a newer format.
    """
    model_dir = Path(model_dir)
    if model_dir.is_file():
        _refuse_pickle(model_dir)
        raise ModelLoadError(
            f"{model_dir} is a file; pass the model folder written by `molgen train` (it holds {SPEC_FILE} "
            f"and {WEIGHTS_FILE}), or the run folder that contains it"
        )
    model_dir = model_folder(model_dir)
    spec_path, weights_path = model_dir / SPEC_FILE, model_dir / WEIGHTS_FILE
    for path in (spec_path, weights_path):
        if not path.is_file():
            raise ModelLoadError(f"{path} not found: {model_dir} is not a molgen model folder")
    try:
        values = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ModelLoadError(f"{spec_path} is not valid YAML: {err}") from None
    spec = parse_spec(values, spec_path)
    _refuse_pickle(weights_path)
    _verify_checksum(spec, weights_path)
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelLoadError(
            f"{weights_path} is truncated or corrupted and cannot be loaded ({err}); re-export or retrain the model"
        ) from None
    members: list[dict[str, torch.Tensor]] = [{} for _ in range(spec.ensemble_size)]
    for key, value in tensors.items():
        parts = key.split(".", 2)
        if len(parts) != 3 or parts[0] != "members" or not parts[1].isdigit() or int(parts[1]) >= len(members):
            raise ModelLoadError(
                f"{weights_path}: unexpected tensor {key!r} (expected members.<i>.<name>, i < {len(members)})"
            )
        if value.is_floating_point() and not bool(value.isfinite().all()):
            raise ModelLoadError(f"{weights_path}: tensor {key!r} holds NaN or infinite values; the model is corrupted")
        members[int(parts[1])][parts[2]] = value
    if any(not m for m in members):
        raise ModelLoadError(f"{weights_path} lacks weights for some of its {len(members)} ensemble members")
    return spec, members


def read_arrays(spec: ModelSpec, name: str) -> dict[str, np.ndarray]:
    """The numpy arrays of the extra safetensors file ``name`` next to ``spec``'s ``model.yaml``
    (see ``export_model(arrays=…)``), after checking its sha256 recorded in ``model.yaml``.

    Raises:
        ModelLoadError: the file is missing, has no recorded sha256, does not match it, or is not safetensors.
    """
    from safetensors.numpy import load_file as load_arrays

    path = Path(spec.source).parent / name
    if not path.is_file():
        raise ModelLoadError(f"{path} not found: {spec.source} needs it; re-export or retrain the model")
    if name not in spec.sha256:
        raise ModelLoadError(f"{spec.source} records no sha256 of {name}; the model folder was altered")
    _refuse_pickle(path)
    _verify_checksum(spec, path)
    try:
        return load_arrays(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelLoadError(f"{path} is truncated or corrupted and cannot be loaded ({err})") from None


def _verify_checksum(spec: ModelSpec, weights_path: Path) -> None:
    expected = spec.sha256.get(weights_path.name)
    if expected is None:
        log.info("%s: no sha256 in %s (written by an older molgen); loading it unverified", weights_path, SPEC_FILE)
        return
    found = file_sha256(weights_path)
    if found != expected:
        raise ModelLoadError(
            f"{weights_path} does not match its checksum in {SPEC_FILE} (expected sha256 {expected}, found {found}): "
            "the file was changed or corrupted; re-export or retrain the model"
        )


def load_state(module: torch.nn.Module, state: Mapping[str, torch.Tensor], source: str | Path) -> None:
    """Loads ``state`` into ``module`` (strict); a missing, unexpected or wrongly shaped tensor is a
    :class:`ModelFormatError` naming it (and both shapes), not a raw ``RuntimeError``."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        parts = [f"missing tensors {', '.join(missing[:5])}" if missing else "", ""]
        parts[1] = f"unexpected tensors {', '.join(unexpected[:5])}" if unexpected else ""
        raise ModelFormatError(f"{source}: the weights do not fit the model: {'; '.join(p for p in parts if p)}")
    for name, value in state.items():
        if tuple(value.shape) != tuple(expected[name].shape):
            raise ModelFormatError(
                f"{source}: tensor {name!r} has shape {list(value.shape)}, the model described in {SPEC_FILE} "
                f"needs {list(expected[name].shape)}"
            )
    module.load_state_dict(state, strict=True)


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    """A safetensors file starts with a little-endian u64 header length, then the JSON header ``{…``."""
    if len(head) < 9 or head[8:9] != b"{":
        return False
    header_length = int.from_bytes(head[:8], "little")
    return 0 < header_length <= size - 8


def _refuse_pickle(path: Path) -> None:
    with open(path, "rb") as handle:
        head = handle.read(9)
    if _looks_like_safetensors(head, path.stat().st_size):
        return  # its first byte can be 0x80 (a header length ending in 0x80), like a pickle's
    if head[:1] == _PICKLE_MAGIC[0] or head[:4] == _PICKLE_MAGIC[1]:
        raise ModelLoadError(
            f"{path} is a pickle / torch.save file; molgen never unpickles model files (they can run "
            f"arbitrary code). Use a model folder exported by `molgen train` (safetensors)."
        )


def model_spec(
    cfg: RunConfig,
    dataset: DatasetSpec | None,
    metrics: dict,
    *,
    trained_on: dict[str, Any] | None = None,
    **fields: Any,
) -> ModelSpec:
    """The ``model.yaml`` of a run: family, what it was trained on, its metrics and the family's ``fields``."""
    trained: dict[str, Any] = {"data": dataset.name if dataset is not None else str(cfg.data.name)}
    trained.update(
        trained_on
        if trained_on is not None
        else {"split": cfg.data.split, "seed": cfg.trainer.seed, "n_folds": cfg.data.n_folds}
    )
    return ModelSpec(family=str(cfg.family), **fields, trained_on=trained, metrics=metrics)


def read_weights(model_dir: str | Path) -> dict[str, torch.Tensor]:
    """The state dict of an exported generator (its single member)."""
    _, members = read_model(model_dir)
    return members[0]


def spec_field(spec: ModelSpec, key: str) -> Any:
    """A generator's own ``model.yaml`` entry (``tokenizer``, ``sizes`` …: extra fields of the open :class:`ModelSpec`)."""
    extra = spec.model_extra or {}
    if key not in extra:
        raise ModelFormatError(f"model.yaml of generator {spec.generator!r} has no {key!r} entry")
    return extra[key]
