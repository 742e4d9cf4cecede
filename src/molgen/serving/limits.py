"""Limits that keep a worker alive under load and bad input: body size (413), bounded concurrency with a
bounded queue (503 + Retry-After), a bearer token (401), and one JSON access-log line per request."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

access_log = logging.getLogger("molgen.serve.access")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = ("/healthz", "/readyz")
"""Paths that need no token (probes)."""


class Overloaded(Exception):
    """The queue is full: answered 503 with ``Retry-After``."""


class Gate:
    """At most ``slots`` requests compute at once; at most ``queue`` more wait; the rest are refused."""

    def __init__(self, slots: int, queue: int) -> None:
        self._slots = asyncio.Semaphore(slots)
        self.capacity, self.waiting, self.active = queue, 0, 0

    async def __aenter__(self) -> Gate:
        if self._slots.locked():
            if self.waiting >= self.capacity:
                raise Overloaded(f"{self.active} requests running and {self.waiting} queued (the limit)")
            self.waiting += 1
            try:
                await self._slots.acquire()
            finally:
                self.waiting -= 1
        else:
            await self._slots.acquire()
        self.active += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.active -= 1
        self._slots.release()


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] = ()) -> None:  # type: ignore[assignment]
    data = json.dumps(body).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": data})


class BodyLimit:
    """ASGI middleware: a body over ``max_bytes`` (declared or streamed) is answered 413 unread."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        too_big = {"detail": f"request body larger than the limit of {self.max_bytes} bytes"}
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await _send_json(send, 413, too_big)
        chunks, seen = [], 0  # read the body here (at most max_bytes), so the app never sees a bigger one
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                return await _send_json(send, 413, too_big)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class BearerAuth:
    """ASGI middleware: every path but the probes needs ``Authorization: Bearer <token>`` (401 otherwise)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.token = app, token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        given = dict(scope.get("headers", [])).get(b"authorization", b"")
        scheme, _, token = given.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self.token):
            return await _send_json(
                send, 401, {"detail": "missing or wrong bearer token"}, [(b"www-authenticate", b"Bearer")]
            )
        await self.app(scope, receive, send)


class AccessLog:
    """ASGI middleware: one JSON line per request (method, path, status, ms, client) on ``molgen.serve.access``,
    and ``observe(method, path, status, seconds)`` (the metrics)."""

    def __init__(self, app: ASGIApp, observe: Callable[[str, str, int, float], None] | None = None) -> None:
        self.app, self.observe = app, observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            seconds = time.perf_counter() - start
            client = scope.get("client") or ("", 0)
            record = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "ms": round(1000 * seconds, 2),
                "client": f"{client[0]}:{client[1]}",
            }
            access_log.info("%s %s %d", scope["method"], scope["path"], status, extra={"fields": record})
            if self.observe is not None:
                self.observe(scope["method"], scope["path"], status, seconds)
