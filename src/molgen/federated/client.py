"""A site as a Flower client: receives the global trunk, trains locally, sends its trunk back.

The client uses Flower's ``NumPyClient`` over ``flwr.client.start_client`` (gRPC, one long-lived stream to the
server; no Ray). Its replies carry the site's name and metrics as JSON strings (Flower metrics are scalars).
"""

from __future__ import annotations

import json
import logging
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from molgen.config import RunConfig, replace
from molgen.evaluation.supervised import higher_is_better
from molgen.federated.settings import FederationSettings, read_certificates
from molgen.federated.site import Site, prepare_site
from molgen.federated.site_folder import write_site_folder
from molgen.federated.update_dp import private_update

log = logging.getLogger("molgen")

__all__ = ["federation_record", "run_site"]


def federation_record(settings: FederationSettings, sites: list[str]) -> dict[str, Any]:
    """The federation's parameters as recorded in ``metrics.json``, ``model.yaml`` and the model card."""
    return {
        "sites": sites,
        "rounds": settings.rounds,
        "local_epochs": settings.local_epochs,
        "strategy": settings.strategy,
        "proximal_mu": settings.proximal_mu,
        "min_sites": settings.min_sites,
        "federated_parameters": "encoder.* (the trunk); head.* and task.* stay on each site",
        "update_dp": None
        if settings.update_dp_epsilon is None
        else {
            "epsilon_per_round": settings.update_dp_epsilon,
            "delta_per_round": settings.update_dp_delta,
            "clip_norm": settings.update_clip_norm,
            "mechanism": "Gaussian on the clipped update (Flower's local DP functions), per site and round",
        },
    }


def _make_client(site: Site, run_dir: Path, settings: FederationSettings) -> Any:
    from flwr.client import NumPyClient

    class SiteClient(NumPyClient):
        def get_parameters(self, config: dict[str, Any]) -> list[np.ndarray]:
            return site.get_trunk()

        def fit(self, parameters: list[np.ndarray], config: dict[str, Any]) -> tuple[list[np.ndarray], int, dict]:
            server_round = int(config["round"])
            epochs = int(config.get("local_epochs", settings.local_epochs))
            mu = float(config.get("proximal_mu", 0.0))
            site.set_trunk(parameters)
            log.info("site %s: round %d: local training (%d epoch(s), mu %g)", site.name, server_round, epochs, mu)
            local = site.train_round(run_dir, server_round, epochs, mu)
            site.history.append({"round": server_round, "local_val": local})
            trunk = site.get_trunk()
            if settings.update_dp_epsilon is not None:
                trunk = private_update(
                    parameters,
                    trunk,
                    clip_norm=settings.update_clip_norm,
                    epsilon=settings.update_dp_epsilon,
                    delta=settings.update_dp_delta,
                )
            return trunk, site.n_train, {"site": site.name, "metrics": json.dumps({"val": local})}

        def evaluate(self, parameters: list[np.ndarray], config: dict[str, Any]) -> tuple[float, int, dict]:
            server_round, final = int(config["round"]), bool(config.get("final", False))
            site.set_trunk(parameters)
            metrics: dict[str, dict[str, float]] = {"val": site.evaluate("val")}
            entry = next((h for h in site.history if h["round"] == server_round), None)
            if entry is None:
                entry = {"round": server_round}
                site.history.append(entry)
            entry["final" if final else "global_val"] = metrics["val"]
            if final:  # the selected trunk: fit the head to it, then score both on val and test
                epochs = int(config.get("local_epochs", settings.local_epochs))
                log.info("site %s: fitting the head to the final trunk (%d epoch(s))", site.name, epochs)
                entry["head_val"] = metrics["val"] = site.train_round(
                    run_dir, server_round, epochs, 0.0, head_only=True
                )
                metrics["test"] = site.evaluate("test")
                write_site_folder(site, run_dir, metrics, json.loads(str(config["federation"])))
                log.info("site %s: wrote %s", site.name, run_dir)
            monitor = str(site.cfg.task.monitor)
            loss = float(metrics["val"].get(monitor, float("nan")))  # Flower's "loss" slot: the val monitor metric
            higher = higher_is_better(str(site.cfg.task.type), monitor)
            reply = {"site": site.name, "metrics": json.dumps(metrics), "monitor": loss, "higher_is_better": higher}
            return loss, max(site.n_val, 1), reply

    return SiteClient().to_client()


def run_site(cfg: RunConfig, name: str, settings: FederationSettings, output: str | Path) -> Path:
    """Prepares the site (``cfg.data.name`` is its file), opens its run folder ``output`` and serves the
    federation at ``settings.server_address`` until the server ends it; returns the run folder."""
    from flwr.client import start_client

    from molgen.training.run_folder import open_run_folder
    from molgen.training.trainer import quiet_lightning

    site = prepare_site(cfg, name)
    site.cfg = replace(site.cfg, output=str(output))
    root = read_certificates(settings.certificates, server=False)[0] if settings.certificates else None
    with quiet_lightning(), ExitStack() as stack:
        run_dir = stack.enter_context(open_run_folder(site.cfg, site.splits_record))
        start_client(
            server_address=settings.server_address,
            client=_make_client(site, run_dir, settings),
            insecure=root is None,
            root_certificates=root,
            max_wait_time=settings.join_timeout,
        )
    return Path(run_dir)
