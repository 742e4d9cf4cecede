"""`screen()` on a real Dask cluster (2 worker processes): same results as the serial path, and a
worker killed in the middle of a shard does not lose or change anything."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from tests.unit.screening.helpers import library_frame, tiny_models

from molgen.screening import screen

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def crash_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crash-requests")


#: Run by each worker at start-up (Dask's ``preload``): a file named after a shard id in the crash folder
#: makes the worker die (``os._exit``) on that shard once; the file is removed first, so the retry succeeds.
CRASH_HOOK = """
import os
from pathlib import Path

from molgen.screening import runner

_score_shard = getattr(runner.score_shard, "__wrapped__", runner.score_shard)  # Dask may run a preload twice


def _crashing_score_shard(shard, job):
    request = Path({crash_dir!r}) / shard.id
    if request.exists():
        request.unlink()
        os._exit(1)
    return _score_shard(shard, job)


_crashing_score_shard.__wrapped__ = _score_shard
runner.score_shard = _crashing_score_shard
"""


@pytest.fixture(scope="module")
def cluster(crash_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Two single-threaded worker processes with the crash hook installed (only in these test workers)."""
    hook = tmp_path_factory.mktemp("preload") / "molgen_crash_hook.py"
    hook.write_text(CRASH_HOOK.format(crash_dir=str(crash_dir)))
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, preload=[str(hook)]
    ) as c:
        yield c.scheduler_address


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> dict:
    ensemble, single = tiny_models(tmp_path_factory)
    library = tmp_path_factory.mktemp("library") / "lib.csv.gz"
    library_frame(150).to_csv(library, index=False)
    return {
        "models": [ensemble, single],
        "library": library,
        "chunk_size": 25,
        "top_k": 20,
        "acquisition": "ucb",
        "filters": "lipinski,pains",
    }


@pytest.fixture(scope="module")
def serial(job: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("serial")
    screen(output=out, workers=1, **job)
    return out


def results(output: Path) -> pd.DataFrame:
    return pd.read_parquet(output / "shards").sort_values(["source", "row"], ignore_index=True)


def assert_same_outputs(a: Path, b: Path) -> None:
    pd.testing.assert_frame_equal(results(a), results(b))
    pd.testing.assert_frame_equal(pd.read_csv(a / "top_k.csv"), pd.read_csv(b / "top_k.csv"))


@pytest.mark.slow
def test_dask_results_equal_the_serial_path(job, serial, cluster, tmp_path):
    result = screen(output=tmp_path / "dask", scheduler=cluster, **job)
    assert result.workers.startswith("dask") and len(result.computed) == 6
    assert len(results(tmp_path / "dask")) == 150
    assert_same_outputs(serial, tmp_path / "dask")


@pytest.mark.slow
def test_a_worker_killed_mid_shard_is_retried_and_nothing_is_lost(job, serial, cluster, crash_dir, tmp_path):
    (crash_dir / "00000-000002").touch()  # the first attempt of shard 2 kills its worker (os._exit)
    screen(output=tmp_path / "dask", scheduler=cluster, **job)
    assert not (crash_dir / "00000-000002").exists(), "the crash hook did not fire"
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert sorted(manifest["runs"][-1]["computed"]) == [f"00000-00000{i}" for i in range(6)]
    assert_same_outputs(serial, tmp_path / "dask")
