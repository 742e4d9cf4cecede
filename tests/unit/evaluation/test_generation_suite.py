"""The full suite on tiny handmade sets with a user reference file: keys, values, notes, report files."""

from __future__ import annotations

import json
import math

import pytest

from molgen.evaluation.generation.basic import evaluate_generation
from molgen.evaluation.generation.reference import read_smiles
from molgen.evaluation.generation.sets import SetStatistics, compute_set_statistics
from molgen.evaluation.generation.suite import metric_keys, run_evaluation

REFERENCE = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "CC(=O)Nc1ccc(O)cc1",
    "c1ccc2c(c1)CCN2C(=O)c1ccccc1",
    "CCOC(=O)c1ccc(N)cc1",
    "Cc1ccc(-c2ccccn2)cc1",
    "O=C(O)c1ccc2ccccc2c1",
]


@pytest.fixture(autouse=True)
def _needs_mirror(data_mirror):
    """Filters read the MOSES SMARTS files through the data mirror."""


@pytest.fixture
def reference_file(tmp_path):
    path = tmp_path / "reference.smi"
    path.write_text("\n".join(REFERENCE) + "\n")
    return path


def test_generated_equal_to_reference_scores_like_the_reference(reference_file, tmp_path):
    generated = ["OC(=O)c1ccccc1OC(C)=O", *REFERENCE[1:]]  # aspirin spelled differently
    evaluation = run_evaluation(generated, reference_file, tmp_path / "out", train=reference_file, n_jobs=1)
    m = evaluation.metrics
    assert list(m) == metric_keys(["Test"], with_novelty=True)
    assert m["valid"] == 1.0 and m["unique@1000"] == 1.0
    assert m["SNN/Test"] == pytest.approx(1.0)
    assert m["Frag/Test"] == pytest.approx(1.0) and m["Scaf/Test"] == pytest.approx(1.0)
    assert m["FCD/Test"] == pytest.approx(0.0, abs=1e-3)  # FCD uses canonical SMILES
    assert all(m[key] == pytest.approx(0.0) for key in ("logP", "SA", "QED", "weight"))
    assert m["Novelty"] == 0.0 and m["Filters"] == 1.0
    assert any("TestSF metrics are omitted" in note for note in evaluation.notes)
    written = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert list(written) == list(m)
    assert "TestSF metrics are omitted" in (tmp_path / "out" / "metrics.md").read_text()
    assert (tmp_path / "out" / "properties.png").stat().st_size > 1000
    assert (tmp_path / "out" / "molecules.png").stat().st_size > 1000


def test_invalid_and_charged_molecules_count(reference_file, tmp_path):
    generated = ["CCO", "", "C1CC", "CC[NH3+]", "c1ccccc1", "CCO"]
    m = evaluate_generation(generated, reference_file, None, train=None, n_jobs=1)
    assert m["valid"] == pytest.approx(4 / 6)
    assert m["Filters"] == pytest.approx(3 / 4)  # the ammonium is charged
    assert m["unique@1000"] == pytest.approx(3 / 4)
    assert "Novelty" not in m


@pytest.mark.parametrize("generated", [[], ["", "not a molecule", "C1CC"]])
def test_empty_or_all_invalid_input_still_gives_a_report(generated, reference_file, tmp_path):
    evaluation = run_evaluation(generated, reference_file, tmp_path / "out", n_jobs=1)
    assert evaluation.metrics["valid"] == 0.0
    assert all(math.isnan(v) for k, v in evaluation.metrics.items() if k != "valid")
    written = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert written["valid"] == 0.0 and written["FCD/Test"] is None
    report = (tmp_path / "out" / "metrics.md").read_text()
    assert "undefined (NaN)" in report
    assert f"{len(generated)} invalid" in report


def test_set_statistics_round_trip(tmp_path):
    stats = compute_set_statistics(REFERENCE, properties=True, filters=True, fcd=True, n_jobs=1)
    stats.save(tmp_path / "stats")
    loaded = SetStatistics.load(tmp_path / "stats")
    assert (loaded.fingerprints == stats.fingerprints).all() and loaded.n == 6
    assert loaded.fragments == stats.fragments and loaded.scaffolds == stats.scaffolds
    assert (loaded.fcd.sigma == stats.fcd.sigma).all() and (loaded.passes_filters == stats.passes_filters).all()
    assert all((loaded.properties[k] == v).all() for k, v in stats.properties.items())


def test_reference_statistics_are_cached(tmp_path):
    reference_file = tmp_path / "own_reference.smi"
    reference_file.write_text("\n".join(REFERENCE[:4]) + "\n")  # content no other test uses
    first = run_evaluation(["CCO", "c1ccccc1O"], reference_file, None, n_jobs=1)
    second = run_evaluation(["CCO", "c1ccccc1O"], reference_file, None, n_jobs=1)
    assert first.details["references"]["Test"]["cached"] is False
    assert second.details["references"]["Test"]["cached"] is True
    assert first.metrics["FCD/Test"] == second.metrics["FCD/Test"]


def test_read_smiles_keeps_blank_lines_as_invalid_records(tmp_path):
    path = tmp_path / "gen.smi"
    path.write_text("CCO name1\n\nc1ccccc1\n")
    assert read_smiles(path) == ["CCO", "", "c1ccccc1"]
    table = tmp_path / "gen.csv"
    table.write_text("id,smiles\n1,CCO\n2,\n")
    assert read_smiles(table) == ["CCO", ""]
    with pytest.raises(ValueError, match="no column 'SMILES_X'"):
        read_smiles(table, "SMILES_X")


def test_chemnet_shards_resume_after_an_interruption(tmp_path, monkeypatch):
    from molgen.evaluation.generation import reference as ref

    monkeypatch.setattr(ref, "FCD_SHARD", 2)
    path = tmp_path / "shards.smi"
    path.write_text("\n".join(REFERENCE[:5]) + "\nnot_a_smiles\n")
    source = ref.file_source(path)
    first, meta = ref.reference_statistics(source, properties=False, n_jobs=1)
    assert meta["n_valid"] == 5 and meta["n_invalid"] == 1
    folder = ref._cache_folder(source, "reference")
    shards = sorted((folder / "fcd_shards").glob("shard_*.npz"))
    assert [s.name for s in shards] == ["shard_0000.npz", "shard_0001.npz", "shard_0002.npz"]
    (folder / "meta.json").unlink()  # as if the run had stopped before finishing
    shards[1].unlink()
    second, meta = ref.reference_statistics(source, properties=False, n_jobs=1)
    assert meta["cached"] is False
    assert second.fcd.n == 5 and abs(second.fcd.sigma - first.fcd.sigma).max() < 1e-9
