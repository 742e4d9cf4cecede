"""The options of one federation (the training options themselves are the run config's)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from molgen.errors import ConfigError

DEFAULT_PROXIMAL_MU = 0.01
"""FedProx's μ when none is given: FedProx with it beat FedAvg on Tox21 sites split by scaffold and by task, over
3 seeds (benchmarks/results/federated-2026-12-07-seeds-*.md)."""

CERTIFICATE_FILES = ("ca.crt", "server.pem", "server.key")
"""The files ``--certificates DIR`` holds: the CA certificate, the server's certificate and its private key."""


class FederationSettings(BaseModel):
    """What the server and the sites agree on.

    Attributes:
        rounds: communication rounds; local_epochs: epochs each site trains per round (``--max-epochs``).
        strategy: ``fedprox`` (default; adds ``proximal_mu / 2 · ‖w − w_global‖²`` to each site's loss) or ``fedavg``.
        proximal_mu: FedProx's μ (default :data:`DEFAULT_PROXIMAL_MU`; 0 under FedAvg unless given).
        min_sites: the fewest sites a round needs (answers and valid updates); expected_sites: how many sites the
            server waits for (``join_timeout`` seconds) before the first round.
        server_address: ``HOST:PORT``; certificates: folder with :data:`CERTIFICATE_FILES` (TLS), None on loopback.
        round_timeout: seconds a round waits for the sites' answers (None: until each answers or disconnects).
        update_dp_epsilon, update_dp_delta, update_clip_norm: local DP on each site's update per round
            (:mod:`molgen.federated.update_dp`; None: off).
    """

    model_config = ConfigDict(extra="forbid")

    rounds: int = Field(3, ge=1)
    local_epochs: int = Field(1, ge=1)
    strategy: Literal["fedavg", "fedprox"] = "fedprox"
    proximal_mu: float = Field(DEFAULT_PROXIMAL_MU, ge=0.0)
    min_sites: int = Field(2, ge=1)
    expected_sites: int = Field(2, ge=1)
    server_address: str = "127.0.0.1:8080"
    certificates: str | None = None
    join_timeout: float = Field(600.0, gt=0)
    round_timeout: float | None = None
    update_dp_epsilon: float | None = Field(None, gt=0)
    update_dp_delta: float = Field(1e-5, gt=0, lt=1)
    update_clip_norm: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _no_default_mu_for_fedavg(self) -> FederationSettings:
        """FedAvg has no proximal term: μ is 0 there unless given (and then :meth:`check` refuses it)."""
        if self.strategy == "fedavg" and "proximal_mu" not in self.model_fields_set:
            self.proximal_mu = 0.0
        return self

    def check(self) -> FederationSettings:
        """Refuses contradictory options (FedProx without μ, more required than expected sites, plain text
        over a network)."""
        if self.strategy == "fedprox" and self.proximal_mu <= 0:
            raise ConfigError("--strategy fedprox needs --proximal-mu > 0 (with 0 it is FedAvg)")
        if self.strategy == "fedavg" and self.proximal_mu > 0:
            raise ConfigError("--proximal-mu is a FedProx option; pass --strategy fedprox")
        if self.min_sites > self.expected_sites:
            raise ConfigError(f"--min-sites {self.min_sites} is more than the {self.expected_sites} site(s) expected")
        if self.certificates is None and not is_loopback(self.server_address):
            raise ConfigError(
                f"--server-address {self.server_address} is not a loopback address: pass --certificates DIR "
                f"({', '.join(CERTIFICATE_FILES)}) so that the sites connect over TLS"
            )
        return self


def is_loopback(address: str) -> bool:
    """Whether ``HOST:PORT`` names this machine only (``localhost``, ``127.x``, ``[::1]``)."""
    host = address.rpartition(":")[0].strip("[]") if ":" in address else address
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_certificates(folder: str | Path, *, server: bool) -> tuple[bytes, ...]:
    """``(ca.crt, server.pem, server.key)`` bytes for the server, ``(ca.crt,)`` for a site."""
    names = CERTIFICATE_FILES if server else CERTIFICATE_FILES[:1]
    paths = [Path(folder) / name for name in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ConfigError(f"--certificates {folder}: missing {', '.join(missing)} (needs {', '.join(names)})")
    return tuple(p.read_bytes() for p in paths)
