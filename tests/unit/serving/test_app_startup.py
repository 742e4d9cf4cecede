"""A worker's start-up: models loaded, then the loaded objects frozen for the garbage collector, then ready."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from molgen.serving.app import create_app
from molgen.serving.settings import ServeSettings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models_format1"


def test_a_worker_freezes_what_it_loaded_before_it_reports_ready():
    app = create_app(ServeSettings(models={"esol": str(FIXTURES / "property")}))
    seen: dict[str, object] = {}

    async def main() -> None:
        inbox: asyncio.Queue[dict] = asyncio.Queue()
        await inbox.put({"type": "lifespan.startup"})
        started = asyncio.Event()

        async def send(message: dict) -> None:
            seen[message["type"]] = message
            if message["type"].startswith("lifespan.startup."):
                started.set()

        lifespan = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, send))
        await started.wait()
        seen["frozen"] = gc.get_freeze_count()
        await inbox.put({"type": "lifespan.shutdown"})
        await lifespan

    gc.unfreeze()
    try:
        asyncio.run(main())
    finally:
        gc.unfreeze()  # give this test process its collector back
    assert "lifespan.startup.complete" in seen, seen
    assert seen["frozen"] > 1000  # the modules and the model
