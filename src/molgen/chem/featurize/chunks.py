"""Featurization that runs ahead of its consumer: chunks of graphs, in input order, from worker processes.

:func:`featurize_chunks` yields one :class:`FeaturizationResult` per chunk of inputs while worker processes
featurize the next ones, so the caller can compute on a chunk (``molgen predict`` runs the model on it) while
the following chunks are being parsed. It reuses :func:`molgen.chem.featurize.graphs.featurize_smiles`'s
pieces: the same chunk task, the same workers (joblib's reusable loky executor: fresh interpreters, numpy arrays
back, never tensors) and the same one-hot encoding in the calling process. Every chunk equals the rows it
covers in ``featurize_smiles``'s result.

Example:
    >>> parts = list(featurize_chunks(["CCO", "bad", "c1ccccc1"], FeaturizerSpec(), workers=1, chunk_size=2))
    >>> [part.valid_index.tolist() for part in parts], parts[0].invalid[0].index
    ([[0], [2]], 1)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
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
)
from molgen.chem.featurize.limits import DEFAULT_MAX_ATOMS
from molgen.errors import ConfigError

__all__ = ["featurize_chunks"]

CHUNK_SIZE = _CHUNK_SIZE
"""Inputs per chunk (default of :func:`featurize_chunks`): 1,000 molecules are ~0.1 s of featurization, so the
first chunk is ready soon and the work is shared in small steps."""
AHEAD_PER_WORKER = 4
"""Chunks submitted ahead per worker: enough that a worker never idles between chunks, few enough that the
results waiting for the caller stay small (a 1,000-molecule chunk is ~1–2 MB of tables)."""


def featurize_chunks(
    smiles: Sequence[Any],
    spec: FeaturizerSpec,
    *,
    workers: int,
    chunk_size: int | None = None,
    max_atoms: int | None = DEFAULT_MAX_ATOMS,
    fingerprint: tuple[int, int] | None = None,
    caller_takes_chunks: bool = True,
) -> Iterator[FeaturizationResult]:
    """Featurizes ``smiles`` in ``workers`` worker processes, ahead of the caller, yielding one chunk at a time.

    A chunk that no worker has started when the caller asks for it is featurized in the calling process (unless
    ``caller_takes_chunks`` is False), so the caller never waits for the workers to start and takes its share of
    the work when they fall behind.

    Args:
        smiles: inputs, as for :func:`~molgen.chem.featurize.graphs.featurize_smiles`.
        spec: what to compute.
        workers: worker processes (≥ 1).
        chunk_size: inputs per chunk (default :data:`CHUNK_SIZE`).
        max_atoms: heavy-atom cap (see ``featurize_smiles``).
        fingerprint: ``(radius, n_bits)``: each chunk also carries the bit-packed Morgan fingerprints of its valid
            molecules.

    Yields:
        :class:`FeaturizationResult` per chunk of ``chunk_size`` inputs, in input order; ``valid_index`` and
        the ``invalid`` records hold positions in ``smiles``, not in the chunk.
    """
    if workers < 1:
        raise ConfigError(f"featurize_chunks needs at least 1 worker process, got {workers}")
    from joblib.externals.loky import get_reusable_executor

    smiles = list(smiles)
    chunk_size = chunk_size or CHUNK_SIZE
    tasks: list[_Task] = [
        (start, smiles[start : start + chunk_size], spec.descriptors, spec.standardize, max_atoms, fingerprint)
        for start in range(0, len(smiles), chunk_size)
    ]
    executor = get_reusable_executor(max_workers=workers)
    pending: deque[Future[_ChunkResult]] = deque()
    submitted = 0
    try:
        for task in tasks:
            while submitted < len(tasks) and len(pending) < workers * AHEAD_PER_WORKER:
                pending.append(executor.submit(_featurize_chunk, tasks[submitted]))
                submitted += 1
            future = pending.popleft()
            chunk = _featurize_chunk(task) if caller_takes_chunks and future.cancel() else future.result()
            yield _chunk_result(chunk, spec, fingerprint)
    finally:  # the caller stopped early or failed: do not leave the shared workers busy with our chunks
        for future in pending:
            future.cancel()


def _chunk_result(
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
