"""Property values use molgen.chem.scores; distances are 1-D Wasserstein distances."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rdkit import Chem

from molgen.evaluation.generation.properties import PROPERTIES, property_values, wasserstein_distances


def test_keys_are_moses_names_and_values_per_molecule():
    values = property_values([Chem.MolFromSmiles(s) for s in ("CCO", "c1ccccc1")])
    assert list(values) == ["logP", "SA", "QED", "weight"] == list(PROPERTIES)
    assert values["weight"] == pytest.approx([46.069, 78.114], abs=1e-3)


def test_identical_sets_are_at_distance_zero_and_a_shift_moves_by_the_shift():
    ref = {key: np.array([1.0, 2.0, 3.0]) for key in PROPERTIES}
    shifted = {key: values + 0.5 for key, values in ref.items()}
    assert all(v == 0.0 for v in wasserstein_distances(ref, ref).values())
    assert all(v == pytest.approx(0.5) for v in wasserstein_distances(ref, shifted).values())
    assert all(math.isnan(v) for v in wasserstein_distances({}, ref).values())
