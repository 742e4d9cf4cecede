"""featurize_smiles end to end: validity, order, spec, cache, processes."""

import os

import numpy as np
import pytest
from rdkit import Chem

from molgen.chem.featurize import graphs as graphs_module
from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles
from molgen.chem.featurize.packed_graphs import PackedGraphs

SPECIAL = [
    "C",  # single atom
    "[Na+].[Cl-]",  # salt
    "[13CH4]",  # isotope
    "[2H]C",  # explicit deuterium
    "C/C=C/C",  # E/Z stereo
    "N[C@@H](C)C(=O)O",  # tetrahedral stereo
    "C1CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC1",  # 36-membered ring
]
INVALID = ["C1CC", "xyz", "", None, float("nan"), "N(C)(C)(C)(C)C"]
ARRAYS = ("atom_features", "bond_features", "edge_index", "atom_ptr", "edge_ptr")


def assert_same_graphs(actual: PackedGraphs, expected: PackedGraphs):
    for name in ARRAYS + ("mol_features",):
        a, b = getattr(actual, name), getattr(expected, name)
        if b is None:
            assert a is None
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_special_molecules_featurize():
    result = featurize_smiles(SPECIAL)
    assert result.invalid == [] and result.valid_index.tolist() == list(range(len(SPECIAL)))
    expected_atoms = [Chem.MolFromSmiles(s).GetNumAtoms() for s in SPECIAL]
    assert result.graphs.num_atoms.tolist() == expected_atoms == [1, 2, 1, 2, 4, 6, 36]
    assert result.graphs.num_edges.tolist() == [0, 0, 0, 2, 6, 10, 72]
    isotope_mass = result.graphs.atom_features[result.graphs.atom_ptr[2], -1]
    assert isotope_mass == pytest.approx(0.01 * 13.00335, abs=1e-6)
    stereo_e = 7 + 3  # bond stereo block starts at column 7; STEREOE is its 4th slot
    assert result.graphs.bond_features[result.graphs.edge_ptr[4] + 2, stereo_e] == 1.0
    cw_or_ccw = result.graphs.atom_features[result.graphs.atom_ptr[5] + 1, 38 + 7 + 6 + 1 : 38 + 7 + 6 + 3]
    assert cw_or_ccw.sum() == 1.0  # the stereocentre has a CW or CCW chiral tag


def test_invalid_inputs_are_reported_and_skipped_in_order():
    inputs = ["CCO", *INVALID, "c1ccccc1", "C"]
    result = featurize_smiles(inputs)
    assert result.valid_index.tolist() == [0, 7, 8]
    assert [record.index for record in result.invalid] == [1, 2, 3, 4, 5, 6]
    assert [record.smiles for record in result.invalid] == ["C1CC", "xyz", "", "", "", "N(C)(C)(C)(C)C"]
    reasons = [record.reason for record in result.invalid]
    assert reasons[0] == "SMILES syntax error: unclosed ring"
    assert reasons[2:5] == ["empty SMILES", "missing value (None)", "missing value (NaN)"]
    assert reasons[5].startswith("sanitization failed: Explicit valence for atom # 0 N")
    assert result.graphs.num_atoms.tolist() == [3, 6, 1]  # CCO, benzene, C: input order


def test_all_invalid_gives_empty_graphs():
    result = featurize_smiles(INVALID)
    assert len(result.graphs) == 0 and len(result.invalid) == len(INVALID)


def test_spec_roundtrip_and_strictness():
    spec = FeaturizerSpec(atom_features="organic", descriptors=True)
    assert FeaturizerSpec.from_dict(spec.to_dict()) == spec
    assert FeaturizerSpec.from_dict({}) == FeaturizerSpec()
    with pytest.raises(ValueError, match=r"unknown FeaturizerSpec keys \['atom_feature'\].*atom_features"):
        FeaturizerSpec.from_dict({"atom_feature": "v2"})
    with pytest.raises(ValueError, match="unknown atom feature preset 'v3'; valid presets: organic, v1, v2"):
        FeaturizerSpec.from_dict({"atom_features": "v3"})
    with pytest.raises(ValueError, match="descriptors must be a bool"):
        FeaturizerSpec(descriptors="yes")


@pytest.mark.parametrize("spec", [FeaturizerSpec(), FeaturizerSpec("organic", descriptors=True)])
def test_cache_hit_loads_equal_data_without_recomputing(tmp_path, monkeypatch, spec):
    inputs = ["CCO", "xyz", None, "c1ccccc1", "[Na+].[Cl-]"]
    first = featurize_smiles(inputs, spec, cache_dir=tmp_path)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and not first.from_cache
    stat = files[0].stat()

    def fail(*args, **kwargs):
        raise AssertionError("recomputed despite a cache hit")

    monkeypatch.setattr(graphs_module, "_featurize_chunk", fail)
    second = featurize_smiles(inputs, spec, cache_dir=tmp_path)
    assert second.from_cache
    assert list(tmp_path.iterdir()) == files and files[0].stat().st_mtime_ns == stat.st_mtime_ns
    assert_same_graphs(second.graphs, first.graphs)
    np.testing.assert_array_equal(second.valid_index, first.valid_index)
    assert second.invalid == first.invalid
    with pytest.raises(AssertionError, match="recomputed"):  # other inputs or spec: a miss
        featurize_smiles(inputs + ["C"], spec, cache_dir=tmp_path)
    with pytest.raises(AssertionError, match="recomputed"):
        featurize_smiles(inputs, FeaturizerSpec(atom_features="v1"), cache_dir=tmp_path)


def test_cache_key_tells_nan_from_the_string_nan(tmp_path):
    featurize_smiles([float("nan")], cache_dir=tmp_path)
    result = featurize_smiles(["nan"], cache_dir=tmp_path)
    assert not result.from_cache and len(list(tmp_path.iterdir())) == 2


def test_two_processes_equal_one(monkeypatch):
    base = [
        "CC(=O)Oc1ccccc1C(=O)O",
        "c1ccc2[nH]ccc2c1",
        "N[C@@H](C)C(=O)[O-]",
        "[Na+].[Cl-]",
        "C/C=C/C",
        "[13CH4]",
        "*c1ccccc1",
        "xyz",
        None,
        "C1CCCCCCCCCCCCCCCCCCCCCCCCCCCCC1",
    ]
    inputs = [base[i % len(base)] for i in range(300)]
    monkeypatch.setattr(graphs_module, "_CHUNK_SIZE", 25)
    monkeypatch.setattr(graphs_module, "_MIN_MOLECULES_PER_PROCESS", 50)
    assert graphs_module.resolve_processes(2, len(inputs)) == 2
    serial = featurize_smiles(inputs, n_jobs=1)
    parallel = featurize_smiles(inputs, n_jobs=2)
    assert_same_graphs(parallel.graphs, serial.graphs)
    np.testing.assert_array_equal(parallel.valid_index, serial.valid_index)
    assert parallel.invalid == serial.invalid and len(serial.invalid) == 60


def test_worker_processes_return_the_same_chunks():
    smiles = ["CCO", "xyz", "c1ccccc1", None, "[13CH4]", "C" * 9]
    tasks = [(start, smiles, False, "none", 8, (2, 2048)) for start in (0, 6, 12)]
    serial = graphs_module._run_chunks(tasks, 1)
    in_workers = graphs_module._run_chunks(tasks, 2, parent_takes_tasks=False)
    assert all(chunk.process_id != os.getpid() for chunk in in_workers)
    for got, expected in zip(in_workers, serial):
        np.testing.assert_array_equal(got.valid_index, expected.valid_index)
        assert got.invalid == expected.invalid
        assert got.fingerprints is not None and got.fingerprints.shape == (3, 256)
        np.testing.assert_array_equal(got.fingerprints, expected.fingerprints)
        for name in ("atom_props", "atom_mass", "bond_atoms", "bond_props", "atom_counts"):
            np.testing.assert_array_equal(getattr(got.tables, name), getattr(expected.tables, name))


def test_fingerprints_come_from_the_featurized_molecules():
    from molgen.chem.fingerprints import morgan_packed

    smiles = ["CCO", "not a smiles", "[Na+].[Cl-].c1ccccc1C(=O)[O-]", "C1CC1N"]
    result = featurize_smiles(smiles, FeaturizerSpec(standardize="basic"), fingerprint=(2, 2048))
    assert result.valid_index.tolist() == [0, 2, 3]
    standardized = ["CCO", "O=C(O)c1ccccc1", "NC1CC1"]  # basic: largest organic fragment, neutralized
    expected = morgan_packed([Chem.MolFromSmiles(s) for s in standardized], radius=2, n_bits=2048)
    np.testing.assert_array_equal(result.fingerprints, expected)
    assert featurize_smiles(["CCO"]).fingerprints is None
    with pytest.raises(ValueError, match="not cached"):
        featurize_smiles(["CCO"], cache_dir="unused", fingerprint=(2, 2048))


def test_small_inputs_stay_serial_and_n_jobs_is_checked():
    assert graphs_module.resolve_processes(-1, 100) == 1
    assert graphs_module.resolve_processes(2, 10_000) == 2
    with pytest.raises(ValueError, match="n_jobs"):
        featurize_smiles(["C"], n_jobs=0)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_cache_file_is_a_miss_and_gets_rewritten(tmp_path, damage):
    first = featurize_smiles(["CCO"], cache_dir=tmp_path)
    (path,) = tmp_path.iterdir()
    path.write_bytes(b"not an npz" if damage == "garbage" else path.read_bytes()[:200])
    again = featurize_smiles(["CCO"], cache_dir=tmp_path)
    assert not again.from_cache
    assert_same_graphs(again.graphs, first.graphs)
    assert featurize_smiles(["CCO"], cache_dir=tmp_path).from_cache
