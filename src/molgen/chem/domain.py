"""Applicability domain of molecule models: how similar an input is to the molecules the model was trained on.

Each prediction gets ``train_similarity``, the Tanimoto similarity (Morgan radius 2, 2048 bits, of the
featurized and standardized molecule) to its nearest training molecule, and ``in_domain`` =
``train_similarity ≥ threshold``. At training time the threshold is a percentile (``data.domain_percentile``,
default 5) of the test molecules' similarities to the training molecules of their split: 95 % of held-out
molecules like the test set are in the domain. The training fingerprints are exported bit-packed in
``model/train_fingerprints.safetensors``; ``model.yaml`` records ``applicability_domain: {radius, n_bits,
threshold, n_train}`` and the file's sha256.

With several folds the exported model holds every fold's members, so its training molecules are the union of
the folds' training rows; each test row's similarity (and so the threshold) is measured against its own
fold's training rows, as for molecules none of the members has seen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles
from molgen.chem.similarity import ReferenceFingerprints
from molgen.data.splits import Split
from molgen.errors import ModelFormatError

log = logging.getLogger("molgen")

FILE = "train_fingerprints.safetensors"
RADIUS, N_BITS = 2, 2048
SIMILARITY, IN_DOMAIN = "train_similarity", "in_domain"


@dataclass
class TrainingDomain:
    """The applicability domain a run exports.

    Attributes:
        train: bit-packed uint8 ``[n_train, N_BITS / 8]`` fingerprints of the exported model's training molecules.
        threshold: the ``in_domain`` cut-off (a similarity in [0, 1]).
        test_similarity: float64 ``[n_valid]``: each test row's nearest-training similarity (NaN for other rows).
    """

    train: np.ndarray
    threshold: float
    percentile: float
    test_similarity: np.ndarray

    def spec(self) -> dict[str, Any]:
        """``model.yaml``'s ``applicability_domain``."""
        return {"radius": RADIUS, "n_bits": N_BITS, "threshold": self.threshold, "n_train": len(self.train)}

    def record(self) -> dict[str, Any]:
        """``metrics.json``'s ``applicability_domain``."""
        tested = self.test_similarity[np.isfinite(self.test_similarity)]
        quantiles = np.percentile(tested, [0, 5, 50, 100])
        summary = dict(zip(("min", "p05", "median", "max"), map(float, quantiles)))
        return {"threshold": self.threshold, "percentile": self.percentile, "test_similarity": summary}

    def arrays(self) -> dict[str, dict[str, np.ndarray]]:
        """The file ``export_model(arrays=…)`` writes."""
        return {FILE: {"fingerprints": self.train}}

    def position_columns(self) -> dict[str, np.ndarray]:
        """``train_similarity`` and ``in_domain`` per valid position (meaningful for test rows)."""
        similarity = self.test_similarity
        with np.errstate(invalid="ignore"):
            return {SIMILARITY: similarity, IN_DOMAIN: similarity >= self.threshold}


def molecule_fingerprints(smiles: Sequence[str], featurizer: FeaturizerSpec, *, n_jobs: int = 1) -> np.ndarray:
    """Bit-packed fingerprints of valid SMILES, through the featurization path ``predict`` uses (same parsing and
    standardization): uint8 ``[len(smiles), N_BITS / 8]``."""
    result = featurize_smiles(smiles, featurizer, n_jobs=n_jobs, max_atoms=None, fingerprint=(RADIUS, N_BITS))
    if result.invalid or result.fingerprints is None:
        raise RuntimeError(f"{len(result.invalid)} molecules that featurized before failed to fingerprint")
    return result.fingerprints


def fit_domain(
    smiles: Sequence[str], splits: Sequence[Split], featurizer: FeaturizerSpec, *, percentile: float, n_jobs: int = 1
) -> TrainingDomain | None:
    """The applicability domain of a run (see the module docstring); None without test rows.

    Args:
        smiles: SMILES of the valid rows; splits: positions among them.
    """
    tested = np.concatenate([split.test for split in splits])
    if not len(tested):
        log.warning("no test molecules: the model is exported without an applicability domain")
        return None
    fingerprints = molecule_fingerprints(smiles, featurizer, n_jobs=n_jobs)
    similarity = np.full(len(smiles), np.nan)
    for split in splits:
        if len(split.test):
            similarity[split.test] = ReferenceFingerprints(fingerprints[split.train]).nearest(fingerprints[split.test])
    train_rows = np.unique(np.concatenate([split.train for split in splits]))
    threshold = float(np.percentile(similarity[tested], percentile))
    return TrainingDomain(fingerprints[train_rows], threshold, percentile, similarity)


@dataclass
class Domain:
    """The applicability domain of an exported model, ready to score inputs."""

    reference: ReferenceFingerprints
    threshold: float
    radius: int
    n_bits: int

    @property
    def fingerprint(self) -> tuple[int, int]:
        """``(radius, n_bits)`` for ``featurize_smiles(fingerprint=…)``."""
        return self.radius, self.n_bits

    def columns(self, fingerprints: np.ndarray, valid_index: np.ndarray, n_rows: int) -> dict[str, np.ndarray]:
        """``train_similarity`` (float64, NaN for invalid rows) and ``in_domain`` (bool, False for invalid rows)
        for ``n_rows`` input rows, of which rows ``valid_index`` have ``fingerprints`` ``[n_valid, n_bits / 8]``."""
        return self.columns_from_nearest(self.reference.nearest(fingerprints), valid_index, n_rows)

    def columns_from_nearest(self, nearest: np.ndarray, valid_index: np.ndarray, n_rows: int) -> dict[str, np.ndarray]:
        """:meth:`columns` from the rows' similarities already searched (``nearest``: float64 ``[n_valid]``, e.g.
        by :class:`~molgen.chem.featurize.chunks.ChunksAhead` in its workers)."""
        similarity = np.full(n_rows, np.nan)
        if len(valid_index):
            similarity[valid_index] = nearest
        with np.errstate(invalid="ignore"):
            return {SIMILARITY: similarity, IN_DOMAIN: similarity >= self.threshold}


def exported_domain(values: Any, read_fingerprints: Callable[[], np.ndarray | None], source: str) -> Domain | None:
    """The domain of an export from ``model.yaml``'s ``applicability_domain`` and ``read_fingerprints()``, the
    array of its :data:`FILE` (None for models without one: older or DNA models); ``source`` names the model."""
    if values is None:
        return None
    try:
        radius, n_bits, threshold = int(values["radius"]), int(values["n_bits"]), float(values["threshold"])
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFormatError(f"{source}: bad applicability_domain {values!r} ({err})") from None
    fingerprints = read_fingerprints()
    if fingerprints is None or fingerprints.dtype != np.uint8 or fingerprints.shape[1:] != (n_bits // 8,):
        found = None if fingerprints is None else (fingerprints.dtype, fingerprints.shape)
        raise ModelFormatError(f"{source}: {FILE} must hold uint8 fingerprints [n, {n_bits // 8}], got {found}")
    return Domain(ReferenceFingerprints(fingerprints), threshold, radius, n_bits)
