"""One chunk of a pretraining corpus: SMILES → graphs (the fast featurizer) + RDKit descriptor targets.

Runs in a DataLoader worker for every chunk of the corpus, so it returns numpy arrays only; invalid molecules
are skipped and counted (never fatal: a corpus of millions holds some).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from molgen.chem.featurize.atom_features import get_atom_preset
from molgen.chem.featurize.graphs import FeaturizerSpec, PackedGraphs, featurize_smiles
from molgen.chem.featurize.limits import DEFAULT_MAX_ATOMS
from molgen.chem.molecules import parse_smiles
from molgen.chem.standardize import standardize_mol

__all__ = ["BOND_TYPE_COLUMNS", "PretrainChunk", "atom_type_columns", "featurize_chunk"]

BOND_TYPE_COLUMNS = (1, 5)
"""Columns ``[start, stop)`` of the bond type one-hot (SINGLE, DOUBLE, TRIPLE, AROMATIC) in the bond features."""


def atom_type_columns(atom_features: str) -> int:
    """Width of the atomic-number one-hot (with its unknown slot) that opens every atom feature preset."""
    return len(get_atom_preset(atom_features).atomic_nums) + 1


@dataclass
class PretrainChunk:
    """The featurized molecules of one chunk.

    Attributes:
        graphs: graphs of the valid molecules, in input order.
        descriptors: float32 ``[n_valid, D]`` raw descriptor values (NaN where RDKit gave none), or None.
        n_rows: inputs in the chunk. n_invalid: inputs skipped (unparseable, too large, empty).
        first_invalid: up to 5 ``(row in chunk, reason)`` for messages.
    """

    graphs: PackedGraphs
    descriptors: np.ndarray | None
    n_rows: int
    n_invalid: int
    first_invalid: list[tuple[int, str]]


def featurize_chunk(
    smiles: Sequence[Any],
    spec: FeaturizerSpec,
    descriptors: Sequence[str] | None = None,
    *,
    max_atoms: int | None = DEFAULT_MAX_ATOMS,
) -> PretrainChunk:
    """Featurizes one chunk in this process (graphs of the valid molecules and, with ``descriptors``, their
    RDKit descriptor values computed on the same, standardized, molecules)."""
    result = featurize_smiles(smiles, spec, n_jobs=1, max_atoms=max_atoms)
    values = None
    if descriptors:
        from molgen.chem.descriptors import compute_descriptors

        mols = []
        for index in result.valid_index:
            mol, _ = parse_smiles(smiles[int(index)])
            assert mol is not None  # the featurizer accepted it
            mol, _ = standardize_mol(mol, spec.standardize)
            assert mol is not None
            mols.append(mol)
        values = compute_descriptors(mols, descriptors, non_finite=float("nan"))
    return PretrainChunk(
        graphs=result.graphs,
        descriptors=values,
        n_rows=len(smiles),
        n_invalid=len(result.invalid),
        first_invalid=[(bad.index, bad.reason) for bad in result.invalid[:5]],
    )
