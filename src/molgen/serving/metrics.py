"""Prometheus metrics of one worker (``GET /metrics``, text format): requests, latency, items, errors, batches.

Each app has its own registry; with ``--workers N`` each worker answers with its own counts (scrape per
worker, or run one worker per container as usual)."""

from __future__ import annotations

from typing import Any


class Metrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter("molgen_requests", "HTTP requests", ["endpoint", "status"], registry=self.registry)
        self.latency = Histogram(
            "molgen_request_seconds",
            "request latency",
            ["endpoint"],
            buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.items = Counter("molgen_items", "items answered", ["model", "endpoint", "valid"], registry=self.registry)
        self.errors = Counter(
            "molgen_errors", "requests answered with an error", ["endpoint", "kind"], registry=self.registry
        )
        self.batch = Histogram(
            "molgen_batch_items",
            "inputs per dynamically batched predict call",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096),
            registry=self.registry,
        )
        self.queued = Gauge("molgen_queued_requests", "requests waiting for a slot", registry=self.registry)
        self.active = Gauge("molgen_active_requests", "requests holding a slot", registry=self.registry)

    def observe_items(self, model: str, endpoint: str, items: list[dict[str, Any]]) -> None:
        n_valid = sum(1 for item in items if item.get("valid"))
        self.items.labels(model, endpoint, "true").inc(n_valid)
        self.items.labels(model, endpoint, "false").inc(len(items) - n_valid)

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
