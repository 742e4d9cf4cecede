"""The one place where config names become objects, and the one ``fit(cfg)`` used by everything.

``molgen train``, ``molgen tune``, ``molgen benchmark`` and the Python API all call :func:`fit`. Each
model family lives in its own module, imported only when used.
"""

from __future__ import annotations

import importlib
from typing import Any

from molgen.config import RunConfig
from molgen.recipes.common import RunResult
from molgen.registry import Registry

FAMILIES: Registry[str] = Registry("model family", {"property": "molgen.recipes.property"})

__all__ = ["FAMILIES", "RunResult", "fit", "family_module"]


def family_module(name: str) -> Any:
    """The recipe module of a family (``property`` …); an unknown name lists the valid ones."""
    return importlib.import_module(FAMILIES.get(name))


def fit(cfg: RunConfig, **kwargs: Any) -> RunResult:
    """Trains, evaluates and exports the run described by ``cfg``; see the family's ``fit`` for options."""
    return family_module(cfg.family).fit(cfg, **kwargs)
