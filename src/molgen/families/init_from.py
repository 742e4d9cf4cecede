"""``--init-from PRETRAINED``: the encoder weights of a pretrained (or property) model copied into a new model.

PRETRAINED is a ``molgen pretrain`` run folder or its ``model/``, a property model folder, or ``molgen:NAME``: an
encoder shipped as package data under ``molgen/pretrained/NAME/`` (``model.yaml`` + ``model.safetensors``).
Anything else (a DNA model, a generator), another architecture or another shape is a :class:`ModelFormatError`
that names both sides.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

import torch

from molgen.config import GraphModelConfig, RunConfig, model_config, replace
from molgen.errors import ModelFormatError

log = logging.getLogger("molgen")

__all__ = [
    "AUTO",
    "DEFAULT_ENCODER",
    "ENCODER_FAMILIES",
    "PACKAGE_PREFIX",
    "load_encoder",
    "resolve_auto",
    "resolve_pretrained",
    "shipped_encoders",
]

AUTO = "auto"
DEFAULT_ENCODER = "molgen:dmpnn-pretrained"
"""What ``init_from: auto`` (the default) starts a property D-MPNN of this encoder's architecture from: better than
random weights in 32 of 33 dataset × seed cells of benchmarks/results/pretraining-2026-12-07.md, and on 7 of the 9
datasets of the full MoleculeNet profile (BBBP and ClinTox ties; moleculenet_full_2026-12-07/results.md)."""
PACKAGE_PREFIX = "molgen:"
ENCODER_FAMILIES = ("pretrain", "property")
"""Families whose exported models hold a molecule encoder to start from."""


def shipped_encoders() -> list[str]:
    """Names of the encoders shipped with this molgen (folders of ``molgen/pretrained`` holding a ``model.yaml``)."""
    root = resources.files("molgen.pretrained")
    return sorted(entry.name for entry in root.iterdir() if entry.is_dir() and (entry / "model.yaml").is_file())


def resolve_auto(cfg: RunConfig) -> RunConfig:
    """``cfg`` with ``optim.init_from: auto`` made concrete: :data:`DEFAULT_ENCODER` for a property model whose
    encoder is exactly that encoder's architecture (model, hidden size, depth, readout, atom features), else None
    (random weights). Any other value is returned unchanged; ``cfg.family`` must be resolved."""
    if cfg.optim.init_from != AUTO:
        return cfg
    chosen = DEFAULT_ENCODER if cfg.family == "property" and _fits_default_encoder(cfg) else None
    if chosen is not None:
        log.info("encoder starts from %s, the default for this D-MPNN (--init-from none: random weights)", chosen)
    return replace(cfg, optim=replace(cfg.optim, init_from=chosen))


def _fits_default_encoder(cfg: RunConfig) -> bool:
    from molgen.training.artifacts import read_spec

    model = cfg.model
    if not isinstance(model, GraphModelConfig):
        return False
    spec = read_spec(resolve_pretrained(DEFAULT_ENCODER))
    theirs = model_config(spec.model or {}, where=str(spec.source), legacy=True)
    assert isinstance(theirs, GraphModelConfig)
    same = (theirs.name, theirs.hidden_dim, theirs.depth) == (model.name, model.hidden_dim, model.depth)
    same_readout = model.readout in (None, theirs.readout)
    return same and same_readout and (spec.featurizer or {}).get("atom_features") == cfg.data.featurizer


def resolve_pretrained(source: str, option: str = "--init-from") -> Path:
    """The folder of ``source``: ``molgen:NAME`` → the package data folder, else the path itself; ``option``
    names where ``source`` came from in the error for a name that is not shipped."""
    if not source.startswith(PACKAGE_PREFIX):
        return Path(source)
    name = source[len(PACKAGE_PREFIX) :]
    shipped = shipped_encoders()
    if name not in shipped:
        from molgen import __version__

        listed = ", ".join(PACKAGE_PREFIX + n for n in shipped) or "none yet"
        raise ModelFormatError(
            f"{option} {source}: no pretrained encoder {name!r} is shipped with molgen {__version__} (shipped: "
            f"{listed}); pass a `molgen pretrain` run folder or model folder instead"
        )
    return Path(str(resources.files("molgen.pretrained") / name))


def load_encoder(encoder: torch.nn.Module, source: str, model: GraphModelConfig, atom_features: str) -> None:
    """Copies the pretrained encoder of ``source`` into ``encoder`` (a graph encoder of ``model``).

    Raises:
        ModelFormatError: ``source`` holds no molecule encoder (a DNA model, a generator), another architecture or
            featurizer, or a tensor whose shape differs (the message names the tensor and both shapes).
    """
    from molgen.training.artifacts import read_model

    spec, states = read_model(resolve_pretrained(source))
    if spec.family not in ENCODER_FAMILIES:
        kind = {"expression": "a DNA sequence model", "generation": "a molecule generator"}.get(
            spec.family, spec.family
        )
        raise ModelFormatError(
            f"--init-from {source}: {spec.source} holds {kind} (family {spec.family}), not a molecule encoder; pass a "
            "`molgen pretrain` run or a property model"
        )
    theirs = model_config(spec.model or {}, where=str(spec.source), legacy=True)
    if theirs.name != model.name:
        raise ModelFormatError(
            f"--init-from {source}: the pretrained encoder is a {theirs.name}, this model is a {model.name}; "
            f"pass --model {theirs.name} (and its sizes) or another pretrained encoder"
        )
    their_atoms = (spec.featurizer or {}).get("atom_features", "v2")
    if their_atoms != atom_features:
        raise ModelFormatError(
            f"--init-from {source}: the pretrained encoder reads atom features {their_atoms!r}, this model "
            f"{atom_features!r}; pass --set data.featurizer={their_atoms}"
        )
    state = encoder_state(states[0])
    expected = encoder.state_dict()
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ModelFormatError(
            f"--init-from {source}: its encoder does not fit this {model.name} (pretrained {_sizes(theirs)}; this "
            f"model {_sizes(model)}): missing {', '.join(missing[:5]) or 'none'}; unexpected {', '.join(unexpected[:5]) or 'none'}"
        )
    for name, value in state.items():
        if tuple(value.shape) != tuple(expected[name].shape):
            raise ModelFormatError(
                f"--init-from {source}: encoder parameter {name!r} has shape {list(value.shape)} in the pretrained "
                f"model and {list(expected[name].shape)} in this one (pretrained {_sizes(theirs)}; this model "
                f"{_sizes(model)})"
            )
    encoder.load_state_dict(state, strict=True)
    log.info("encoder initialized from %s (%s)", source, spec.source)


def encoder_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The graph encoder's tensors of an exported member (``encoder.*``; a property model with descriptor features
    wraps it once more, ``encoder.encoder.*``)."""
    prefix = "encoder.encoder." if any(k.startswith("encoder.encoder.") for k in state) else "encoder."
    return {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}


def _sizes(model: object) -> str:
    return f"hidden_dim {getattr(model, 'hidden_dim', '?')}, depth {getattr(model, 'depth', '?')}"
