"""ChunksAhead: chunks in input order that equal featurize_smiles's result, from workers or the caller."""

from __future__ import annotations

import numpy as np
import pytest

from molgen.chem.featurize import chunks as chunks_module
from molgen.chem.featurize.chunks import ChunksAhead, featurize_ahead
from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles
from molgen.chem.featurize.packed_graphs import PackedGraphs
from molgen.chem.similarity import ReferenceFingerprints
from molgen.errors import ConfigError

INPUTS = ["CCO", "xyz", "c1ccccc1", None, "[13CH4]", "CC O", "", "N[C@@H](C)C(=O)[O-]", "C" * 30, "c1ccc2[nH]ccc2c1"]


@pytest.mark.parametrize("caller_takes_chunks", [True, False])
def test_chunks_equal_the_whole_featurization(caller_takes_chunks: bool):
    smiles = INPUTS * 3  # 30 inputs in chunks of 4: the last chunk is short
    spec = FeaturizerSpec()
    whole = featurize_smiles(smiles, spec, max_atoms=20, fingerprint=(2, 2048))
    reference = ReferenceFingerprints(featurize_smiles(["CCO", "c1ccccc1O"], fingerprint=(2, 2048)).fingerprints)
    ahead = ChunksAhead(
        smiles,
        spec,
        workers=1,
        chunk_size=4,
        max_atoms=20,
        fingerprint=(2, 2048),
        reference=reference,
        caller_takes_chunks=caller_takes_chunks,
    )
    chunks = list(ahead)
    assert len(chunks) == 8 and ahead.workers_done
    parts = [chunk.featurized for chunk in chunks]
    graphs = PackedGraphs.concat([part.graphs for part in parts])
    for name in ("atom_features", "bond_features", "edge_index", "atom_ptr", "edge_ptr"):
        np.testing.assert_array_equal(getattr(graphs, name), getattr(whole.graphs, name), err_msg=name)
    np.testing.assert_array_equal(np.concatenate([part.valid_index for part in parts]), whole.valid_index)
    assert [bad for part in parts for bad in part.invalid] == whole.invalid and len(whole.invalid) == 15
    fingerprints = [part.fingerprints for part in parts]
    assert all(f is not None and f.shape[1] == 256 for f in fingerprints)
    np.testing.assert_array_equal(np.concatenate(fingerprints), whole.fingerprints)
    nearest = np.concatenate([chunk.nearest for chunk in chunks])
    np.testing.assert_array_equal(nearest, reference.nearest(whole.fingerprints))
    with pytest.raises(RuntimeError, match="once"):
        list(ahead)


def test_small_inputs_and_one_process_are_not_featurized_ahead(monkeypatch: pytest.MonkeyPatch):
    assert featurize_ahead(["CCO"] * 10, FeaturizerSpec(), n_jobs=2) is None  # below OVERLAP_MIN_ROWS
    monkeypatch.setattr(chunks_module, "OVERLAP_MIN_ROWS", 5)
    assert featurize_ahead(["CCO"] * 10, FeaturizerSpec(), n_jobs=1) is None
    with featurize_ahead(["CCO"] * 10, FeaturizerSpec(), n_jobs=3) as ahead:
        assert ahead is not None and ahead.workers == 2
    with pytest.raises(ConfigError, match="at least 1 worker"):
        ChunksAhead(["CCO"], FeaturizerSpec(), workers=0)
