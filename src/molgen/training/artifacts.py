"""Run-folder layout and the exported model: ``model.safetensors`` + ``model.yaml`` + ``README.md``.

An exported model never needs unpickling: weights are safetensors, the description is YAML of
primitives. Ensemble members (or cross-validation folds) share one file, their tensors prefixed
``members.<i>.``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from molgen import __version__
from molgen.errors import ModelFormatError

MODEL_DIR = "model"
WEIGHTS_FILE = "model.safetensors"
SPEC_FILE = "model.yaml"
CARD_FILE = "README.md"
FORMAT_VERSION = 1

_PICKLE_MAGIC = (b"\x80", b"PK\x03\x04")  # pickle protocol 2+ / torch.save zip archive


ModelLoadError = ModelFormatError  # the name this module used before molgen.errors


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
    Path(path).write_text(json.dumps(data, indent=2, allow_nan=True) + "\n")


def export_model(
    model_dir: str | Path,
    members: Sequence[torch.nn.Module],
    spec: Mapping[str, Any],
    card: str,
) -> Path:
    """Writes the weights of every member, the spec (primitives) and a model card.

    Args:
        members: trained modules with identical architecture (one per ensemble member or fold).
        spec: everything needed to rebuild the modules (input kind, featurizer, model sizes, task, …).
        card: Markdown model card.
    """
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    tensors = {
        f"members.{i}.{name}": value.detach().cpu().contiguous()
        for i, member in enumerate(members)
        for name, value in member.state_dict().items()
    }
    save_file(tensors, str(model_dir / WEIGHTS_FILE), metadata={"molgen_version": __version__})
    full_spec = {"format": FORMAT_VERSION, "molgen_version": __version__, "ensemble_size": len(members), **spec}
    (model_dir / SPEC_FILE).write_text(yaml.safe_dump(full_spec, sort_keys=False))
    (model_dir / CARD_FILE).write_text(card)
    return model_dir


def read_model(model_dir: str | Path) -> tuple[dict[str, Any], list[dict[str, torch.Tensor]]]:
    """Reads an exported model folder (or a run folder holding ``model/``).

    Returns:
        The spec and one state dict per member.

    Raises:
        ModelLoadError: missing files, a pickled file, or truncated/corrupted weights.
    """
    model_dir = Path(model_dir)
    if model_dir.is_file():
        _refuse_pickle(model_dir)
        raise ModelLoadError(
            f"{model_dir} is a file; pass the model folder written by `molgen train` (it holds {SPEC_FILE} "
            f"and {WEIGHTS_FILE}), or the run folder that contains it"
        )
    if not (model_dir / SPEC_FILE).is_file() and (model_dir / MODEL_DIR / SPEC_FILE).is_file():
        model_dir = model_dir / MODEL_DIR
    spec_path, weights_path = model_dir / SPEC_FILE, model_dir / WEIGHTS_FILE
    for path in (spec_path, weights_path):
        if not path.is_file():
            raise ModelLoadError(f"{path} not found: {model_dir} is not a molgen model folder")
    try:
        spec = yaml.safe_load(spec_path.read_text())
    except yaml.YAMLError as err:
        raise ModelLoadError(f"{spec_path} is not valid YAML: {err}") from None
    if not isinstance(spec, dict) or spec.get("format") != FORMAT_VERSION:
        raise ModelLoadError(f"{spec_path}: unsupported model format (expected format: {FORMAT_VERSION})")
    _refuse_pickle(weights_path)
    try:
        tensors = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelLoadError(
            f"{weights_path} is truncated or corrupted and cannot be loaded ({err}); re-export or retrain the model"
        ) from None
    members: list[dict[str, torch.Tensor]] = [{} for _ in range(int(spec["ensemble_size"]))]
    for key, value in tensors.items():
        _, index, name = key.split(".", 2)
        members[int(index)][name] = value
    if any(not m for m in members):
        raise ModelLoadError(f"{weights_path} lacks weights for some of its {len(members)} ensemble members")
    return spec, members


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
