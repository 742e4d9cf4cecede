"""`molgen federate` end to end: real Flower server and site processes on loopback, tiny files, 2 rounds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import MOLECULES

from molgen.cli.main import main

pytest.importorskip("flwr")

FAST = ["--hidden-dim", "16", "--depth", "2", "--batch-size", "16", "--featurize-jobs", "1", "--max-epochs", "1"]
TASK = ["--task-type", "multilabel", "--target-columns", "aromatic", "has_n"]


def site_file(path: Path, seed: int) -> Path:
    """~40 molecules, two binary labels; each site sees the molecules in another order (another split)."""
    frame = pd.DataFrame({"smiles": MOLECULES}).sample(frac=1.0, random_state=seed)
    frame["aromatic"] = [1.0 if "c" in s else 0.0 for s in frame.smiles]
    frame["has_n"] = [1.0 if "N" in s or "n" in s else 0.0 for s in frame.smiles]
    frame.to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_a_federation_trains_and_its_model_predicts(tmp_path, capsys):
    sites = [site_file(tmp_path / f"{name}.csv", seed) for seed, name in enumerate(["north", "south"])]
    out = tmp_path / "fed"
    args = ["federate", "--site", str(sites[0]), "--site", str(sites[1]), "--rounds", "2", "--output", str(out)]
    dp = ["--update-dp-epsilon", "0.5", "--update-clip-norm", "2"]
    assert main([*args, "--strategy", "fedprox", "--proximal-mu", "0.1", *dp, *TASK, *FAST]) == 0
    printed = capsys.readouterr().out
    assert "round 2: sites north, south" in printed and "site south: test roc_auc" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert [r["round"] for r in metrics["rounds"]] == [1, 2, 3]  # 2 training rounds, then the final evaluation
    assert all(r["aggregated"] and r["bytes_sent"] > r["bytes_received"] > 0 for r in metrics["rounds"][:2])
    assert metrics["rounds"][2]["final"] and metrics["selected_round"] in (1, 2)
    communication = metrics["communication"]
    assert communication["rounds"] == 2
    assert (
        communication["bytes_total"] == sum(communication["bytes_per_round"]) + communication["final_evaluation_bytes"]
    )
    assert metrics["federation"]["strategy"] == "fedprox" and metrics["federation"]["proximal_mu"] == 0.1
    assert set(metrics["sites"]) == {"north", "south"} and "roc_auc" in metrics["test"]
    for name in ("north", "south"):
        site = json.loads((out / "sites" / name / "metrics.json").read_text())
        assert site["test"] == metrics["sites"][name]["test"]
        assert [r["round"] for r in site["rounds"]] == [1, 2, 3] and "global_val" in site["rounds"][1]
        assert "head_val" in site["rounds"][2]
        assert (out / "sites" / name / "model" / "model.safetensors").is_file()
    card = (out / "model" / "README.md").read_text()
    assert "## Federated training" in card and "fedprox, μ = 0.1; 2 round(s)" in card
    assert "update clipped to L2 norm 2 with Gaussian noise, (ε = 0.5, δ = 1e-05) per site and round" in card
    assert metrics["federation"]["update_dp"]["epsilon_per_round"] == 0.5
    query = tmp_path / "query.csv"
    pd.DataFrame({"smiles": ["CCO", "c1ccncc1", "not a smiles"]}).to_csv(query, index=False)
    predictions = tmp_path / "predictions.csv"
    assert main(["predict", "--model", str(out / "model"), "--input", str(query), "--output", str(predictions)]) == 0
    table = pd.read_csv(predictions)
    assert table["valid"].tolist() == [True, True, False]
    assert table.loc[:1, ["aromatic", "has_n"]].notna().all().all()


def start(command: list[str], log: Path | None = None) -> subprocess.Popen:
    """A real `molgen federate` process (the worktree's molgen, as the CLI runs it)."""
    stream = open(log, "wb") if log else subprocess.PIPE  # noqa: SIM115 - the process writes it until it ends
    return subprocess.Popen(
        [sys.executable, "-m", "molgen", "federate", *command],
        stdout=stream,
        stderr=subprocess.STDOUT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def certificates(folder: Path) -> Path:
    """A CA and a server certificate for 127.0.0.1 signed by it (ca.crt, server.pem, server.key), as openssl makes."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder(subject_name=name("molgen test CA"), issuer_name=name("molgen test CA"))
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder(subject_name=name("127.0.0.1"), issuer_name=ca.subject)
        .public_key(server_key.public_key())
        .serial_number(2)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir()
    (folder / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (folder / "server.key").write_bytes(key)
    return folder


@pytest.mark.slow
def test_a_site_that_dies_mid_round_does_not_stop_the_federation(tmp_path):
    """Real mode: `--role serve` and three `--role site` processes over TLS; site c is killed while training."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    out = tmp_path / "server"
    common = ["--server-address", address, "--rounds", "2", "--certificates", str(certificates(tmp_path / "tls"))]
    server = start(
        [*common, "--role", "serve", "--min-sites", "2", "--expected-sites", "3", "--output", str(out)],
        tmp_path / "server.log",
    )
    names = ["a", "b", "c"]
    sites = {
        name: start(
            [*common, "--role", "site", "--site", str(site_file(tmp_path / f"{name}.csv", i)), "--name", name]
            + ["--output", str(tmp_path / name), *TASK, *FAST],
            None if name == "c" else tmp_path / f"{name}.log",
        )
        for i, name in enumerate(names)
    }
    try:
        assert sites["c"].stdout is not None
        for line in sites["c"].stdout:  # kill site c once it is training in round 1
            if b"round 1: local training" in line:
                sites["c"].kill()
                break
        assert server.wait(timeout=300) == 0, (tmp_path / "server.log").read_text()[-3000:]
    finally:
        for process in [server, *sites.values()]:
            if process.poll() is None:
                process.kill()
            process.wait()
    metrics = json.loads((out / "metrics.json").read_text())
    assert [r["round"] for r in metrics["rounds"]] == [1, 2, 3]
    assert metrics["rounds"][1]["sites"] == ["a", "b"] and metrics["rounds"][1]["aggregated"]
    assert set(metrics["sites"]) == {"a", "b"} and all("test" in m for m in metrics["sites"].values())
    assert "c" not in metrics["rounds"][0]["evaluate"]
    assert (tmp_path / "a" / "model" / "model.yaml").is_file() and not (tmp_path / "c" / "model").exists()


def test_a_missing_site_file_is_named(tmp_path, capsys):
    present = site_file(tmp_path / "a.csv", 0)
    missing = tmp_path / "nowhere.csv"
    args = ["federate", "--site", str(present), "--site", str(missing), "--output", str(tmp_path / "out")]
    assert main(args) == 2
    assert f"--site {missing}: no such file" in capsys.readouterr().err


def test_a_bad_site_file_is_named_with_its_site(tmp_path):
    from molgen.config import RunConfig
    from molgen.errors import MolgenError
    from molgen.federated.site import prepare_site

    bad = tmp_path / "bad.csv"
    pd.DataFrame({"molecule": MOLECULES, "aromatic": 1.0}).to_csv(bad, index=False)
    cfg = RunConfig().with_values({"data.name": str(bad), "task.type": "binary", "data.featurize_jobs": 1})
    with pytest.raises(MolgenError) as err:
        prepare_site(cfg, "bad")
    assert str(err.value).startswith("site bad: ") and str(bad) in str(err.value) and "smiles" in str(err.value)
