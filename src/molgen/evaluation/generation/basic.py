"""MOSES metrics of generated molecules: validity, uniqueness, novelty, and the full suite.

Definitions follow the MOSES reference code (molecularsets/moses ``moses/metrics/metrics.py``;
Polykovskiy et al., Front. Pharmacol. 2020):

- ``valid``: fraction of generated strings that are valid molecules (``molgen.chem.molecules``
  decides validity: RDKit parses and sanitizes them; empty strings are invalid).
- ``unique@k``: the generated list with invalid entries removed is canonicalized; among its first
  ``k`` entries (all of them when fewer than ``k``), the fraction of distinct canonical SMILES.
- ``Novelty``: among the distinct valid canonical SMILES, the fraction not in the training set
  (training SMILES are canonicalized with the same RDKit, so spelling differences never count as new).
- Every other metric (FCD, SNN, Frag, Scaf, IntDiv, Filters, property distances) is computed on the
  valid molecules, duplicates kept, exactly as MOSES does.

A metric that cannot be computed (no valid molecule, no training set) is NaN, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

from rdkit import Chem

from molgen.chem.molecules import InvalidMolecule, iter_molecules

__all__ = [
    "ValidMolecules",
    "UNIQUE_AT",
    "split_valid",
    "fraction_unique",
    "novelty",
    "canonical_set",
    "sample_metrics",
    "basic_metrics",
    "evaluate_generation",
]

UNIQUE_AT = (1000, 10000)


@dataclass
class ValidMolecules:
    """The valid part of a generated list.

    Attributes:
        n_total: number of generated strings.
        smiles: canonical SMILES of the valid ones, in input order (duplicates kept).
        mols: the matching RDKit molecules (parsed from the canonical SMILES, as MOSES does).
        invalid: one record per invalid input (index, string, reason).
    """

    n_total: int
    smiles: list[str] = field(default_factory=list)
    mols: list[Chem.Mol] = field(default_factory=list)
    invalid: list[InvalidMolecule] = field(default_factory=list)

    @property
    def fraction_valid(self) -> float:
        """``len(smiles) / n_total``; 0 for an empty input (nothing valid was generated)."""
        return len(self.smiles) / self.n_total if self.n_total else 0.0


def split_valid(generated: Sequence[object], *, keep_mols: bool = True) -> ValidMolecules:
    """Parses generated strings into canonical SMILES (and molecules) of the valid ones.

    Args:
        generated: generated SMILES; anything unparseable (incl. ``""``/None) is counted invalid.
        keep_mols: also return molecules re-parsed from the canonical SMILES (what MOSES feeds to
            SNN/Frag/Scaf/filters); False skips that second parse.
    """
    result = ValidMolecules(n_total=len(generated))
    for _, mol, record in iter_molecules(generated):
        if mol is None:  # iter_molecules gives the invalid record exactly when there is no molecule
            result.invalid.append(cast(InvalidMolecule, record))
            continue
        result.smiles.append(Chem.MolToSmiles(mol))
    if keep_mols:
        result.mols = [Chem.MolFromSmiles(s) for s in result.smiles]
    return result


def fraction_unique(canonical_smiles: Sequence[str], k: int | None = None) -> float:
    """Distinct fraction among the first ``k`` canonical SMILES (all when fewer); NaN when empty."""
    head = list(canonical_smiles[:k] if k is not None else canonical_smiles)
    return len(set(head)) / len(head) if head else math.nan


def canonical_set(smiles: Iterable[object], *, isomeric: bool = True) -> set[str]:
    """Canonical SMILES of the valid molecules among ``smiles`` (invalid ones skipped); ``isomeric=False``
    drops stereochemistry (the form :func:`sample_metrics` compares novelty in)."""
    return {Chem.MolToSmiles(mol, isomericSmiles=isomeric) for _, mol, _ in iter_molecules(smiles) if mol is not None}


def sample_metrics(smiles: Sequence[str], train: set[str] | frozenset[str]) -> dict[str, float]:
    """Cheap quality figures of SMILES sampled during GAN training (the validation metrics of
    :mod:`molgen.training.gan`, which receives this function from its caller).

    Validity is :mod:`molgen.chem.molecules`'s (the one definition; a molecule without atoms is
    invalid too); canonical forms are non-isomeric, so ``train`` must be
    ``canonical_set(train_smiles, isomeric=False)``.

    Returns ``validity`` (valid fraction, MOSES's sense), ``unique`` (distinct / valid), ``novelty``
    (distinct valid not in ``train`` / distinct valid), ``connected`` (valid and one fragment / all: MolGAN's
    strict validity) and ``valid_unique`` (distinct valid one-fragment molecules / all), which rewards
    samples that are valid, whole and diverse at once; 0.0 (not NaN) where undefined, so a checkpoint
    monitor can always compare.
    """
    canonical = [
        Chem.MolToSmiles(mol, isomericSmiles=False)
        for _, mol, _ in iter_molecules(smiles)
        if mol is not None and mol.GetNumAtoms()
    ]
    n, distinct = max(len(smiles), 1), set(canonical)
    return {
        "validity": len(canonical) / n,
        "unique": len(distinct) / len(canonical) if canonical else 0.0,
        "novelty": len(distinct - set(train)) / len(distinct) if distinct else 0.0,
        "connected": sum("." not in s for s in canonical) / n,
        "valid_unique": sum("." not in s for s in distinct) / n,
    }


def novelty(canonical_smiles: Iterable[str], train_canonical: set[str] | frozenset[str]) -> float:
    """Fraction of the distinct generated molecules whose canonical SMILES is not in the train set."""
    distinct = set(canonical_smiles)
    return len(distinct - train_canonical) / len(distinct) if distinct else math.nan


def basic_metrics(
    generated: Sequence[str],
    train: Sequence[str] | set[str] | None = None,
    *,
    train_is_canonical: bool = False,
) -> dict[str, float]:
    """The cheap MOSES metrics: ``valid``, ``unique@1000``, ``unique@10000`` and (with train) ``Novelty``.

    Args:
        generated: generated SMILES, invalid ones included (they count against ``valid``).
        train: training SMILES; None leaves ``Novelty`` out.
        train_is_canonical: ``train`` already holds RDKit canonical SMILES (skips re-canonicalizing,
            which costs ~0.1 ms per molecule).

    Returns:
        ``{"valid": ..., "unique@1000": ..., "unique@10000": ..., ["Novelty": ...]}``; NaN where a
        value is undefined (an empty input, no valid molecule).
    """
    valid = split_valid(generated, keep_mols=False)
    metrics = {"valid": valid.fraction_valid}
    for k in UNIQUE_AT:
        metrics[f"unique@{k}"] = fraction_unique(valid.smiles, k)
    if train is not None:
        train_set = set(train) if train_is_canonical else canonical_set(train)
        metrics["Novelty"] = novelty(valid.smiles, train_set)
    return metrics


def evaluate_generation(generated, reference="moses", output_dir=None, **options) -> dict[str, float]:
    """The full MOSES suite (FCD, SNN, Frag, Scaf, IntDiv, Filters, property distances, Novelty) and a report.

    See :func:`molgen.evaluation.generation.suite.evaluate_generation` for the arguments.
    """
    from molgen.evaluation.generation.suite import evaluate_generation as _evaluate

    return _evaluate(generated, reference, output_dir, **options)
