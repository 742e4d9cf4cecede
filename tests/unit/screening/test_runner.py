"""`screen()` in-process: one row per input, every format, ensembles, filters, ranking, resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.unit.screening.helpers import INVALID, library_frame, write_sdf

from molgen.analysis.prediction import load_model, predict_frame
from molgen.screening import runner, screen

N = 120


def results(output: Path) -> pd.DataFrame:
    return pd.read_parquet(output / "shards").sort_values(["source", "row"], ignore_index=True)


def manifest(output: Path) -> dict:
    return json.loads((output / "manifest.json").read_text())


@pytest.fixture
def library(tmp_path: Path) -> Path:
    path = tmp_path / "lib.csv.gz"
    library_frame(N).to_csv(path, index=False)
    return path


def test_every_input_row_gets_one_result_row_and_the_ensemble_pools_all_members(models, library, tmp_path):
    ensemble, single = models
    result = screen([ensemble, single], library, tmp_path / "out", chunk_size=25, workers=1, top_k=10)
    out = results(tmp_path / "out")
    assert len(out) == N and out["row"].tolist() == list(range(N)) and out["source"].eq("lib.csv.gz").all()
    assert out["id"].tolist() == [f"mol{i}" for i in range(N)]
    assert sorted(np.flatnonzero(~out["valid"])) == sorted(INVALID)
    assert out.loc[~out["valid"], "invalid_reason"].str.len().gt(0).all()
    assert out.loc[~out["valid"], ["logp", "logp_std"]].isna().all().all()
    assert out.loc[~out["valid"], "passes_filters"].isna().all() and out.loc[out["valid"], "passes_filters"].all()
    assert (result.n_rows, result.n_invalid, result.n_shards, result.reused) == (N, len(INVALID), 5, 0)
    # 3 members in all (2 + 1), each one vote: matches `predict_frame` of each model
    frame = library_frame(N)
    a = predict_frame(load_model(ensemble), frame, n_jobs=1)["logp"].to_numpy()
    b = predict_frame(load_model(single), frame, n_jobs=1)["logp"].to_numpy()
    np.testing.assert_allclose(out["logp"], (2 * a + b) / 3, rtol=1e-5, equal_nan=True)
    top = pd.read_csv(tmp_path / "out" / "top_k.csv")
    best = out[out["valid"]].sort_values(["logp", "source", "row"], ascending=[False, True, True]).head(10)
    assert top["row"].tolist() == best["row"].tolist() and top["rank"].tolist() == list(range(1, 11))


def test_by_default_two_cores_split_the_work_by_kind_and_give_the_single_process_result(models, tmp_path, monkeypatch):
    """On 2 cores the default run predicts here while a worker featurizes ahead (2,100 rows: more than one block
    of 2,048); its rows equal those of `--workers 1`."""
    ensemble, _ = models
    library = tmp_path / "lib.parquet"
    library_frame(2100).to_parquet(library)
    monkeypatch.setattr(runner, "_available_cores", lambda: 2)
    ahead = screen([ensemble], library, tmp_path / "ahead", chunk_size=2100, top_k=5)
    alone = screen([ensemble], library, tmp_path / "alone", chunk_size=2100, top_k=5, workers=1)
    assert (ahead.workers, alone.workers) == ("this process, 1 featurizing ahead", "this process")
    assert ahead.n_invalid == alone.n_invalid == len(INVALID)
    pd.testing.assert_frame_equal(results(tmp_path / "ahead"), results(tmp_path / "alone"))


@pytest.mark.parametrize("kind", ["smi", "sdf.gz", "parquet"])
def test_other_formats(models, tmp_path, kind):
    frame = library_frame(40)
    path = tmp_path / f"lib.{kind}"
    if kind == "smi":
        path.write_text("".join(f"{s.replace(' ', '_') or '_'} {i}\n" for s, i in zip(frame["smiles"], frame["id"])))
    elif kind == "sdf.gz":
        write_sdf(path, frame["smiles"].tolist(), frame["id"].tolist())
    else:
        pq.write_table(pa.Table.from_pandas(frame), path, row_group_size=16)
    screen([models[1]], path, tmp_path / "out", chunk_size=15, workers=0)
    out = results(tmp_path / "out")
    assert len(out) == 40 and out["id"].tolist() == frame["id"].tolist()
    assert sorted(np.flatnonzero(~out["valid"])) == [i for i in INVALID if i < 40]


def test_filters_keep_rows_but_leave_them_out_of_the_ranking(models, tmp_path):
    frame = pd.DataFrame(
        {"smiles": ["CCO", "O=C1C(=Cc2ccccc2)SC(=S)N1", "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCc1ccccc1", "bad"]}
    )
    frame.to_csv(tmp_path / "lib.csv", index=False)
    result = screen([models[1]], tmp_path / "lib.csv", tmp_path / "out", filters="lipinski,pains", workers=1)
    out = results(tmp_path / "out")
    assert out["passes_filters"].tolist() == [True, False, False, None]  # None: invalid, not filtered
    assert pd.isna(out.loc[0, "failed_filters"]) and out["failed_filters"].tolist()[1:3] == ["pains", "lipinski"]
    assert "ene_rhod_A" in out.loc[1, "filter_reasons"] and "2 violations" in out.loc[2, "filter_reasons"]
    assert result.n_filtered == 2 and pd.read_csv(tmp_path / "out" / "top_k.csv")["row"].tolist() == [0]


def test_ucb_ranks_by_mean_plus_kappa_std(models, library, tmp_path):
    screen([models[0]], library, tmp_path / "out", acquisition="ucb", kappa=2.0, top_k=7, workers=1, chunk_size=50)
    top = pd.read_csv(tmp_path / "out" / "top_k.csv")
    np.testing.assert_allclose(top["score"], top["logp"] + 2.0 * top["logp_std"])
    out = results(tmp_path / "out").dropna(subset=["logp"])
    expected = (out["logp"] + 2 * out["logp_std"]).sort_values(ascending=False).head(7)
    np.testing.assert_allclose(top["score"], expected.to_numpy())
    with pytest.raises(ValueError, match="ucb needs an ensemble"):
        screen([models[1]], library, tmp_path / "out2", acquisition="ucb", workers=1)


def test_resume_recomputes_only_missing_or_broken_shards(models, library, tmp_path, monkeypatch):
    out = tmp_path / "out"
    calls = []
    real = runner.score_shard

    def crash_on_third(shard, job):
        calls.append(shard.id)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the run is stopped mid-way
        return real(shard, job)

    monkeypatch.setattr(runner, "score_shard", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        screen([models[0]], library, out, chunk_size=25, workers=1)
    assert sorted(p.name for p in (out / "shards").glob("*.parquet")) == [
        "00000-000000.parquet",
        "00000-000001.parquet",
    ]
    monkeypatch.setattr(runner, "score_shard", real)

    screen([models[0]], library, out, chunk_size=25, workers=1)  # resume
    assert manifest(out)["runs"][-1]["computed"] == ["00000-000002", "00000-000003", "00000-000004"]
    assert manifest(out)["runs"][-1]["reused"] == 2
    reference = results(out)
    top = (out / "top_k.csv").read_text()

    mtimes = {p.name: p.stat().st_mtime_ns for p in (out / "shards").glob("*.parquet")}
    (out / "shards" / "00000-000001.parquet").unlink()
    (out / "shards" / "00000-000003.parquet").write_bytes(b"PAR1 truncated")
    result = screen([models[0]], library, out, chunk_size=25, workers=1)
    assert result.computed == ["00000-000001", "00000-000003"] and result.reused == 3
    assert manifest(out)["runs"][-1]["computed"] == ["00000-000001", "00000-000003"]
    for name, mtime in mtimes.items():
        if name not in ("00000-000001.parquet", "00000-000003.parquet"):
            assert (out / "shards" / name).stat().st_mtime_ns == mtime, name
    pd.testing.assert_frame_equal(results(out), reference)
    assert (out / "top_k.csv").read_text() == top
    assert not list((out / "shards").glob(".*tmp"))


def test_a_different_job_in_the_same_output_is_refused_but_reranking_is_allowed(models, library, tmp_path):
    out = tmp_path / "out"
    screen([models[0]], library, out, chunk_size=50, workers=1, top_k=5)
    with pytest.raises(ValueError, match="different parameters.*filters"):
        screen([models[0]], library, out, chunk_size=50, workers=1, filters="pains")
    with pytest.raises(ValueError, match="different parameters.*chunk_size"):
        screen([models[0]], library, out, chunk_size=40, workers=1)
    with pytest.raises(ValueError, match="different parameters.*models"):
        screen([models[0], models[1]], library, out, chunk_size=50, workers=1)
    result = screen([models[0]], library, out, chunk_size=50, workers=1, top_k=3, ascending=True)
    assert result.computed == [] and len(result.top_k) == 3
    assert result.top_k["score"].is_monotonic_increasing
    assert manifest(out)["ranking"]["ascending"] is True
