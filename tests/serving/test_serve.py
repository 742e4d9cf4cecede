"""`molgen serve` as a platform runs it: a real server process on loopback, real models, real HTTP."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from tests.conftest import MOLECULES
from tests.serving.server import FIXTURES, MOLGEN, Server

TOKEN = "s3cret-token-for-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LIMITS = ["--max-batch", "64", "--max-body-bytes", "20000", "--max-smiles-length", "60"]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A property model and a DNA model behind a token, with small limits."""
    folder = tmp_path_factory.mktemp("serve")
    (folder / "token").write_text(TOKEN + "\n")
    server = Server(
        "--model",
        f"esol={FIXTURES / 'property'}",
        "--model",
        f"dna={FIXTURES / 'expression'}",
        "--token-file",
        str(folder / "token"),
        *LIMITS,
        log_path=folder / "server.log",
    )
    yield server
    assert server.stop() in (0, -signal.SIGTERM), server.log()  # uvicorn ends with the signal it drained for
    assert "Application shutdown complete" in server.log()


def post(api: Server, path: str, body: object) -> httpx.Response:
    """JSON with ASCII escapes (a lone surrogate travels as ``\\ud800``, as other clients send it)."""
    headers = {**AUTH, "Content-Type": "application/json"}
    return httpx.post(f"{api.url}{path}", content=json.dumps(body).encode(), headers=headers, timeout=60)


def test_predict_one_item_per_input_in_order_with_invalid_items(api: Server):
    smiles = ["CCO", "not a smiles", "c1ccccc1", "", "C" * 61, "[Na+].[Cl-]", "C\ud800"]
    response = post(api, "/v1/models/esol/predict", {"smiles": smiles})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["smiles"] for item in items] == smiles
    assert [item["valid"] for item in items] == [True, False, True, False, False, True, False]
    assert "UTF-8" in items[6]["reason"]
    assert all(isinstance(item["y"], float) for item in items if item["valid"])
    assert all(item["y"] is None and item["reason"] for item in items if not item["valid"])
    assert "limit of 60 characters" in items[4]["reason"]
    assert all(item["reason"] is None for item in items if item["valid"])


def test_predict_matches_the_library(api: Server):
    """The server's items are the rows of `predict_frame` (what `molgen predict` writes), every column."""
    from molgen.analysis.prediction import load_model, predict_frame

    smiles = MOLECULES[:10] + ["C1CC"]
    items = post(api, "/v1/models/esol/predict", {"smiles": smiles}).json()["items"]
    local = predict_frame(load_model(FIXTURES / "property"), pd.DataFrame({"smiles": smiles}), n_jobs=1)
    assert [k for k in items[0] if k != "reason"] == [c for c in local.columns if c != "invalid_reason"]
    assert [item["valid"] for item in items] == local["valid"].tolist()
    for item, y in zip(items, local["y"]):
        assert (item["y"] is None and y != y) or item["y"] == pytest.approx(float(y), rel=1e-6)


def test_dna_predict_variant_effect_and_attribute(api: Server):
    seq = "ACGTTGCAACGTTGCAACGT"  # the model's 20 nt
    items = post(api, "/v1/models/dna/predict", {"sequences": [seq, "ACGZ"]}).json()["items"]
    assert [item["valid"] for item in items] == [True, False] and "Z" in items[1]["reason"]
    body = {
        "sequences": {"s1": seq},
        "variants": [
            {"sequence_id": "s1", "position": 3, "ref": "G", "alt": "A"},
            {"sequence_id": "s1", "position": 3, "ref": "T", "alt": "A"},  # wrong reference base
            {"sequence_id": "nope", "position": 1, "ref": "A", "alt": "C"},
        ],
    }
    response = post(api, "/v1/models/dna/variant-effect", body)
    assert response.status_code == 200, response.text
    effects = response.json()["items"]
    assert [e["valid"] for e in effects] == [True, False, False]
    assert effects[0]["y_diff"] == pytest.approx(effects[0]["y_alt"] - effects[0]["y_ref"])
    assert "nope" in effects[2]["reason"]
    response = post(api, "/v1/models/dna/attribute", {"sequences": [seq, "NNNX"], "method": "ism"})
    assert response.status_code == 200, response.text
    attributed = response.json()["items"]
    assert len(attributed[0]["importance"]) == 20 and attributed[0]["valid"]
    assert attributed[1]["valid"] is False and attributed[1]["importance"] is None
    unknown = post(api, "/v1/models/dna/attribute", {"sequences": [seq], "target": "nope"})
    assert unknown.status_code == 422 and "nope" in unknown.json()["detail"]


def test_models_probes_and_metrics(api: Server):
    models = httpx.get(f"{api.url}/v1/models", headers=AUTH).json()["models"]
    by_name = {m["name"]: m for m in models}
    assert by_name["esol"]["family"] == "property" and by_name["esol"]["targets"] == ["y"]
    assert by_name["esol"]["precision"] == by_name["dna"]["precision"] == "32"
    assert by_name["dna"]["endpoints"] == ["predict", "variant-effect", "attribute"]
    assert by_name["esol"]["spec"]["task"]["type"] == "regression" and by_name["esol"]["card"]
    assert httpx.get(f"{api.url}/healthz").json() == {"status": "ok"}  # probes need no token
    assert httpx.get(f"{api.url}/readyz").status_code == 200
    cors = httpx.get(f"{api.url}/healthz", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in cors.headers  # CORS is off unless --cors-origins
    post(api, "/v1/models/esol/predict", {"smiles": ["CCO", "xx"]})
    text = httpx.get(f"{api.url}/metrics", headers=AUTH).text
    assert 'molgen_requests_total{endpoint="/v1/models/{name}/predict",status="200"}' in text
    assert (
        "molgen_request_seconds_bucket" in text
        and 'molgen_items_total{endpoint="predict",model="esol",valid="false"}' in text
    )
    assert "molgen_batch_items_count" in text


def test_wrong_model_or_endpoint_or_input_kind(api: Server):
    assert post(api, "/v1/models/nope/predict", {"smiles": ["C"]}).status_code == 404
    assert post(api, "/v1/models/esol/generate", {"n": 2}).status_code == 404
    wrong = post(api, "/v1/models/esol/predict", {"sequences": ["ACGT"]})
    assert wrong.status_code == 422 and "smiles" in wrong.json()["detail"]
    both = post(api, "/v1/models/esol/predict", {"smiles": ["C"], "sequences": ["A"]})
    assert both.status_code == 422
    assert post(api, "/v1/models/esol/predict", {"smiles": ["C"], "path": "/etc/passwd"}).status_code == 422


def test_limits_401_413_422(api: Server):
    assert httpx.post(f"{api.url}/v1/models/esol/predict", json={"smiles": ["C"]}).status_code == 401
    wrong = httpx.get(f"{api.url}/v1/models", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    big = post(api, "/v1/models/esol/predict", {"smiles": ["C" * 50] * 500})  # ~26 kB
    assert big.status_code == 413 and "20000 bytes" in big.json()["detail"]
    many = post(api, "/v1/models/esol/predict", {"smiles": ["C"] * 65})
    assert many.status_code == 422 and "the limit is 64" in many.json()["detail"]
    assert post(api, "/v1/models/esol/predict", {"smiles": ["C"] * 64}).status_code == 200
    # a body streamed without Content-Length is counted as it arrives
    chunks = (b'{"smiles": [' + b'"CCCCCCCCCC",' * 1000 for _ in range(2))
    streamed = httpx.post(f"{api.url}/v1/models/esol/predict", content=chunks, headers=AUTH)
    assert streamed.status_code == 413


def test_access_log_is_json_lines(api: Server):
    post(api, "/v1/models/esol/predict", {"smiles": ["CCO"]})
    lines = [json.loads(line) for line in api.log().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "molgen.serve.access"]
    assert any(line["path"] == "/v1/models/esol/predict" and line["status"] == 200 for line in access)
    assert all({"time", "method", "ms", "client"} <= set(line) for line in access)


def test_dropped_connections_do_not_break_the_server(api: Server):
    body = json.dumps({"smiles": MOLECULES}).encode()
    head = (
        f"POST /v1/models/esol/predict HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()

    def rude(i: int) -> None:
        with socket.create_connection(("127.0.0.1", api.port)) as sock:
            sock.sendall(head + (body[: len(body) // 2] if i % 2 else body))  # half a body, or a whole one
            time.sleep(0.01 * (i % 3))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST

    threads = [threading.Thread(target=rude, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    response = post(api, "/v1/models/esol/predict", {"smiles": ["CCO"]})
    assert response.status_code == 200 and response.json()["items"][0]["valid"]
    assert api.process.poll() is None


def test_client_and_predict_url_write_the_local_output(api: Server, tmp_path: Path):
    from molgen.client import Client

    with Client(api.url, TOKEN) as client:
        items = client.predict("esol", ["CCO", "xx"])
        assert [item["valid"] for item in items] == [True, False]
        with pytest.raises(Exception, match="no model 'nope'"):
            client.model("nope")
    inputs = pd.DataFrame({"smiles": ["CCO", "not a smiles", "c1ccccc1", "", "C1CC"], "id": range(5)})
    inputs.to_csv(tmp_path / "in.csv", index=False)
    (tmp_path / "token").write_text(TOKEN)
    run = [MOLGEN, "predict", "--input", str(tmp_path / "in.csv")]
    remote = subprocess.run(
        [
            *run,
            "--url",
            api.url,
            "--model",
            "esol",
            "--token-file",
            str(tmp_path / "token"),
            "--output",
            str(tmp_path / "r.csv"),
        ],
        capture_output=True,
        text=True,
    )
    assert remote.returncode == 0, remote.stderr
    local = subprocess.run(
        [*run, "--model", str(FIXTURES / "property"), "--output", str(tmp_path / "l.csv")],
        capture_output=True,
        text=True,
    )
    assert local.returncode == 0, local.stderr
    assert remote.stdout.replace("r.csv", "l.csv") == local.stdout
    assert remote.stderr.count("invalid input") == local.stderr.count("invalid input") == 3
    r, lo = pd.read_csv(tmp_path / "r.csv"), pd.read_csv(tmp_path / "l.csv")
    pd.testing.assert_frame_equal(r, lo, rtol=1e-6)
    no_token = subprocess.run(
        [*run, "--url", api.url, "--model", "esol", "--output", str(tmp_path / "x.csv")], capture_output=True, text=True
    )
    assert no_token.returncode == 2 and "HTTP 401" in no_token.stderr


def test_serve_refuses_bad_options_in_one_line(tmp_path: Path):
    def serve(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([MOLGEN, "serve", *args], capture_output=True, text=True, timeout=120)

    missing = serve("--model", f"x={tmp_path / 'nowhere'}")
    assert missing.returncode == 2 and "model.yaml" in missing.stderr and len(missing.stderr.splitlines()) == 1
    assert "expected NAME=DIR" in serve("--model", "just-a-dir").stderr
    (tmp_path / "short").write_text("abc")
    short = serve("--model", f"x={FIXTURES / 'property'}", "--token-file", str(tmp_path / "short"))
    assert short.returncode == 2 and "at least 16 characters" in short.stderr
    assert "--max-batch" in serve("--help").stdout
