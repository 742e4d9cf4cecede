"""MOSES similarity metrics: SNN, Frag, Scaf and internal diversity (IntDiv, IntDiv2).

Definitions (molecularsets/moses ``moses/metrics``), all on Morgan bits (radius 2, 1024 bits):

- ``SNN``: mean over generated molecules of the largest Tanimoto similarity to any reference molecule.
- ``Frag``: cosine similarity of the BRICS-fragment count vectors of the two sets (fragments are the
  canonical SMILES pieces of ``FragmentOnBRICSBonds``, dummy atoms included).
- ``Scaf``: cosine similarity of the Bemis-Murcko scaffold count vectors; scaffolds with fewer than
  2 rings (and empty ones) are not counted, as in MOSES.
- ``IntDiv_p = 1 - mean_i (mean_j T(i, j)^p)^(1/p)`` over all ordered pairs of generated molecules,
  self-pairs included; ``IntDiv`` is p=1, ``IntDiv2`` p=2.

Each function returns NaN when a set it needs is empty (MOSES returns NaN for an empty count vector).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping

import numpy as np
from rdkit import Chem

from molgen.chem.fingerprints import tanimoto_max, tanimoto_power_means

__all__ = [
    "MIN_SCAFFOLD_RINGS",
    "brics_fragments",
    "cosine_similarity_counts",
    "internal_diversity",
    "murcko_scaffold",
    "snn",
]

MIN_SCAFFOLD_RINGS = 2


def brics_fragments(mol: Chem.Mol) -> list[str]:
    """Canonical SMILES of the BRICS fragments of one molecule (with their dummy attachment atoms)."""
    from rdkit.Chem import AllChem

    return Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(mol)).split(".")  # type: ignore[attr-defined]  # RDKit stub gap


def murcko_scaffold(mol: Chem.Mol, *, min_rings: int = MIN_SCAFFOLD_RINGS) -> str | None:
    """Canonical SMILES of the Bemis-Murcko scaffold, or None when it has fewer than ``min_rings`` rings."""
    from rdkit.Chem.Scaffolds import MurckoScaffold

    try:
        scaffold = MurckoScaffold.GetScaffoldForMol(mol)
    except Exception:
        return None
    smiles = Chem.MolToSmiles(scaffold)
    if not smiles or scaffold.GetRingInfo().NumRings() < min_rings:
        return None
    return smiles


def cosine_similarity_counts(reference: Mapping[str, int], generated: Mapping[str, int]) -> float:
    """Cosine similarity of two count vectors given as ``{key: count}`` (missing keys count 0)."""
    if not reference or not generated:
        return math.nan
    keys = set(reference) | set(generated)
    ref = np.fromiter((reference.get(k, 0) for k in keys), dtype=np.float64, count=len(keys))
    gen = np.fromiter((generated.get(k, 0) for k in keys), dtype=np.float64, count=len(keys))
    return float(ref @ gen / (np.linalg.norm(ref) * np.linalg.norm(gen)))


def snn(reference_bits: np.ndarray, generated_bits: np.ndarray) -> float:
    """Mean nearest-neighbour Tanimoto similarity of generated to reference fingerprints."""
    if len(reference_bits) == 0 or len(generated_bits) == 0:
        return math.nan
    return float(tanimoto_max(reference_bits, generated_bits).mean())


def internal_diversity(bits: np.ndarray, *, powers: tuple[int, ...] = (1, 2)) -> tuple[float, ...]:
    """``1 - mean_i (mean_j T_ij^p)^(1/p)`` for each power p, over the fingerprints of one set."""
    if len(bits) == 0:
        return tuple(math.nan for _ in powers)
    return tuple(float(1.0 - row.mean()) for row in tanimoto_power_means(bits, bits, powers=powers))


def count(values) -> Counter:
    """A Counter of the non-None values (helper for fragment and scaffold counts)."""
    return Counter(v for v in values if v is not None)
