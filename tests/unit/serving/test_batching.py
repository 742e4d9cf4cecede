"""The dynamic batcher: concurrent requests share one call, each gets its own items back, in order."""

from __future__ import annotations

import asyncio

from molgen.serving.batching import Batcher


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_concurrent_requests_are_merged_and_split_back_in_order():
    calls: list[list[str]] = []

    def predict(inputs: list[str]) -> list[dict]:
        calls.append(list(inputs))
        return [{"input": x, "n": len(inputs)} for x in inputs]

    async def main() -> list[list[dict]]:
        batcher = Batcher(predict, max_items=100, wait_s=0.05)
        out = await asyncio.gather(*(batcher.submit([f"{i}a", f"{i}b"]) for i in range(5)))
        await batcher.close()
        return out

    results = run(main())
    assert len(calls) == 1 and len(calls[0]) == 10
    assert [[item["input"] for item in r] for r in results] == [[f"{i}a", f"{i}b"] for i in range(5)]


def test_batches_hold_at_most_max_items_and_errors_reach_every_waiter():
    sizes: list[int] = []

    def predict(inputs: list[str]) -> list[dict]:
        sizes.append(len(inputs))
        if "boom" in inputs:
            raise ValueError("boom")
        return [{"input": x} for x in inputs]

    async def main() -> tuple[list, list]:
        batcher = Batcher(predict, max_items=4, wait_s=0.05)
        ok = await asyncio.gather(*(batcher.submit(["x", "y", "z"]) for _ in range(3)))
        failed = await asyncio.gather(batcher.submit(["boom"]), batcher.submit(["fine"]), return_exceptions=True)
        await batcher.close()
        return ok, failed

    ok, failed = run(main())
    assert max(sizes[:3]) <= 4 and sum(sizes[:3]) == 9
    assert all([i["input"] for i in r] == ["x", "y", "z"] for r in ok)
    assert all(isinstance(f, ValueError) for f in failed)  # one call held both


def test_a_lone_request_is_dispatched_at_once_and_waits_only_under_concurrent_load():
    calls: list[list[str]] = []

    def predict(inputs: list[str]) -> list[dict]:
        calls.append(list(inputs))
        return [{"input": x} for x in inputs]

    async def main() -> None:
        batcher = Batcher(predict, max_items=100, wait_s=3600)  # a lone request that waited would hang here
        await asyncio.wait_for(batcher.submit(["alone"]), 60)
        await asyncio.wait_for(batcher.submit(["alone again"]), 60)
        await asyncio.gather(*(batcher.submit([f"c{i}"]) for i in range(3)))  # merged: company seen
        batcher.wait_s = 0.2
        first = asyncio.ensure_future(batcher.submit(["first"]))
        for _ in range(5):  # the batcher takes "first" and, having seen company, waits for more
            await asyncio.sleep(0)
        await asyncio.gather(first, batcher.submit(["late"]))
        await batcher.close()

    run(main())
    assert calls == [["alone"], ["alone again"], ["c0", "c1", "c2"], ["first", "late"]]
