"""Medicinal-chemistry filters for screening: a molecule passes or fails each, with a reason.

Filters never remove rows: a screen keeps every row and records ``passes_filters`` and
``failed_filters`` so the user sees what was left out of the ranking and why.

=========  ==================================================================================
name       rule
=========  ==================================================================================
lipinski   Lipinski's rule of five: MW ≤ 500, Crippen logP ≤ 5, ≤ 5 H-bond donors (NH + OH),
           ≤ 10 acceptors (N + O); passes with at most one violation
veber      ≤ 10 rotatable bonds and TPSA ≤ 140 Å²
pains      RDKit FilterCatalog PAINS A/B/C (Baell & Holloway 2010); ~1-3 ms per molecule
brenk      RDKit FilterCatalog Brenk unwanted substructures (Brenk et al. 2008)
=========  ==================================================================================

Examples:
    >>> from rdkit import Chem
    >>> [f(Chem.MolFromSmiles("O=C1C(=Cc2ccccc2)SC(=S)N1")) for f in get_filters(["lipinski", "pains"])]
    [None, 'ene_rhod_A(235)']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from molgen.registry import Registry

__all__ = ["FILTERS", "MolFilter", "get_filters", "parse_filter_names"]

#: A filter returns None when the molecule passes, else a short reason.
MolFilter = Callable[[Any], "str | None"]


def lipinski(mol: Any) -> str | None:
    from rdkit.Chem import Crippen, Descriptors, rdMolDescriptors

    values = {
        "MW": (Descriptors.MolWt(mol), 500),  # type: ignore[attr-defined]  # set at import; absent from RDKit's stubs
        "logP": (Crippen.MolLogP(mol), 5),  # type: ignore[attr-defined]  # likewise
        "HBD": (rdMolDescriptors.CalcNumLipinskiHBD(mol), 5),
        "HBA": (rdMolDescriptors.CalcNumLipinskiHBA(mol), 10),
    }
    violations = [f"{name} {value:.4g} > {limit}" for name, (value, limit) in values.items() if value > limit]
    return None if len(violations) <= 1 else f"{len(violations)} violations: {', '.join(violations)}"


def veber(mol: Any) -> str | None:
    from rdkit.Chem import rdMolDescriptors

    rotatable, tpsa = rdMolDescriptors.CalcNumRotatableBonds(mol), rdMolDescriptors.CalcTPSA(mol)
    problems = ([f"{rotatable} rotatable bonds > 10"] if rotatable > 10 else []) + (
        [f"TPSA {tpsa:.4g} > 140"] if tpsa > 140 else []
    )
    return "; ".join(problems) or None


@cache
def _catalog(name: str) -> Any:
    from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

    params = FilterCatalogParams()
    params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, name))
    return FilterCatalog(params)


def _catalog_filter(name: str) -> MolFilter:
    def check(mol: Any) -> str | None:
        match = _catalog(name).GetFirstMatch(mol)
        return None if match is None else match.GetDescription()

    check.__name__ = name.lower()
    return check


FILTERS: Registry[MolFilter] = Registry(
    "filter",
    {"lipinski": lipinski, "veber": veber, "pains": _catalog_filter("PAINS"), "brenk": _catalog_filter("BRENK")},
)


def parse_filter_names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"lipinski,pains"`` (or a list) → validated names, in order, without duplicates.

    Raises:
        UnknownNameError: an unknown filter; the message lists the valid ones.
    """
    if value is None:
        return ()
    names = value.split(",") if isinstance(value, str) else list(value)
    names = [n.strip().lower() for n in names if n.strip()]
    for name in names:
        FILTERS.get(name)
    return tuple(dict.fromkeys(names))


def get_filters(names: Sequence[str]) -> list[MolFilter]:
    """The filter functions for validated names."""
    return [FILTERS.get(name) for name in names]
