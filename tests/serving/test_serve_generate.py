"""`POST /v1/models/{name}/generate` with a CharRNN trained here (few rows, 2 epochs)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest
from tests.conftest import MOLECULES
from tests.serving.server import MOLGEN, Server

CONFIG = Path(__file__).parents[2] / "configs" / "generation" / "charrnn_moses.yaml"
TINY = ["--hidden-dim", "32", "--depth", "1", "--max-epochs", "2", "--batch-size", "16"]
TINY += ["--set", "model.sample_size=10", "--set", "model.embedding_dim=16"]


@pytest.mark.slow
def test_generate_is_reproducible_and_limited(tmp_path: Path):
    data = tmp_path / "mols.smi"
    data.write_text("\n".join(MOLECULES) + "\n")
    run = tmp_path / "charrnn"
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    trained = subprocess.run(
        [MOLGEN, "train", "--config", str(CONFIG), "--data", str(data), "--output", str(run), *TINY],
        capture_output=True,
        text=True,
        env=env,
    )
    assert trained.returncode == 0, trained.stderr
    server = Server("--model", f"gen={run}", "--max-generate", "50", log_path=tmp_path / "server.log")
    try:
        url = f"{server.url}/v1/models/gen/generate"
        first = httpx.post(url, json={"n": 7, "seed": 3}, timeout=60)
        assert first.status_code == 200, first.text
        items = first.json()["items"]
        assert len(items) == 7 and all(isinstance(i["smiles"], str) and isinstance(i["valid"], bool) for i in items)
        assert httpx.post(url, json={"n": 7, "seed": 3}, timeout=60).json()["items"] == items
        hot = httpx.post(url, json={"n": 7, "seed": 3, "temperature": 2.0}, timeout=60)
        assert hot.status_code == 200 and len(hot.json()["items"]) == 7
        too_many = httpx.post(url, json={"n": 51}, timeout=60)
        assert too_many.status_code == 422 and "the limit is 50" in too_many.json()["detail"]
        objective = httpx.post(url, json={"n": 3, "objective": "qed"}, timeout=60)
        assert objective.status_code == 422 and "latent space" in objective.json()["detail"]
        models = httpx.get(f"{server.url}/v1/models").json()["models"]
        assert models[0]["family"] == "generation" and models[0]["endpoints"] == ["generate"]
        assert httpx.post(f"{server.url}/v1/models/gen/predict", json={"smiles": ["C"]}).status_code == 404

        from molgen.client import Client

        with Client(server.url) as client:
            assert [i["smiles"] for i in client.generate("gen", 7, seed=3)] == [i["smiles"] for i in items]
    finally:
        server.stop()


@pytest.mark.slow
def test_generate_with_an_objective_on_a_vae(tmp_path: Path):
    data = tmp_path / "mols.smi"
    data.write_text("\n".join(MOLECULES) + "\n")
    run = tmp_path / "vae"
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    vae = ["--model", "vae", "--set", "model.latent_dim=8", "--set", "model.encoder_hidden_dim=16"]
    trained = subprocess.run(
        [MOLGEN, "train", "--data", str(data), "--output", str(run), *vae, *TINY],
        capture_output=True,
        text=True,
        env=env,
    )
    assert trained.returncode == 0, trained.stderr
    server = Server("--model", f"vae={run}", log_path=tmp_path / "server.log")
    try:
        body = {"n": 3, "seed": 0, "objective": "qed", "rounds": 1}
        response = httpx.post(f"{server.url}/v1/models/vae/generate", json=body, timeout=120)
        assert response.status_code == 200, response.text
        out = response.json()
        assert all(isinstance(i["score"], float) and i["valid"] for i in out["items"])
        scores = [i["score"] for i in out["items"]]
        assert scores == sorted(scores, reverse=True)  # best first
        assert out["summary"]["objective"] == "qed" and {"before", "after"} <= set(out["summary"])
        paths = httpx.post(f"{server.url}/v1/models/vae/generate", json={"n": 2, "objective": "/tmp/model:y"})
        assert paths.status_code == 422  # objectives that load a model (a path) are not accepted from clients
    finally:
        server.stop()
