"""Property distributions of generated molecules vs a reference: MOSES's ``logP``, ``SA``, ``QED``, ``weight``.

Each key is the 1-D Wasserstein (earth mover's) distance between the property values of the generated
molecules (valid, duplicates kept) and of the reference set (``scipy.stats.wasserstein_distance``, as
in MOSES). Units are those of the property: logP units, SA units (1..10), QED (0..1), g/mol.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rdkit import Chem

from molgen.chem.scores import logp, molecular_weight, qed, sa_score

__all__ = ["PROPERTIES", "property_values", "wasserstein_distances"]

# MOSES key → score function (molgen.chem.scores).
PROPERTIES = {"logP": logp, "SA": sa_score, "QED": qed, "weight": molecular_weight}


def property_values(mols: Sequence[Chem.Mol]) -> dict[str, np.ndarray]:
    """``{key: float64 [len(mols)]}`` for each key of :data:`PROPERTIES`."""
    return {
        key: np.fromiter((score(mol) for mol in mols), dtype=np.float64, count=len(mols))
        for key, score in PROPERTIES.items()
    }


def wasserstein_distances(reference: dict[str, np.ndarray], generated: dict[str, np.ndarray]) -> dict[str, float]:
    """``{key: W1(reference[key], generated[key])}``; NaN where either side is empty."""
    from scipy.stats import wasserstein_distance

    out = {}
    for key in PROPERTIES:
        ref, gen = reference.get(key, np.empty(0)), generated.get(key, np.empty(0))
        out[key] = float(wasserstein_distance(ref, gen)) if len(ref) and len(gen) else math.nan
    return out
