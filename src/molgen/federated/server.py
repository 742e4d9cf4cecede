"""The federation's server: Flower's gRPC server (``flwr.server.start_server``) with the checked strategy.

The server never sees data or heads: it averages trunks and records, per round, which sites answered, what
they reported and how many bytes travelled. It writes ``metrics.json`` of the federation's run folder.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from molgen.federated.settings import FederationSettings, read_certificates
from molgen.federated.strategy import build_strategy
from molgen.training.artifacts import run_paths, write_json

log = logging.getLogger("molgen")

__all__ = ["federation_metrics", "serve"]


def serve(settings: FederationSettings, federation: dict[str, Any], output: str | Path) -> dict[str, Any]:
    """Runs ``settings.rounds`` rounds at ``settings.server_address`` (TLS with ``settings.certificates``) and
    writes ``output/metrics.json`` (:func:`federation_metrics`); returns that record."""
    from flwr.server import ServerConfig, start_server

    strategy = build_strategy(settings, federation)
    certificates = read_certificates(settings.certificates, server=True) if settings.certificates else None
    start_server(
        server_address=settings.server_address,
        config=ServerConfig(num_rounds=settings.rounds + 1, round_timeout=settings.round_timeout),  # + final evaluation
        strategy=strategy,
        certificates=certificates,  # type: ignore[arg-type]  # (ca.crt, server.pem, server.key)
    )
    record = federation_metrics(federation, strategy.rounds)
    Path(output).mkdir(parents=True, exist_ok=True)
    write_json(run_paths(output)["metrics"], record)
    return record


def federation_metrics(federation: dict[str, Any], rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """``metrics.json`` of a federation: per site its last reported val/test metrics (``sites``), their mean over
    the sites (``val``/``test``: each metric averaged over the sites that reported it), the round whose trunk was
    kept (``selected_round``), every round (sites, rejected updates, failures, bytes; the last one evaluation
    only, ``final``) and the totals."""
    sites: dict[str, dict[str, Any]] = {}
    for record in rounds:
        for site, metrics in record.get("evaluate", {}).items():
            sites[site] = {"round": record["round"], **metrics}
    summary: dict[str, Any] = {}
    for part in ("val", "test"):
        values: dict[str, list[float]] = {}
        for metrics in sites.values():
            for key, value in metrics.get(part, {}).items():
                if isinstance(value, (int, float)) and math.isfinite(value):
                    values.setdefault(key, []).append(float(value))
        if values:
            summary[part] = {key: sum(v) / len(v) for key, v in values.items()}
    training = [r for r in rounds if not r.get("final")]
    final = [r for r in rounds if r.get("final")]
    return {
        **summary,
        "sites": sites,
        "federation": federation,
        "selected_round": final[0]["selected_round"] if final else None,
        "rounds": rounds,
        "communication": {
            "rounds": len(training),
            "bytes_per_round": [r["bytes_sent"] + r["bytes_received"] for r in training],
            "final_evaluation_bytes": sum(r["bytes_sent"] + r["bytes_received"] for r in final),
            "bytes_total": sum(r["bytes_sent"] + r["bytes_received"] for r in rounds),
        },
    }
