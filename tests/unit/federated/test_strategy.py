"""The federation's strategy: malformed site updates are rejected and logged, valid ones averaged."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

pytest.importorskip("flwr")

from molgen.federated.settings import FederationSettings, is_loopback
from molgen.federated.strategy import build_strategy, check_update

SHAPES = [(3, 2), (2,)]


def trunk(value: float) -> list[np.ndarray]:
    return [np.full(shape, value, dtype=np.float32) for shape in SHAPES]


def test_check_update_names_what_is_wrong():
    assert check_update(trunk(1.0), SHAPES) is None
    assert "1 arrays, the trunk has 2" in str(check_update(trunk(1.0)[:1], SHAPES))
    assert "array 0 has shape (2, 3)" in str(check_update([np.zeros((2, 3), np.float32), np.zeros(2)], SHAPES))
    nan = trunk(1.0)
    nan[1][0] = np.nan
    assert "array 1 holds 1 non-finite value(s)" in str(check_update(nan, SHAPES))
    assert "dtype int64" in str(check_update([np.zeros((3, 2), np.int64), np.zeros(2)], SHAPES))


def fit_round(strategy, updates: dict[str, list[np.ndarray]]):
    """One round of Flower's own FitRes messages through the strategy (real proxies, no network calls)."""
    from flwr.common import Code, FitRes, Status, ndarrays_to_parameters
    from flwr.server.superlink.fleet.grpc_bidi.grpc_bridge import GrpcBridge
    from flwr.server.superlink.fleet.grpc_bidi.grpc_client_proxy import GrpcClientProxy

    strategy._shapes = list(SHAPES)
    strategy._round(1)
    results = [
        (
            GrpcClientProxy(name, GrpcBridge()),
            FitRes(Status(Code.OK, ""), ndarrays_to_parameters(arrays), 10, {"site": name, "metrics": json.dumps({})}),
        )
        for name, arrays in updates.items()
    ]
    return strategy.aggregate_fit(1, results, [])


def test_malformed_updates_are_rejected_and_logged(caplog):
    from flwr.common import parameters_to_ndarrays

    caplog.set_level(logging.WARNING, logger="molgen")
    strategy = build_strategy(FederationSettings(min_sites=2, expected_sites=4), {})
    nan = trunk(5.0)
    nan[0][1, 1] = np.nan
    wrong = [np.zeros((2, 3), np.float32), np.zeros(2, np.float32)]
    parameters, _ = fit_round(strategy, {"a": trunk(1.0), "b": trunk(3.0), "c": nan, "d": wrong})
    averaged = parameters_to_ndarrays(parameters)
    assert all(np.allclose(a, 2.0) for a in averaged)  # only a and b, equally weighted
    record = strategy.rounds[-1]
    assert record["sites"] == ["a", "b"] and record["aggregated"]
    assert {r["site"] for r in record["rejected"]} == {"c", "d"}
    assert "rejected the update of site c: array 0 holds 1 non-finite value(s)" in caplog.text
    assert "rejected the update of site d: array 0 has shape (2, 3)" in caplog.text


def test_a_round_with_fewer_valid_updates_than_min_sites_keeps_the_trunk(caplog):
    caplog.set_level(logging.WARNING, logger="molgen")
    strategy = build_strategy(FederationSettings(min_sites=2, expected_sites=2), {})
    nan = trunk(1.0)
    nan[1][:] = np.inf
    parameters, _ = fit_round(strategy, {"a": trunk(1.0), "b": nan})
    assert parameters is None and not strategy.rounds[-1]["aggregated"]
    assert "fewer than --min-sites 2" in caplog.text


def test_settings_refuse_plain_text_off_loopback_and_fedprox_without_mu():
    from molgen.errors import ConfigError

    assert is_loopback("127.0.0.1:8080") and is_loopback("localhost:1") and is_loopback("[::1]:9")
    assert not is_loopback("10.0.0.5:8080")
    with pytest.raises(ConfigError, match="--certificates"):
        FederationSettings(server_address="10.0.0.5:8080").check()
    with pytest.raises(ConfigError, match="--proximal-mu > 0"):
        FederationSettings(strategy="fedprox", proximal_mu=0.0).check()
    with pytest.raises(ConfigError, match="--proximal-mu is a FedProx option"):
        FederationSettings(strategy="fedavg", proximal_mu=0.1).check()
    with pytest.raises(ConfigError, match="--min-sites 3"):
        FederationSettings(min_sites=3, expected_sites=2).check()


def test_local_dp_clips_the_update_and_adds_the_gaussian_mechanisms_noise():
    from molgen.federated.update_dp import noise_std, private_update

    rng = np.random.default_rng(0)
    received = [rng.normal(size=(200, 50)).astype(np.float32), rng.normal(size=50).astype(np.float32)]
    trained = [a + 3.0 for a in received]  # an update of norm 3 · sqrt(10050)
    quiet = private_update(received, trained, clip_norm=0.5, epsilon=1e9, delta=1e-5)  # noise ~1e-9
    norm = np.sqrt(sum(((q.astype(np.float64) - r) ** 2).sum() for q, r in zip(quiet, received)))
    assert norm == pytest.approx(0.5, rel=1e-3) and quiet[0].dtype == np.float32
    noisy = private_update(received, received, clip_norm=0.5, epsilon=0.5, delta=1e-5)  # no update: noise only
    assert np.std(noisy[0] - received[0]) == pytest.approx(noise_std(0.5, 0.5, 1e-5), rel=0.05)
    assert noise_std(1.0, 1.0, 1e-5) == pytest.approx(np.sqrt(2 * np.log(1.25e5)))


def test_the_default_strategy_is_fedprox_with_mu_001_and_fedavg_has_no_mu():
    settings = FederationSettings().check()
    assert settings.strategy == "fedprox" and settings.proximal_mu == 0.01
    fedavg = FederationSettings(strategy="fedavg").check()
    assert fedavg.proximal_mu == 0.0
    assert FederationSettings.model_validate(fedavg.model_dump()).proximal_mu == 0.0  # as the worker reads it back
