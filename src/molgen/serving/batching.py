"""Dynamic batching: concurrent predict requests for one model are merged into one library call.

While a call runs, new requests queue; the next call takes every queued request (up to ``max_items``
inputs), in a worker thread, and each request gets its own slice back, in order. A request that finds the
model idle is dispatched at once: it waits for company (at most ``wait_s``) only while requests keep
arriving together, i.e. when the previous call merged several requests. Fewer, larger calls amortize
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
        wait_s: how long the first request of a batch waits for company, when the previous call merged several
            requests (0: never; a lone request is always dispatched at once).
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
        self._company = False  # the previous call merged several requests: more are likely on their way

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
            if self._company and self.wait_s > 0 and size < self.max_items and self._queue.empty():
                await asyncio.sleep(self.wait_s)  # under concurrent load: let the next requests join
            while size < self.max_items and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if size + len(nxt.inputs) > self.max_items:
                    carried = nxt  # starts the next batch
                    break
                batch.append(nxt)
                size += len(nxt.inputs)
            self._company = len(batch) > 1
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
