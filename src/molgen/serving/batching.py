"""Dynamic batching: concurrent predict requests for one model are merged into one library call.

Requests wait at most ``wait_s`` for others (or until ``max_items`` are collected), then one call predicts
them all in a worker thread and each request gets its own slice back, in order. Fewer, larger calls amortize
featurization and forward-pass overhead (see ``benchmarks/serving_load.py`` for the measured gain).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

Predict = Callable[[list[str]], list[dict[str, Any]]]


@dataclasses.dataclass
class _Pending:
    inputs: list[str]
    future: asyncio.Future[list[dict[str, Any]]]


class Batcher:
    """Collects ``submit`` calls into batches of at most ``max_items`` inputs for ``predict``.

    Args:
        predict: inputs → one item per input (blocking; run in a thread).
        max_items: most inputs per call (a bigger request runs alone).
        wait_s: how long the first request of a batch waits for company.
        on_batch: called with the size of each batch (for metrics).
    """

    def __init__(
        self,
        predict: Predict,
        *,
        max_items: int,
        wait_s: float,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.predict, self.max_items, self.wait_s, self.on_batch = predict, max_items, wait_s, on_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, inputs: list[str]) -> list[dict[str, Any]]:
        """One item per input, once its batch has run (the predict error, if the call failed)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        future: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(inputs, future))
        return await future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        carried: _Pending | None = None
        while True:
            first = carried or await self._queue.get()
            carried = None
            batch, size = [first], len(first.inputs)
            if self.wait_s > 0 and size < self.max_items and self._queue.empty():
                await asyncio.sleep(self.wait_s)  # let concurrent requests join
            while size < self.max_items and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if size + len(nxt.inputs) > self.max_items:
                    carried = nxt  # starts the next batch
                    break
                batch.append(nxt)
                size += len(nxt.inputs)
            batch = [p for p in batch if not p.future.done()]  # cancelled (timed out, client gone)
            if not batch:
                continue
            inputs = [x for p in batch for x in p.inputs]
            if self.on_batch is not None:
                self.on_batch(len(inputs))
            try:
                items = await asyncio.to_thread(self.predict, inputs)
            except Exception as err:  # each waiting request reports it
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(err)
                continue
            start = 0
            for p in batch:
                if not p.future.done():
                    p.future.set_result(items[start : start + len(p.inputs)])
                start += len(p.inputs)
