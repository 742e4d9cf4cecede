"""The pretraining corpus, streamed: chunks of SMILES read, featurized and batched in DataLoader workers.

Any SMILES source (a catalog dataset such as ``moses``, a ``.smi``/CSV/TSV/SDF/Parquet file, optionally ``.gz``, or a
folder of such shards) is scanned once and cut into chunks of ``pretrain.chunk_size`` records (the screening
planner: byte offsets, so a worker reads its own chunk without reading the file before it, ``.gz`` aside). Chunk 0
is the validation set; the others are the training stream, visited in a seeded order per pass. A worker holds one
chunk at a time, so memory does not grow with the corpus. Unparseable molecules are skipped and counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from molgen.chem.featurize.graphs import FeaturizerSpec
from molgen.chem.pretraining_chunks import PretrainChunk, featurize_chunk
from molgen.errors import InvalidInputError
from molgen.training.stream import ChunkDone, StreamState

__all__ = ["Corpus", "CorpusStream", "StreamBatch", "ValidationBatches", "chunk_batches", "plan_corpus", "read_chunk"]


@dataclass(frozen=True)
class Corpus:
    """The corpus' chunks (``molgen.data.shards.Shard``) and how to featurize them."""

    shards: tuple[Any, ...]
    spec: FeaturizerSpec
    descriptors: tuple[str, ...] | None
    max_atoms: int | None
    source: str

    @property
    def n_rows(self) -> int:
        return sum(shard.n_rows for shard in self.shards)


def plan_corpus(
    path: Path,
    smiles_column: str | None,
    chunk_size: int,
    spec: FeaturizerSpec,
    descriptors: tuple[str, ...] | None,
    max_atoms: int | None,
    max_rows: int | None = None,
) -> Corpus:
    """Scans ``path`` (a file or a folder of shards) into chunks; ``max_rows``: only the chunks covering the first
    rows (whole chunks, so a stream position stays valid)."""
    from molgen.data.shards import plan_library  # the same planner as screening: scan once, read by offsets

    _, shards = plan_library(path, chunk_size, smiles_column=smiles_column)
    if max_rows is not None:
        kept, rows = [], 0
        for shard in shards:
            if rows >= max_rows:
                break
            kept.append(shard)
            rows += shard.n_rows
        shards = kept
    if len(shards) < 2:
        rows = sum(s.n_rows for s in shards)
        raise InvalidInputError(
            f"{path}: {rows} molecules make {len(shards)} chunk(s) of {chunk_size}; pretraining needs two at least "
            "(chunk 0 validates, the others train): lower --chunk-size"
        )
    return Corpus(tuple(shards), spec, descriptors, max_atoms, str(path))


def read_chunk(corpus: Corpus, chunk: int) -> PretrainChunk:
    """Reads and featurizes chunk ``chunk`` in this process."""
    from molgen.data.shards import read_shard

    frame = read_shard(corpus.shards[chunk])
    smiles = [s if error is None else None for s, error in zip(frame["smiles"], frame["read_error"])]
    return featurize_chunk(smiles, corpus.spec, corpus.descriptors, max_atoms=corpus.max_atoms)


def chunk_batches(chunk: PretrainChunk, rows: np.ndarray) -> Any:
    """One batch of graphs ``rows`` of a chunk, with ``descriptors`` ``[B, D]`` when the chunk has them."""
    batch = chunk.graphs.collate(rows)
    if chunk.descriptors is not None:
        batch.descriptors = torch.from_numpy(chunk.descriptors[rows])
    return batch


@dataclass
class StreamBatch:
    """One training batch as a worker sends it: numpy only (torch tensors sent between processes go through
    shared-memory file descriptors, several times slower); :meth:`to_batch` builds the graph batch in the trainer.

    Attributes:
        graphs: the batch's molecules. descriptors: ``[B, D]`` raw values or None.
        chunk / batch_in_chunk / last_in_chunk / chunk_rows / chunk_invalid: the stream position
        (see :mod:`molgen.training.stream`).
    """

    graphs: Any
    descriptors: np.ndarray | None
    chunk: int
    batch_in_chunk: int
    last_in_chunk: bool
    chunk_rows: int
    chunk_invalid: int

    def to_batch(self) -> Any:
        batch = self.graphs.collate(np.arange(len(self.graphs)))
        if self.descriptors is not None:
            batch.descriptors = torch.from_numpy(self.descriptors)
        batch.chunk, batch.batch_in_chunk, batch.last_in_chunk = self.chunk, self.batch_in_chunk, self.last_in_chunk
        batch.chunk_rows, batch.chunk_invalid = self.chunk_rows, self.chunk_invalid
        return batch


class CorpusStream(IterableDataset):
    """The training chunks of a pass, each featurized, shuffled (seeded by seed, pass and chunk) and cut into
    :class:`StreamBatch` es; worker ``w`` of ``n`` takes every ``n``-th chunk still to do. See
    :mod:`molgen.training.stream`."""

    def __init__(self, corpus: Corpus, state: StreamState, batch_size: int, seed: int) -> None:
        self.corpus, self.state, self.batch_size, self.seed = corpus, state, batch_size, seed

    def __iter__(self) -> Iterator[StreamBatch | ChunkDone]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        state = self.state
        pass_index, done, partial = state.pass_index, set(state.done), dict(state.partial)
        order = np.random.default_rng([self.seed, pass_index]).permutation(np.asarray(state.chunks))
        todo = [int(c) for c in order if int(c) not in done]
        for chunk_id in todo[worker::workers]:
            chunk = read_chunk(self.corpus, chunk_id)
            n = len(chunk.graphs)
            if n == 0:
                yield ChunkDone(chunk_id, chunk.n_rows, chunk.n_invalid)
                continue
            order_in_chunk = np.random.default_rng([self.seed, pass_index, chunk_id]).permutation(n)
            starts = range(0, n, self.batch_size)
            for k, start in enumerate(starts):
                if k < partial.get(chunk_id, 0):
                    continue  # trained on before the run was stopped
                rows = order_in_chunk[start : start + self.batch_size]
                descriptors = None if chunk.descriptors is None else chunk.descriptors[rows]
                last = k == len(starts) - 1
                yield StreamBatch(
                    chunk.graphs.subset(rows), descriptors, chunk_id, k, last, chunk.n_rows, chunk.n_invalid
                )


def _as_sent(item: Any) -> Any:
    """DataLoader ``collate_fn``: the worker's item as it is (numpy; no conversion to tensors in the worker)."""
    return item


def stream_loader(stream: CorpusStream, workers: int) -> DataLoader:
    """The training DataLoader: batches come made (``batch_size=None``); workers restart each pass so they see the
    current :class:`StreamState`."""
    return DataLoader(stream, batch_size=None, num_workers=workers, persistent_workers=False, collate_fn=_as_sent)


class ValidationBatches(torch.utils.data.Dataset):
    """Chunk 0 cut into fixed batches (in input order)."""

    def __init__(self, chunk: PretrainChunk, batch_size: int) -> None:
        self.chunk = chunk
        n = len(chunk.graphs)
        self.rows = [np.arange(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> Any:
        return chunk_batches(self.chunk, self.rows[i])
