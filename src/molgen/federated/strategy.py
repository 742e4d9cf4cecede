"""FedAvg and FedProx that check every site's update before averaging and record each round.

An update is rejected (logged, counted, left out of the average) when it has a different number of arrays,
a shape other than the global trunk's, or a value that is not finite. A round whose valid updates come from
fewer than ``min_sites`` sites keeps the previous global trunk. After the last training round, one more round
evaluates only: the sites get the trunk of the round with the best mean validation score (the federation's
"best checkpoint"), fit their heads to it and score it on their test rows. Bytes are Flower's serialized tensors: the
trunk sent to each sampled site (fit and evaluate) and the updates received.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np

from molgen.federated.settings import FederationSettings

log = logging.getLogger("molgen")

__all__ = ["build_strategy", "check_update"]


def check_update(arrays: list[np.ndarray], shapes: list[tuple[int, ...]]) -> str | None:
    """Why a site's update cannot be averaged into a trunk of ``shapes`` (None: it can)."""
    if len(arrays) != len(shapes):
        return f"{len(arrays)} arrays, the trunk has {len(shapes)}"
    for i, (array, shape) in enumerate(zip(arrays, shapes)):
        if tuple(array.shape) != tuple(shape):
            return f"array {i} has shape {tuple(array.shape)}, the trunk's is {tuple(shape)}"
        if not np.issubdtype(array.dtype, np.floating):
            return f"array {i} has dtype {array.dtype}, not floating point"
        if not np.isfinite(array).all():
            return f"array {i} holds {int((~np.isfinite(array)).sum())} non-finite value(s) (NaN/inf)"
    return None


def _site(proxy: Any, metrics: dict[str, Any] | None) -> str:
    return str((metrics or {}).get("site") or getattr(proxy, "cid", "?"))


class _Checked:
    """Mixed into a Flower strategy: checks updates, waits for the expected sites, records rounds."""

    settings: FederationSettings
    rounds: list[dict[str, Any]]
    _shapes: list[tuple[int, ...]]

    def _setup(self, settings: FederationSettings, federation: dict[str, Any]) -> None:
        self.settings, self.federation, self.rounds, self._shapes = settings, federation, [], []
        self.best: tuple[float, int, Any] | None = None  # (mean validation score, round, its global trunk)
        self._evaluated: Any = None

    def _final(self, server_round: int) -> bool:
        """The extra round after the last training round: evaluation only, of the best round's trunk."""
        return server_round > self.settings.rounds

    def _round(self, server_round: int) -> dict[str, Any]:
        if not self.rounds or self.rounds[-1]["round"] != server_round:
            self.rounds.append(
                {"round": server_round, "bytes_sent": 0, "bytes_received": 0, "fit": {}, "evaluate": {}, "rejected": []}
            )
        return self.rounds[-1]

    def initialize_parameters(self, client_manager: Any) -> Any:
        expected, timeout = self.settings.expected_sites, self.settings.join_timeout
        if not client_manager.wait_for(expected, timeout=int(timeout)):
            joined = client_manager.num_available()
            log.warning("only %d of %d site(s) joined within %g s; starting with them", joined, expected, timeout)
        return super().initialize_parameters(client_manager)  # type: ignore[misc]

    def configure_fit(self, server_round: int, parameters: Any, client_manager: Any) -> Any:
        from flwr.common import parameters_to_ndarrays

        if self._final(server_round):
            return []

        self._shapes = [tuple(a.shape) for a in parameters_to_ndarrays(parameters)]
        instructions = super().configure_fit(server_round, parameters, client_manager)  # type: ignore[misc]
        record = self._round(server_round)
        record["bytes_sent"] += _size(parameters) * len(instructions)
        record["sites_asked"] = len(instructions)
        return instructions

    def aggregate_fit(self, server_round: int, results: list, failures: list) -> Any:
        from flwr.common import parameters_to_ndarrays

        record = self._round(server_round)
        accepted = []
        for proxy, res in results:
            site = _site(proxy, res.metrics)
            record["bytes_received"] += _size(res.parameters)
            reason = check_update(parameters_to_ndarrays(res.parameters), self._shapes)
            if reason is not None:
                log.warning("round %d: rejected the update of site %s: %s", server_round, site, reason)
                record["rejected"].append({"site": site, "reason": reason})
                continue
            accepted.append((proxy, res))
            record["fit"][site] = {"n_train": res.num_examples, **json.loads(str(res.metrics.get("metrics", "{}")))}
        record["failures"] = len(failures)
        for failure in failures:
            log.warning("round %d: a site did not answer: %s", server_round, _describe(failure))
        record["sites"] = sorted(record["fit"])
        if len(accepted) < self.settings.min_sites:
            log.warning(
                "round %d: %d valid update(s), fewer than --min-sites %d: the global trunk stays as it was",
                server_round,
                len(accepted),
                self.settings.min_sites,
            )
            record["aggregated"] = False
            return None, {}
        record["aggregated"] = True
        log.info("round %d: averaged the trunks of %s", server_round, ", ".join(record["sites"]))
        return super().aggregate_fit(server_round, accepted, failures)  # type: ignore[misc]

    def configure_evaluate(self, server_round: int, parameters: Any, client_manager: Any) -> Any:
        record = self._round(server_round)
        if self._final(server_round):
            record.update({"final": True, "selected_round": self.settings.rounds})
            if self.best is not None:
                score, best_round, parameters = self.best
                record.update({"selected_round": best_round, "selected_val": score})
            log.info("final evaluation: the trunk of round %d", record["selected_round"])
        self._evaluated = parameters
        instructions = super().configure_evaluate(server_round, parameters, client_manager)  # type: ignore[misc]
        record["bytes_sent"] += _size(parameters) * len(instructions)
        return instructions

    def aggregate_evaluate(self, server_round: int, results: list, failures: list) -> Any:
        record = self._round(server_round)
        for proxy, res in results:
            record["evaluate"][_site(proxy, res.metrics)] = json.loads(str(res.metrics.get("metrics", "{}")))
        record["evaluate_failures"] = len(failures)
        scores = [
            (float(res.metrics["monitor"]), bool(res.metrics["higher_is_better"]))
            for _, res in results
            if "monitor" in res.metrics and np.isfinite(float(res.metrics["monitor"]))
        ]
        if scores and not self._final(server_round):
            mean = float(np.mean([v for v, _ in scores]))
            higher = scores[0][1]
            record["mean_val"] = mean
            if self.best is None or (mean > self.best[0] if higher else mean < self.best[0]):
                self.best = (mean, server_round, self._evaluated)
        return super().aggregate_evaluate(server_round, results, failures)  # type: ignore[misc]


def _size(parameters: Any) -> int:
    return sum(len(t) for t in parameters.tensors)


def _describe(failure: Any) -> str:
    if isinstance(failure, BaseException):
        return f"{type(failure).__name__}: {failure}"
    proxy, res = failure
    return f"site {_site(proxy, getattr(res, 'metrics', None))}: {getattr(res, 'status', res)}"


def build_strategy(settings: FederationSettings, federation: dict[str, Any]) -> Any:
    """The checked FedAvg or FedProx for ``settings`` (every available site each round, failures accepted);
    ``federation`` (the recorded parameters) travels to the sites with the last round's evaluation."""
    from flwr.server.strategy import FedAvg, FedProx

    def fit_config(server_round: int) -> dict[str, Any]:
        final = server_round > settings.rounds
        return {"round": server_round, "rounds": settings.rounds, "final": final, "local_epochs": settings.local_epochs}

    def evaluate_config(server_round: int) -> dict[str, Any]:
        return {**fit_config(server_round), "federation": json.dumps(federation)}

    options: dict[str, Any] = {
        "fraction_fit": 1.0,
        "fraction_evaluate": 1.0,
        "min_fit_clients": settings.min_sites,
        "min_evaluate_clients": settings.min_sites,
        "min_available_clients": settings.min_sites,
        "accept_failures": True,
        "on_fit_config_fn": fit_config,
        "on_evaluate_config_fn": evaluate_config,
        "fit_metrics_aggregation_fn": lambda metrics: {},
        "evaluate_metrics_aggregation_fn": lambda metrics: {},
    }

    class CheckedFedAvg(_Checked, FedAvg):
        pass

    class CheckedFedProx(_Checked, FedProx):
        pass

    if settings.strategy == "fedprox":
        strategy: Any = CheckedFedProx(**options, proximal_mu=settings.proximal_mu)
    else:
        strategy = CheckedFedAvg(**options)
    strategy._setup(settings, federation)
    return strategy
