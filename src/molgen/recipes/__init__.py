"""The one ``fit(cfg)`` used by everything, and the choice of family when a config leaves it open.

``molgen train``, ``molgen tune``, ``molgen benchmark`` and the Python API all call :func:`fit`. The
families are the plug-ins registered in ``molgen.families`` (importing this module imports them).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from molgen.config import RunConfig, replace
from molgen.errors import ConfigError
from molgen.families import FAMILIES
from molgen.families.common import RunResult
from molgen.registry import UnknownNameError

log = logging.getLogger(__name__)

_DNA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas", ".bed")
_SMILES_SUFFIXES = (".smi", ".smiles")

__all__ = ["FAMILIES", "RunResult", "fit", "resolve_family"]


def infer_family(cfg: RunConfig) -> str:
    """The family a run is about when its config names none: ``generation`` for a catalog dataset of kind
    ``smiles`` (MOSES), a ``.smi`` file or a generator model; ``expression`` for a catalog dataset of kind
    ``sequences``, a FASTA/BED file, ``data.sequence_column`` set or a DNA model; else ``property``."""
    from molgen.data.catalog import get_dataset

    try:
        kind = get_dataset(cfg.data.name).kind
        is_dna, is_smiles = kind == "sequences", kind == "smiles"
    except UnknownNameError:
        name = Path(cfg.data.name).name.lower().removesuffix(".gz")
        is_dna, is_smiles = name.endswith(_DNA_SUFFIXES), name.endswith(_SMILES_SUFFIXES)
    dna_models, generators = FAMILIES.get("expression").models, FAMILIES.get("generation").models
    if cfg.model.name in generators or (is_smiles and cfg.model.name not in dna_models):
        return "generation"
    if is_dna or cfg.data.sequence_column is not None or cfg.model.name in dna_models:
        return "expression"
    return "property"


def resolve_family(cfg: RunConfig) -> RunConfig:
    """``cfg`` with its family set and what depends on it: an explicit ``family`` is kept; when it is None (the
    default) it is inferred from the data and model (:func:`infer_family`) and the choice is logged. Then
    ``optim.init_from: auto`` becomes the encoder it means for that family (:func:`resolve_auto`)."""
    from molgen.families.init_from import resolve_auto

    if cfg.family is not None:
        FAMILIES.get(cfg.family)  # an unknown family lists the valid ones
        return resolve_auto(cfg)
    family = infer_family(cfg)
    log.info(
        "family %r inferred from data %r and model %r (set `family` to choose)", family, cfg.data.name, cfg.model.name
    )
    return resolve_auto(replace(cfg, family=family))


def fit(cfg: RunConfig, **kwargs: Any) -> RunResult:
    """Trains, evaluates and exports the run described by ``cfg``; see the family's ``fit`` for options."""
    cfg = resolve_family(cfg)
    check_fine_tuning(cfg)
    return FAMILIES.get(str(cfg.family)).fit(cfg, **kwargs)


def check_fine_tuning(cfg: RunConfig) -> None:
    """``--init-from``/``--freeze-encoder`` start property models from a molecule encoder; ``--encoder-lr-ratio``
    needs a supervised encoder → head model: anything else is refused (never silently ignored)."""
    optim = cfg.optim
    if (optim.init_from is not None or optim.freeze_encoder) and cfg.family not in ("property", "pretrain"):
        raise ConfigError(
            f"--init-from / --freeze-encoder start a molecule property model from a pretrained encoder; the "
            f"{cfg.family} family cannot use them"
        )
    if optim.encoder_lr_ratio != 1.0 and cfg.family not in ("property", "expression"):
        raise ConfigError(f"--encoder-lr-ratio applies to property and expression models, not to family {cfg.family}")
