"""The one place where config names become objects, and the one ``fit(cfg)`` used by everything.

``molgen train``, ``molgen tune``, ``molgen benchmark`` and the Python API all call :func:`fit`. Each
model family lives in its own module, imported only when used.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from molgen.config import RunConfig
from molgen.config import replace as config_replace
from molgen.families.common import RunResult
from molgen.registry import Registry, UnknownNameError

FAMILIES: Registry[str] = Registry(
    "model family",
    {
        "property": "molgen.families.property",
        "expression": "molgen.families.expression",
        "generation": "molgen.families.generation.family",
    },
)
DNA_MODELS = ("cnn", "dilated", "transformer", "kmer")
"""Model names of the expression family (see ``molgen.families.expression``)."""
_DNA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas", ".bed")
GENERATOR_MODELS = ("charrnn", "vae", "latentgan", "molgan")
"""Model names of the generation family (see ``molgen.families.generation.family.GENERATORS``)."""
_SMILES_SUFFIXES = (".smi", ".smiles")

__all__ = ["FAMILIES", "DNA_MODELS", "GENERATOR_MODELS", "RunResult", "fit", "family_module", "resolve_family"]


def family_module(name: str) -> Any:
    """The recipe module of a family (``property`` …); an unknown name lists the valid ones."""
    return importlib.import_module(FAMILIES.get(name))


def resolve_family(cfg: RunConfig) -> RunConfig:
    """``cfg`` with ``family`` set when it is None (the default) or ``property``: ``property``, or ``expression`` when the run is
    about DNA: a catalog dataset of kind ``sequences``, a FASTA/BED file, ``data.sequence_column`` set,
    or a DNA model name (``cnn``, ``dilated``, ``transformer``, ``kmer``); to ``generation`` for a catalog
    dataset of kind ``smiles`` (MOSES), a ``.smi`` file or a generator name (``charrnn``, ``vae``, ``latentgan``,
    ``molgan``). Other families are kept."""
    if cfg.family not in (None, "property"):
        return cfg
    from molgen.data.catalog import get_dataset

    try:
        kind = get_dataset(cfg.data.name).kind
        is_dna, is_smiles = kind == "sequences", kind == "smiles"
    except UnknownNameError:
        name = Path(cfg.data.name).name.lower()
        is_dna = (name[:-3] if name.endswith(".gz") else name).endswith(_DNA_SUFFIXES)
        is_smiles = (name[:-3] if name.endswith(".gz") else name).endswith(_SMILES_SUFFIXES)
    if cfg.model.name in GENERATOR_MODELS or (is_smiles and cfg.model.name not in DNA_MODELS):
        return config_replace(cfg, family="generation")
    if is_dna or cfg.data.sequence_column is not None or cfg.model.name in DNA_MODELS:
        return config_replace(cfg, family="expression")
    return config_replace(cfg, family="property") if cfg.family is None else cfg


def fit(cfg: RunConfig, **kwargs: Any) -> RunResult:
    """Trains, evaluates and exports the run described by ``cfg``; see the family's ``fit`` for options."""
    cfg = resolve_family(cfg)
    return family_module(cfg.family).fit(cfg, **kwargs)
