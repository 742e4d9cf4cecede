"""Where a streamed corpus stands: which chunks of the current pass are trained on, saved in every checkpoint.

A streaming dataset (one pass = every training chunk once, in a seeded order per pass) reads :class:`StreamState`
when its iterator starts and skips the chunks already done and, in a chunk cut short, the batches already trained
on; :class:`StreamPosition` marks them as batches finish and is saved with the checkpoint (Lightning stores a
callback's ``state_dict``), so a run killed mid-pass resumes where it stopped without reading the corpus again
from its start. Every batch carries ``chunk``, ``batch_in_chunk`` and ``last_in_chunk``; the last batch of a chunk
also carries ``chunk_rows`` and ``chunk_invalid`` (counted once, in the first pass).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lightning.pytorch as L

__all__ = ["ChunkDone", "StreamPosition", "StreamState"]


@dataclass
class StreamState:
    """The pass over the corpus, its finished chunks, the batches trained of unfinished ones and the corpus counts."""

    chunks: tuple[int, ...]
    pass_index: int = 0
    done: set[int] = field(default_factory=set)
    partial: dict[int, int] = field(default_factory=dict)
    rows: int = 0
    invalid: int = 0


@dataclass
class ChunkDone:
    """Stands for a chunk without a valid molecule (so that its end is still recorded); no training step."""

    chunk: int
    chunk_rows: int
    chunk_invalid: int
    batch_in_chunk: int = 0
    last_in_chunk: bool = True

    def to(self, device: Any, non_blocking: bool = False) -> ChunkDone:
        return self


class StreamPosition(L.Callback):
    """Records each finished batch in ``state``; starts the next pass when every chunk is done."""

    def __init__(self, state: StreamState) -> None:
        self.state = state

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self.record(batch)

    def record(self, batch: Any) -> None:
        state, chunk = self.state, int(batch.chunk)
        if not batch.last_in_chunk:
            state.partial[chunk] = int(batch.batch_in_chunk) + 1
            return
        state.partial.pop(chunk, None)
        state.done.add(chunk)
        if state.pass_index == 0:
            state.rows += int(batch.chunk_rows)
            state.invalid += int(batch.chunk_invalid)
        if state.done >= set(state.chunks):
            state.pass_index += 1
            state.done.clear()

    def state_dict(self) -> dict[str, Any]:
        s = self.state
        return {
            "pass_index": s.pass_index,
            "done": sorted(s.done),
            "partial": [[k, v] for k, v in sorted(s.partial.items())],
            "rows": s.rows,
            "invalid": s.invalid,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        s = self.state
        s.pass_index, s.rows, s.invalid = state_dict["pass_index"], state_dict["rows"], state_dict["invalid"]
        s.done = set(state_dict["done"])
        s.partial = {int(k): int(v) for k, v in state_dict["partial"]}
