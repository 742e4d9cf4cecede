"""featurize_chunks: chunks in input order that equal featurize_smiles's result, from workers or the caller."""

from __future__ import annotations

import numpy as np
import pytest

from molgen.chem.featurize.chunks import featurize_chunks
from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles
from molgen.chem.featurize.packed_graphs import PackedGraphs
from molgen.errors import ConfigError

INPUTS = ["CCO", "xyz", "c1ccccc1", None, "[13CH4]", "CC O", "", "N[C@@H](C)C(=O)[O-]", "C" * 30, "c1ccc2[nH]ccc2c1"]


@pytest.mark.parametrize("caller_takes_chunks", [True, False])
def test_chunks_equal_the_whole_featurization(caller_takes_chunks: bool):
    smiles = INPUTS * 3  # 30 inputs in chunks of 4: the last chunk is short
    spec = FeaturizerSpec()
    whole = featurize_smiles(smiles, spec, max_atoms=20, fingerprint=(2, 2048))
    chunks = list(
        featurize_chunks(
            smiles,
            spec,
            workers=1,
            chunk_size=4,
            max_atoms=20,
            fingerprint=(2, 2048),
            caller_takes_chunks=caller_takes_chunks,
        )
    )
    assert len(chunks) == 8
    graphs = PackedGraphs.concat([chunk.graphs for chunk in chunks])
    for name in ("atom_features", "bond_features", "edge_index", "atom_ptr", "edge_ptr"):
        np.testing.assert_array_equal(getattr(graphs, name), getattr(whole.graphs, name), err_msg=name)
    np.testing.assert_array_equal(np.concatenate([chunk.valid_index for chunk in chunks]), whole.valid_index)
    assert [bad for chunk in chunks for bad in chunk.invalid] == whole.invalid and len(whole.invalid) == 15
    fingerprints = [chunk.fingerprints for chunk in chunks]
    assert all(f is not None and f.shape[1] == 256 for f in fingerprints)
    np.testing.assert_array_equal(np.concatenate(fingerprints), whole.fingerprints)


def test_at_least_one_worker():
    with pytest.raises(ConfigError, match="at least 1 worker"):
        next(featurize_chunks(["CCO"], FeaturizerSpec(), workers=0))
