"""The options of ``molgen serve``: one typed model, also the CLI flags (:mod:`molgen.cli.serve`) and what each
uvicorn worker process reads from ``$MOLGEN_SERVE_SETTINGS`` (JSON) to build its app."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from molgen.errors import ConfigError

ENV_VAR = "MOLGEN_SERVE_SETTINGS"


class ServeSettings(BaseModel):
    """Server options. ``models`` maps a served name to an exported model folder (read at start, never from
    clients)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: dict[str, str] = Field(description="NAME=DIR: serve the exported model in DIR as NAME (repeatable)")
    host: str = Field("127.0.0.1", description="address to listen on (0.0.0.0: every interface)")
    port: int = Field(8000, ge=0, le=65535, description="TCP port")
    workers: int = Field(1, ge=1, le=64, description="worker processes (each loads every model once)")
    max_batch: int = Field(
        1024, ge=1, description="most items per request, and per dynamically batched model call (predict)"
    )
    batch_wait_ms: float = Field(
        2.0,
        ge=0,
        le=1000,
        description="under concurrent load, how long a predict request waits for others to batch with (ms; 0: no "
        "wait); a request that finds the model idle is dispatched at once",
    )
    timeout_s: float = Field(30.0, gt=0, description="time budget per request (s); past it: 504")
    max_concurrency: int = Field(
        32, ge=1, description="requests admitted at once per worker (predict requests among them are batched)"
    )
    max_queue: int = Field(128, ge=0, description="requests waiting for a slot per worker; past it: 503 + Retry-After")
    max_body_bytes: int = Field(8_000_000, ge=1024, description="largest request body (bytes); past it: 413")
    max_smiles_length: int = Field(1000, ge=1, description="longer SMILES are invalid items (not computed)")
    max_sequence_length: int = Field(100_000, ge=1, description="longer DNA sequences are invalid items")
    max_generate: int = Field(10_000, ge=1, description="most molecules per generate request")
    token_file: str | None = Field(None, description="file holding a bearer token every /v1 and /metrics call needs")
    cors_origins: list[str] = Field(
        default_factory=list, description="origins allowed by CORS (default: none, CORS off)"
    )
    precision: Literal["32", "bf16-mixed"] = Field(
        "32",
        description="inference precision of SMILES property models: 32, or bf16-mixed (bfloat16 autocast, ~2x "
        "faster on a CPU with AVX512-BF16 or AMX, predictions within ~0.1% of their scale); other models run in "
        "float32",
    )
    torch_threads: int = Field(
        1, ge=0, description="torch intra-op threads per worker (0: torch's default; use --workers for more cores)"
    )

    @field_validator("models")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("serve at least one model (--model NAME=DIR)")
        for name in value:
            if not name or not all(c.isalnum() or c in "-_." for c in name):
                raise ValueError(f"model name {name!r}: use letters, digits, '-', '_' or '.'")
        return value

    def token(self) -> str | None:
        """The bearer token of ``token_file`` (stripped), or None when no token is required."""
        if self.token_file is None:
            return None
        try:
            token = Path(self.token_file).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ConfigError(f"--token-file {self.token_file}: {err.strerror or err}") from err
        if len(token) < 16:
            raise ConfigError(f"--token-file {self.token_file}: the token must have at least 16 characters")
        return token


def parse_model_args(values: list[str]) -> dict[str, str]:
    """``["NAME=DIR", …]`` → ``{NAME: DIR}``; a repeated name or a missing ``=`` is a :class:`ConfigError`."""
    out: dict[str, str] = {}
    for value in values:
        name, sep, folder = value.partition("=")
        if not sep or not name or not folder:
            raise ConfigError(f"--model {value!r}: expected NAME=DIR")
        if name in out:
            raise ConfigError(f"--model: the name {name!r} is given twice")
        out[name] = folder
    return out


def build_settings(**values: object) -> ServeSettings:
    """Validated settings, or one :class:`ConfigError` line naming the option."""
    try:
        return ServeSettings(**values)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "options"
        raise ConfigError(f"--{where.replace('_', '-')}: {first['msg']}") from None


def settings_from_env() -> ServeSettings:
    """The settings a worker process was started with (``$MOLGEN_SERVE_SETTINGS``)."""
    raw = os.environ.get(ENV_VAR)
    if not raw:
        raise ConfigError(f"${ENV_VAR} is not set: start the server with `molgen serve`")
    return ServeSettings(**json.loads(raw))
