"""The ASGI application: ``create_app(settings)`` (tests, one process) and ``app_from_env()`` (each uvicorn
worker of ``molgen serve``). Models are loaded once per worker at startup; ``/readyz`` answers 200 after."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from molgen.errors import MolgenError
from molgen.serving.batching import Batcher
from molgen.serving.limits import AccessLog, BearerAuth, BodyLimit, Gate, Overloaded
from molgen.serving.metrics import Metrics
from molgen.serving.models import (
    ServedModel,
    attribute_items,
    generate_items,
    load_served,
    predict_items,
    variant_effect_items,
)
from molgen.serving.schemas import (
    AttributeRequest,
    ErrorResponse,
    GenerateRequest,
    GenerateResponse,
    ItemsResponse,
    ModelInfo,
    ModelsResponse,
    PredictRequest,
    VariantEffectRequest,
)
from molgen.serving.settings import ServeSettings, settings_from_env

log = logging.getLogger("molgen.serve")
T = TypeVar("T")

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "no such model, or not an endpoint of its family"},
    413: {"model": ErrorResponse, "description": "request body over --max-body-bytes"},
    422: {"model": ErrorResponse, "description": "invalid request (schema, or more items than --max-batch)"},
    503: {"model": ErrorResponse, "description": "overloaded (queue full); retry after Retry-After seconds"},
    504: {"model": ErrorResponse, "description": "the request took longer than --timeout-s"},
}


class ApiError(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


class State:
    """What one worker holds: its models, their batchers, the gate and the metrics."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.models: dict[str, ServedModel] = {}
        self.batchers: dict[str, Batcher] = {}
        self.gate = Gate(settings.max_concurrency, settings.max_queue)
        self.metrics = Metrics()
        self.metrics.queued.set_function(lambda: self.gate.waiting)
        self.metrics.active.set_function(lambda: self.gate.active)
        self.ready = False

    def model(self, name: str, endpoint: str) -> ServedModel:
        if name not in self.models:
            raise ApiError(404, f"no model {name!r}; served models: {', '.join(sorted(self.models))}")
        model = self.models[name]
        if endpoint not in model.endpoints:
            raise ApiError(
                404, f"model {name!r} ({model.family}) has no {endpoint} endpoint; it has: {', '.join(model.endpoints)}"
            )
        return model

    def check_count(self, what: str, n: int, limit: int) -> None:
        if n > limit:
            raise ApiError(422, f"{n} {what} in one request; the limit is {limit} (split the request)")

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """``work`` inside the concurrency gate and the time budget."""
        try:
            async with self.gate:
                return await asyncio.wait_for(work(), self.settings.timeout_s)
        except Overloaded as err:
            raise ApiError(503, f"server busy: {err}; retry later", {"Retry-After": "1"}) from None
        except asyncio.TimeoutError:
            raise ApiError(504, f"the request took longer than the budget of {self.settings.timeout_s:g} s") from None
        except MolgenError as err:
            raise ApiError(422, str(err)) from None

    async def load(self) -> None:
        settings = self.settings
        if settings.torch_threads:
            import torch

            torch.set_num_threads(settings.torch_threads)
        for name, folder in settings.models.items():
            self.models[name] = await asyncio.to_thread(load_served, name, folder, settings.precision)
            if "predict" in self.models[name].endpoints:
                model = self.models[name]
                self.batchers[name] = Batcher(
                    lambda inputs, model=model: predict_items(model, inputs),  # type: ignore[misc]
                    max_items=settings.max_batch,
                    wait_s=settings.batch_wait_ms / 1000,
                    on_batch=self.metrics.batch.observe,
                )
        # The objects loaded so far (modules, models) live as long as the worker: freezing them keeps the garbage
        # collector's full collections from scanning them, which paused a fresh worker for ~0.2 s under load.
        gc.collect()
        gc.freeze()
        self.ready = True


_ENDPOINT = re.compile(r"^/v1/models/[^/]+/")


def create_app(settings: ServeSettings) -> Any:
    """The FastAPI app wrapped in the access log, the body limit and (with a token file) bearer auth."""
    state = State(settings)
    token = settings.token()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.load()
        yield
        state.ready = False
        for batcher in state.batchers.values():
            await batcher.close()

    app = FastAPI(title="molgen", version=_version(), lifespan=lifespan, responses=ERRORS)
    app.state.molgen = state

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> JSONResponse:
        return JSONResponse({"detail": err.detail}, status_code=err.status, headers=err.headers)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process answers."""
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"model": ErrorResponse}})
    async def readyz() -> Response:
        """Models loaded: ready to serve."""
        if not state.ready:
            return JSONResponse({"detail": "loading models"}, status_code=503)
        return JSONResponse({"status": "ready", "models": sorted(state.models)})

    @app.get("/metrics", response_class=Response)
    async def metrics() -> Response:
        """Prometheus text format."""
        body, content_type = state.metrics.render()
        return Response(body, media_type=content_type)

    @app.get("/v1/models", response_model=ModelsResponse)
    async def models() -> ModelsResponse:
        """Served models: name, family, input, targets, endpoints, ``model.yaml`` and model card."""
        return ModelsResponse(
            models=[
                ModelInfo(
                    name=m.name,
                    family=m.family,
                    input=m.input_kind,
                    targets=m.targets,
                    endpoints=m.endpoints,
                    spec=m.spec,
                    card=m.card,
                    precision=m.precision,
                )
                for m in state.models.values()
            ]
        )

    @app.post("/v1/models/{name}/predict", response_model=ItemsResponse)
    async def predict(name: str, body: PredictRequest) -> Response:
        """One item per input, in order; an invalid input is an item with ``valid: false`` and its ``reason``."""
        model = state.model(name, "predict")
        inputs = body.inputs
        state.check_count("inputs", len(inputs), settings.max_batch)
        wanted = "smiles" if model.input_kind == "smiles" else "sequences"
        if (body.smiles if wanted == "smiles" else body.sequences) is None:
            raise ApiError(422, f'model {name!r} reads {model.input_kind} inputs: send {{"{wanted}": [...]}}')
        cap = settings.max_smiles_length if model.input_kind == "smiles" else settings.max_sequence_length
        refused = {i: why for i, value in enumerate(inputs) if (why := refusal(value, cap))}
        sent = [("" if i in refused else value) for i, value in enumerate(inputs)]  # "": an invalid item
        items = await state.run(lambda: state.batchers[name].submit(sent))
        for i, why in refused.items():
            items[i][model.input_column] = inputs[i]
            items[i]["reason"] = why
        state.metrics.observe_items(name, "predict", items)
        return _json({"model": name, "items": items})

    @app.post("/v1/models/{name}/generate", response_model=GenerateResponse)
    async def generate(name: str, body: GenerateRequest) -> Response:
        """``n`` sampled molecules (``seed``: reproducible), or the best ``n`` for an RDKit ``objective``."""
        model = state.model(name, "generate")
        state.check_count("molecules", body.n, settings.max_generate)
        options = {"objective": body.objective, "direction": body.direction, "rounds": body.rounds}
        items, summary = await state.run(
            lambda: asyncio.to_thread(
                generate_items, model, body.n, seed=body.seed, temperature=body.temperature, **options
            )
        )
        state.metrics.observe_items(name, "generate", items)
        return _json({"model": name, "items": items, "summary": summary})

    @app.post("/v1/models/{name}/variant-effect", response_model=ItemsResponse)
    async def variant_effect(name: str, body: VariantEffectRequest) -> Response:
        """Effect of each variant (``<target>_ref``, ``_alt``, ``_diff``) on the sequences given inline."""
        model = state.model(name, "variant-effect")
        state.check_count("variants", len(body.variants), settings.max_batch)
        state.check_count("sequences", len(body.sequences), settings.max_batch)
        cap = settings.max_sequence_length
        bad_sequences = {k: why for k, s in body.sequences.items() if (why := refusal(s, cap) or refusal(k, cap))}
        sequences = {k: s for k, s in body.sequences.items() if k not in bad_sequences}
        variants = [v.model_dump() for v in body.variants]
        bad_variants = {}
        for i, v in enumerate(variants):
            why = next((refusal(str(v[k]), cap) for k in ("sequence_id", "ref", "alt", "variant_id") if v[k]), None)
            why = why or bad_sequences.get(v["sequence_id"])
            if why:
                bad_variants[i] = (why, dict(v))
                v.update(sequence_id="", ref="N", alt="N", variant_id=None)  # not computed: an invalid item
        items = await state.run(lambda: asyncio.to_thread(variant_effect_items, model, sequences, variants))
        for i, (why, original) in bad_variants.items():
            items[i].update(original)
            items[i]["reason"] = why
        state.metrics.observe_items(name, "variant-effect", items)
        return _json({"model": name, "items": items})

    @app.post("/v1/models/{name}/attribute", response_model=ItemsResponse)
    async def attribute(name: str, body: AttributeRequest) -> Response:
        """Per-base importance (``importance``: one value per input base of the model window) for ``target``."""
        model = state.model(name, "attribute")
        state.check_count("sequences", len(body.sequences), settings.max_batch)
        cap = settings.max_sequence_length
        refused = {i: why for i, s in enumerate(body.sequences) if (why := refusal(s, cap))}
        sequences = [("" if i in refused else s) for i, s in enumerate(body.sequences)]
        items = await state.run(
            lambda: asyncio.to_thread(attribute_items, model, sequences, target=body.target, method=body.method)
        )
        for i, why in refused.items():
            items[i]["reason"] = why
        state.metrics.observe_items(name, "attribute", items)
        return _json({"model": name, "items": items})

    def observe(method: str, path: str, status: int, seconds: float) -> None:
        endpoint = _ENDPOINT.sub("/v1/models/{name}/", path) if path.startswith("/v1/models/") else path
        if endpoint not in _KNOWN:
            endpoint = "other"
        state.metrics.requests.labels(endpoint, str(status)).inc()
        state.metrics.latency.labels(endpoint).observe(seconds)
        if status >= 400:
            state.metrics.errors.labels(endpoint, str(status)).inc()

    wrapped: Any = app
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"])
    if token is not None:
        wrapped = BearerAuth(wrapped, token)
    wrapped = BodyLimit(wrapped, settings.max_body_bytes)
    return AccessLog(wrapped, observe)


_KNOWN = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/v1/models",
    *(f"/v1/models/{{name}}/{e}" for e in ("predict", "generate", "variant-effect", "attribute")),
}


def refusal(value: str, cap: int) -> str | None:
    """Why an input is an invalid item before any computation (too long, not UTF-8 text), or None."""
    if len(value) > cap:
        return f"longer than the limit of {cap} characters ({len(value)})"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "not valid UTF-8 text (a lone surrogate)"
    return None


def _json(body: dict[str, Any]) -> Response:
    """JSON without re-validating every item (the items are already plain values; NaN was made null)."""
    return Response(json.dumps(body, allow_nan=False), media_type="application/json")


def _version() -> str:
    from molgen import __version__

    return __version__


def app_from_env() -> Any:
    """The app of one uvicorn worker, from ``$MOLGEN_SERVE_SETTINGS`` (set by ``molgen serve``)."""
    from molgen.serving.logs import configure_logging

    configure_logging()
    return create_app(settings_from_env())
