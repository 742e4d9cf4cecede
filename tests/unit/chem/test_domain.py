"""chem.domain without training: the threshold, the records and the columns of a domain."""

from __future__ import annotations

import numpy as np
import pytest

from molgen.analysis.prediction import load_domain
from molgen.chem.domain import Domain, fit_domain
from molgen.chem.featurize.graphs import FeaturizerSpec
from molgen.chem.fingerprints import pack
from molgen.chem.similarity import ReferenceFingerprints
from molgen.data.splits import Split
from molgen.errors import ModelFormatError
from molgen.training.artifacts import ModelSpec

SMILES = ["CCO", "CCCO", "CCCCO", "c1ccccc1", "c1ccccc1C", "c1ccccc1CC", "CC(=O)O", "CCC(=O)O", "C1CCCCC1", "CCN"]


def test_threshold_is_the_percentile_of_test_similarities() -> None:
    split = Split(np.arange(0, 6), np.zeros(0, np.int64), np.arange(6, 10))
    domain = fit_domain(SMILES, [split], FeaturizerSpec(), percentile=50)
    assert domain is not None
    tested = domain.test_similarity[6:]
    assert np.isnan(domain.test_similarity[:6]).all() and np.isfinite(tested).all()
    assert domain.threshold == pytest.approx(np.median(tested))
    assert domain.spec() == {"radius": 2, "n_bits": 2048, "threshold": domain.threshold, "n_train": 6}
    record = domain.record()
    assert record["percentile"] == 50 and record["test_similarity"]["max"] == pytest.approx(tested.max())
    columns = domain.position_columns()
    assert columns["in_domain"][6:].tolist() == (tested >= domain.threshold).tolist()
    assert not columns["in_domain"][:6].any()
    assert (
        fit_domain(
            SMILES, [Split(np.arange(10), np.zeros(0, np.int64), np.zeros(0, np.int64))], FeaturizerSpec(), percentile=5
        )
        is None
    )


def test_columns_leave_invalid_rows_empty() -> None:
    rng = np.random.default_rng(0)
    reference = pack((rng.random((5, 2048)) < 0.02).astype(np.uint8))
    domain = Domain(ReferenceFingerprints(reference), threshold=0.5, radius=2, n_bits=2048)
    queries = np.concatenate([reference[:1], pack(np.zeros((1, 2048), np.uint8))])
    columns = domain.columns(queries, np.array([0, 2]), 3)
    assert columns["train_similarity"][0] == 1.0 and np.isnan(columns["train_similarity"][1])
    assert columns["train_similarity"][2] == 0.0
    assert columns["in_domain"].tolist() == [True, False, False]


def test_a_bad_domain_section_is_a_model_format_error() -> None:
    assert load_domain(ModelSpec(family="property")) is None
    with pytest.raises(ModelFormatError, match="bad applicability_domain"):
        load_domain(ModelSpec(family="property", applicability_domain={"radius": 2}))
