"""Nearest-neighbour Tanimoto similarity of bit-packed fingerprints (the applicability domain's kernel).

Fingerprints are stored bit-packed (uint8 ``[N, n_bits / 8]``, :func:`molgen.chem.fingerprints.pack`). On-bit
counts are popcounts of the packed rows (``np.bitwise_count`` on uint64 views). Intersections come from one
sparse × dense product per block of queries: a Morgan fingerprint sets ~40 of 2048 bits, so the query block
as a CSR matrix times the reference bits ``[n_bits, R]`` adds ~40 reference rows per query, in scipy's C
loop. That is exact (integer counts) and ~4x faster here than AND + popcount over all 32 words of each pair
(numpy, 2 vCPUs: ~25 vs ~100 ns per pair); no Python loop runs per pair or per query.

Tanimoto of two all-zero fingerprints is 0, as in RDKit's ``BulkTanimotoSimilarity``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ReferenceFingerprints", "nearest_tanimoto", "popcount"]


def popcount(packed: np.ndarray) -> np.ndarray:
    """On-bits per row of a bit-packed uint8 ``[N, B]`` matrix → int64 ``[N]``."""
    packed = np.ascontiguousarray(packed, dtype=np.uint8)
    if packed.shape[1] % 8 == 0:  # whole 64-bit words
        words = packed.view(np.uint64)
        return np.bitwise_count(words).sum(1, dtype=np.int64)
    return np.bitwise_count(packed).sum(1, dtype=np.int64)


class ReferenceFingerprints:
    """A reference set (e.g. the training molecules), prepared once for many :meth:`nearest` calls.

    Args:
        packed: bit-packed uint8 ``[R, B]`` (``B = n_bits / 8``), ``R ≥ 1``.

    Memory: the reference bits are kept unpacked as ``[n_bits, R]``: uint8 (40 MB for 20,000 molecules of
    2048 bits) when every reference fingerprint has at most 255 on-bits, so that no intersection count overflows
    (almost always: a Morgan fingerprint sets ~40), else uint16. uint8 halves the memory the product reads.
    """

    def __init__(self, packed: np.ndarray) -> None:
        packed = np.ascontiguousarray(packed, dtype=np.uint8)
        if packed.ndim != 2 or len(packed) == 0:
            raise ValueError(f"reference fingerprints must be a non-empty [R, n_bytes] array, got {packed.shape}")
        self.packed = packed  # what worker processes are sent (8x smaller than the unpacked bits)
        self.n_bytes = packed.shape[1]
        self.counts = popcount(packed).astype(np.float64)  # [R]
        self._dtype = np.uint8 if self.counts.max() <= np.iinfo(np.uint8).max else np.uint16
        self._bits_t = np.ascontiguousarray(np.unpackbits(packed, axis=1).T, dtype=self._dtype)  # [n_bits, R]

    def __len__(self) -> int:
        return len(self.counts)

    def nearest(self, query: np.ndarray, *, block_size: int | None = None) -> np.ndarray:
        """Largest Tanimoto similarity of each query row to the reference set.

        Args:
            query: bit-packed uint8 ``[Q, B]`` with the reference's ``B``.
            block_size: queries per sparse product (memory ~ ``block_size × R × 18`` bytes); default: about
                2^20 similarities per block (64 to 4096 queries).

        Returns:
            float64 ``[Q]`` in [0, 1].
        """
        import scipy.sparse

        query = np.ascontiguousarray(query, dtype=np.uint8)
        if query.ndim != 2 or query.shape[1] != self.n_bytes:
            raise ValueError(f"query fingerprints must be [Q, {self.n_bytes}] packed bytes, got {query.shape}")
        block_size = block_size or int(np.clip((1 << 20) // len(self), 64, 4096))
        best = np.zeros(len(query), dtype=np.float64)
        query_counts = popcount(query).astype(np.float64)
        for start in range(0, len(query), block_size):
            bits = np.unpackbits(query[start : start + block_size], axis=1)
            rows, columns = np.nonzero(bits)  # row-major: already CSR order
            indptr = np.searchsorted(rows, np.arange(len(bits) + 1))
            sparse = scipy.sparse.csr_matrix(
                (np.ones(len(columns), dtype=self._dtype), columns, indptr), shape=bits.shape, copy=False
            )
            inter = (sparse @ self._bits_t).astype(np.float64)  # [q, R] intersection counts
            union = query_counts[start : start + block_size, None] + self.counts[None, :]
            union -= inter
            np.divide(inter, union, out=inter, where=union > 0)  # 0/0 (two empty fingerprints) stays 0
            best[start : start + len(bits)] = inter.max(1)
        return best


def nearest_tanimoto(query: np.ndarray, reference: np.ndarray, *, block_size: int | None = None) -> np.ndarray:
    """For each bit-packed query row, its largest Tanimoto similarity to the bit-packed reference rows.

    Args:
        query: uint8 ``[Q, B]``; reference: uint8 ``[R, B]``, ``R ≥ 1``.

    Returns:
        float64 ``[Q]``.
    """
    return ReferenceFingerprints(reference).nearest(query, block_size=block_size)
