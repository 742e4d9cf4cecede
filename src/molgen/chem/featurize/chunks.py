"""Featurization that runs ahead of its consumer: chunks of graphs, in input order, from worker processes.

A :class:`ChunksAhead` submits chunks of inputs to worker processes as soon as it is made, and yields one
:class:`Chunk` at a time in input order, so the caller can compute on a chunk (``molgen predict`` runs the model
on it) while the following ones are being parsed, and can make it before loading its model. It reuses
:func:`molgen.chem.featurize.graphs.featurize_smiles`'s pieces: the same chunk task, the same workers (joblib's
reusable loky executor: fresh interpreters, numpy arrays back, never tensors) and the same one-hot encoding in
the calling process. Every chunk equals the rows it covers in ``featurize_smiles``'s result. With a
``reference`` set of fingerprints each chunk also carries its molecules' nearest-reference similarity
(the applicability domain's search), computed where the chunk was featurized.

Example:
    >>> parts = list(ChunksAhead(["CCO", "bad", "c1ccccc1"], FeaturizerSpec(), workers=1, chunk_size=2))
    >>> [part.featurized.valid_index.tolist() for part in parts], parts[0].featurized.invalid[0].index
    ([[0], [2]], 1)
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import numpy as np

from molgen.chem.featurize.graphs import (
    _CHUNK_SIZE,
    FeaturizationResult,
    FeaturizerSpec,
    _ChunkResult,
    _concat_chunks,
    _encode_graphs,
    _featurize_chunk,
    _Task,
    resolve_processes,
)
from molgen.chem.featurize.limits import DEFAULT_MAX_ATOMS
from molgen.chem.similarity import ReferenceFingerprints
from molgen.errors import ConfigError

__all__ = ["CHUNK_SIZE", "OVERLAP_MIN_ROWS", "Chunk", "ChunksAhead", "featurize_ahead"]

CHUNK_SIZE = _CHUNK_SIZE
"""Inputs per chunk (default of :class:`ChunksAhead`): 1,000 molecules are ~0.1 s of featurization, so the
first chunk is ready soon and the work is shared in small steps."""
OVERLAP_MIN_ROWS = 2000
"""Fewest inputs that :func:`featurize_ahead` featurizes in worker processes; fewer are featurized in the calling
process. Whole ``molgen predict`` processes (D-MPNN 300×3, MOSES, 2 vCPUs, medians of 3): 1,000 rows 4.61 s
with a worker against 4.51 s without, 2,000 rows 4.82 against 5.02 s, 4,000 rows 5.18 against 5.79 s
(``benchmarks/results/predict_overlap_2026-12-07.md``)."""
CHUNKS_AHEAD = 32
"""Chunks submitted ahead of the caller (at least 4 per worker): enough for the workers to keep going while the
caller loads torch and its model (~2 s, ~15–20 chunks), few enough that the chunks waiting for the caller stay
small (raw tables, ~1 MB per 1,000 molecules)."""

_Reference = tuple[str, np.ndarray]  # (key, bit-packed fingerprints)
_REFERENCES: dict[str, ReferenceFingerprints] = {}  # per process: the reference set last used, by key


@dataclass
class Chunk:
    """One chunk: ``featurized`` (positions in the whole input, not in the chunk) and, with a reference set,
    ``nearest``: float64 ``[n_valid]``, each valid molecule's largest Tanimoto similarity to it."""

    featurized: FeaturizationResult
    nearest: np.ndarray | None = None


def _chunk_task(task: _Task, reference: _Reference | None) -> tuple[_ChunkResult, np.ndarray | None]:
    """Featurizes one chunk and, with a reference, searches it (runs in the workers and in the caller)."""
    chunk = _featurize_chunk(task)
    if reference is None:
        return chunk, None
    key, packed = reference
    if key not in _REFERENCES:
        _REFERENCES.clear()
        _REFERENCES[key] = ReferenceFingerprints(packed)
    assert chunk.fingerprints is not None, "a reference search needs the chunk's fingerprints"
    return chunk, _REFERENCES[key].nearest(chunk.fingerprints)


class ChunksAhead:
    """Featurizes ``smiles`` in ``workers`` worker processes, ahead of the caller; iterate once for the chunks.

    Work is submitted when the object is made. A chunk that no worker has started when the caller asks for it is
    featurized in the calling process (unless ``caller_takes_chunks`` is False), so the caller never waits for the
    workers to start and takes its share of the work when they fall behind. :meth:`close` (or leaving a ``with``
    block, or the end of the iteration) cancels the chunks no worker has started.

    Args:
        smiles: inputs, as for :func:`~molgen.chem.featurize.graphs.featurize_smiles`.
        spec: what to compute.
        workers: worker processes (≥ 1).
        chunk_size: inputs per chunk (default :data:`CHUNK_SIZE`).
        max_atoms: heavy-atom cap (see ``featurize_smiles``).
        fingerprint: ``(radius, n_bits)``: each chunk also carries the bit-packed Morgan fingerprints of its valid
            molecules.
        reference: reference fingerprints (with ``fingerprint``): each chunk also carries ``nearest``.
    """

    def __init__(
        self,
        smiles: Sequence[Any],
        spec: FeaturizerSpec,
        *,
        workers: int,
        chunk_size: int | None = None,
        max_atoms: int | None = DEFAULT_MAX_ATOMS,
        fingerprint: tuple[int, int] | None = None,
        reference: ReferenceFingerprints | None = None,
        caller_takes_chunks: bool = True,
    ) -> None:
        if workers < 1:
            raise ConfigError(f"ChunksAhead needs at least 1 worker process, got {workers}")
        if reference is not None and fingerprint is None:
            raise ValueError("a reference search needs fingerprint=(radius, n_bits)")
        from joblib.externals.loky import get_reusable_executor

        smiles = list(smiles)
        size = chunk_size or CHUNK_SIZE
        self.n_inputs, self.workers, self.spec, self.fingerprint = len(smiles), workers, spec, fingerprint
        self._tasks: list[_Task] = [
            (start, smiles[start : start + size], spec.descriptors, spec.standardize, max_atoms, fingerprint)
            for start in range(0, len(smiles), size)
        ]
        self._reference: _Reference | None = None
        if reference is not None:
            self._reference = (hashlib.sha1(reference.packed.tobytes()).hexdigest(), reference.packed)
        self._caller_takes = caller_takes_chunks
        self._executor = get_reusable_executor(max_workers=workers)
        self._pending: deque[Future[tuple[_ChunkResult, np.ndarray | None]]] = deque()
        self._submitted = 0
        self._iterated = False
        self._submit()

    def _submit(self) -> None:
        ahead = max(CHUNKS_AHEAD, 4 * self.workers)
        while self._submitted < len(self._tasks) and len(self._pending) < ahead:
            task = self._tasks[self._submitted]
            self._pending.append(self._executor.submit(_chunk_task, task, self._reference))
            self._submitted += 1

    @property
    def workers_done(self) -> bool:
        """Every chunk is featurized or taken: the workers have nothing left to do."""
        return self._submitted == len(self._tasks) and all(future.done() for future in self._pending)

    def __iter__(self) -> Iterator[Chunk]:
        if self._iterated:
            raise RuntimeError("ChunksAhead can be iterated once")
        self._iterated = True
        try:
            for task in self._tasks:
                future = self._pending.popleft()
                if self._caller_takes and future.cancel():
                    chunk, nearest = _chunk_task(task, self._reference)
                else:
                    chunk, nearest = future.result()
                self._submit()
                yield Chunk(_featurization(chunk, self.spec, self.fingerprint), nearest)
        finally:
            self.close()

    def close(self) -> None:
        """Cancels the chunks no worker has started (the shared workers are not left busy with them)."""
        for future in self._pending:
            future.cancel()

    def __enter__(self) -> ChunksAhead:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _featurization(
    chunk: _ChunkResult, spec: FeaturizerSpec, fingerprint: tuple[int, int] | None
) -> FeaturizationResult:
    tables, mol_features, valid_index, invalid = _concat_chunks([chunk], spec)
    fingerprints = None
    if fingerprint is not None:
        fingerprints = chunk.fingerprints
        if fingerprints is None:
            fingerprints = np.zeros((0, fingerprint[1] // 8), np.uint8)
    return FeaturizationResult(
        _encode_graphs(tables, mol_features, spec), valid_index, invalid, fingerprints=fingerprints
    )


def featurize_ahead(
    smiles: Sequence[Any],
    spec: FeaturizerSpec,
    *,
    n_jobs: int,
    fingerprint: tuple[int, int] | None = None,
    reference: ReferenceFingerprints | None = None,
) -> ChunksAhead | None:
    """A :class:`ChunksAhead` with ``n_jobs - 1`` workers (``n_jobs`` -1: all cores) for at least
    :data:`OVERLAP_MIN_ROWS` inputs; None for fewer inputs or one process (featurize them in this process)."""
    processes = resolve_processes(n_jobs, len(smiles), per_process=1)
    if processes < 2 or len(smiles) < OVERLAP_MIN_ROWS:
        return None
    return ChunksAhead(smiles, spec, workers=processes - 1, fingerprint=fingerprint, reference=reference)
