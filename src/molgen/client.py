"""A Python client of ``molgen serve`` (needs ``httpx``: the serve extra).

Example::

    from molgen.client import Client

    items = Client("http://127.0.0.1:8000").predict("esol", ["CCO", "c1ccccc1"])
    items[0]["valid"], items[0]["logS"]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from molgen.errors import ConfigError, RemoteError

__all__ = ["Client", "predict_file"]


class Client:
    """Calls a molgen server. A 503 (server busy) is retried ``retries`` times after its ``Retry-After``.

    Args:
        url: the server, e.g. ``http://127.0.0.1:8000``.
        token: the bearer token (servers started with ``--token-file``).
        timeout: seconds per HTTP call.
        chunk_size: inputs per request (at most the server's ``--max-batch``).
    """

    def __init__(
        self, url: str, token: str | None = None, *, timeout: float = 120.0, chunk_size: int = 1024, retries: int = 3
    ) -> None:
        try:
            import httpx
        except ImportError as err:
            raise ConfigError("molgen.client needs httpx: pip install 'molgen[serve]'") from err
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url, self.chunk_size, self.retries = url.rstrip("/"), chunk_size, retries
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def models(self) -> list[dict[str, Any]]:
        """The served models (name, family, input, targets, endpoints, spec, card)."""
        return list(self._call("GET", "/v1/models")["models"])

    def model(self, name: str) -> dict[str, Any]:
        models = {m["name"]: m for m in self.models()}
        if name not in models:
            raise RemoteError(f"{self.url} serves no model {name!r}; it serves: {', '.join(sorted(models))}", 404)
        return models[name]

    def predict(
        self, name: str, smiles: Sequence[str] | None = None, *, sequences: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """One item per input, in order (``valid``, ``reason`` and the model's columns); sent in chunks."""
        if (smiles is None) == (sequences is None):
            raise ConfigError("give smiles or sequences")
        key, values = ("smiles", list(smiles)) if smiles is not None else ("sequences", list(sequences or []))
        items: list[dict[str, Any]] = []
        for start in range(0, len(values), self.chunk_size):
            body = {key: values[start : start + self.chunk_size]}
            items.extend(self._call("POST", f"/v1/models/{name}/predict", body)["items"])
        return items

    def generate(
        self,
        name: str,
        n: int,
        *,
        seed: int | None = None,
        temperature: float | None = None,
        objective: str | None = None,
    ) -> list[dict[str, Any]]:
        """``n`` molecules (``smiles``, ``valid``; ``score`` with an objective)."""
        body: dict[str, Any] = {"n": n, "seed": seed, "temperature": temperature, "objective": objective}
        return list(
            self._call("POST", f"/v1/models/{name}/generate", {k: v for k, v in body.items() if v is not None})["items"]
        )

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        import httpx

        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(method, path, json=body)
            except httpx.HTTPError as err:
                raise RemoteError(f"{self.url}{path}: {err}") from err
            if response.status_code == 503 and attempt < self.retries:
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code >= 400:
                try:
                    detail = response.json().get("detail")
                except ValueError:
                    detail = response.text[:200]
                raise RemoteError(f"{self.url}{path}: HTTP {response.status_code}: {detail}", response.status_code)
            return response.json()
        raise AssertionError("unreachable")


def predict_file(
    client: Client, name: str, input_path: str | Path, output_path: str | Path, *, input_column: str | None = None
) -> Any:
    """``molgen predict --url``: reads the inputs as ``molgen predict`` does, predicts them on the server and
    writes the same CSV (input columns, prediction columns, ``valid``, ``invalid_reason``). Returns the
    :class:`molgen.analysis.prediction.PredictionSummary`."""
    import numpy as np

    from molgen.analysis.prediction import LoadedModel, PredictionSummary, read_inputs
    from molgen.io import atomic_path
    from molgen.training.artifacts import parse_spec
    from molgen.training.tasks import add_columns

    info = client.model(name)
    if "predict" not in info["endpoints"]:
        raise ConfigError(f"model {name!r} ({info['family']}) has no predict endpoint")
    spec = parse_spec(info["spec"], f"{client.url}/v1/models ({name})")
    table = read_inputs(LoadedModel(spec, [], Path(name)), input_path, input_column)
    values = ["" if v is None or v != v else str(v) for v in table.frame[table.smiles_column].tolist()]
    kind = "smiles" if info["input"] == "smiles" else "sequences"
    items = client.predict(name, **{kind: values})
    served_input = (spec.input.column if spec.input is not None else None) or kind.rstrip("s")  # as the server names it
    keys = list(dict.fromkeys(k for item in items for k in item if k not in (served_input, "valid", "reason")))
    columns: dict[str, Any] = {k: [item.get(k) for item in items] for k in keys}
    columns["valid"] = np.array([bool(item["valid"]) for item in items], dtype=bool)
    columns["invalid_reason"] = [item.get("reason") or "" for item in items]
    out = add_columns(table.frame, columns)
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(output_path) as tmp:
        out.to_csv(tmp, index=False)
    bad = np.flatnonzero(~columns["valid"])
    invalid = [f"{table.describe_row(int(i))}: {columns['invalid_reason'][i]}" for i in bad]
    return PredictionSummary(len(out), len(invalid), invalid, output_path)
