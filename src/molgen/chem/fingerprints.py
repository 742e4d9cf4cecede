"""Morgan (ECFP-like) bit fingerprints as numpy arrays, and Tanimoto similarity between sets of them.

Bits are those of RDKit's ``GetMorganFingerprintAsBitVect(mol, radius, nBits)`` (no chirality, no
feature invariants), the fingerprint MOSES uses for SNN and IntDiv (radius 2, 1024 bits).

Similarities between large sets are matrix products of the 0/1 bit matrices, computed in chunks
with torch in bfloat16. That is **exact**: products of 0/1 are exact and the accumulation is float32;
the intersection counts, integers at most the smaller on-bit count, are exactly representable in
bfloat16 up to 256 (checked; float32 is used above that). ~3x faster than float32 on AVX-512 CPUs.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from rdkit import Chem

__all__ = ["morgan_bits", "tanimoto_max", "tanimoto_power_means"]

_EXACT_BF16_COUNT = 256


def morgan_bits(mols: Sequence[Chem.Mol], *, radius: int = 2, n_bits: int = 1024) -> np.ndarray:
    """Morgan bit fingerprints.

    Args:
        mols: sanitized molecules.
        radius: Morgan radius (2 ~ ECFP4).
        n_bits: folded length.

    Returns:
        uint8 ``[len(mols), n_bits]`` of 0/1.
    """
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    out = np.zeros((len(mols), n_bits), dtype=np.uint8)
    for row, mol in enumerate(mols):
        out[row] = generator.GetFingerprintAsNumPy(mol)
    return out


def _as_matrix(bits: np.ndarray, dtype) -> "torch.Tensor":  # noqa: F821
    import torch

    return torch.from_numpy(np.ascontiguousarray(bits)).to(dtype)


def _similarity_blocks(reference: np.ndarray, query: np.ndarray, chunk_size: int):
    """Yields ``(q0, r0, sim)``: float32 Tanimoto blocks ``[<=chunk, <=chunk]`` of query rows × reference rows."""
    import torch

    if reference.ndim != 2 or query.ndim != 2 or reference.shape[1] != query.shape[1]:
        raise ValueError(f"fingerprint matrices must be [n, n_bits] alike, got {reference.shape} and {query.shape}")
    ref_counts_np = reference.sum(1, dtype=np.int64)
    query_counts_np = query.sum(1, dtype=np.int64)
    exact_in_bf16 = min(ref_counts_np.max(), query_counts_np.max()) <= _EXACT_BF16_COUNT
    dtype = torch.bfloat16 if exact_in_bf16 else torch.float32
    ref_counts = torch.from_numpy(ref_counts_np).float()
    query_counts = torch.from_numpy(query_counts_np).float()
    ref_blocks = [_as_matrix(reference[r0 : r0 + chunk_size], dtype) for r0 in range(0, len(reference), chunk_size)]
    for q0 in range(0, len(query), chunk_size):
        q = _as_matrix(query[q0 : q0 + chunk_size], dtype)
        q_counts = query_counts[q0 : q0 + chunk_size, None]
        for block, r in enumerate(ref_blocks):
            r0 = block * chunk_size
            shared = (q @ r.T).float()  # intersection counts, exact
            union = q_counts + ref_counts[None, r0 : r0 + len(r)] - shared
            yield q0, r0, torch.where(union > 0, shared / union.clamp_min(1), torch.ones_like(shared))


def _check_nonempty(reference: np.ndarray, query: np.ndarray) -> None:
    if len(reference) == 0 or len(query) == 0:
        raise ValueError("Tanimoto aggregation needs at least one reference and one query fingerprint")


def tanimoto_max(reference: np.ndarray, query: np.ndarray, *, chunk_size: int = 4096) -> np.ndarray:
    """For each query fingerprint, its largest Tanimoto similarity to the reference set.

    Tanimoto of two all-zero fingerprints is 1 (as in MOSES).

    Args:
        reference: 0/1 ``[R, n_bits]``.
        query: 0/1 ``[Q, n_bits]``.
        chunk_size: rows of each operand per matrix product (memory ~ chunk_size^2 * 8 bytes).

    Returns:
        float64 ``[Q]``.
    """
    import torch

    _check_nonempty(reference, query)
    best = torch.zeros(len(query), dtype=torch.float32)
    for q0, _, sim in _similarity_blocks(reference, query, chunk_size):
        rows = slice(q0, q0 + len(sim))
        best[rows] = torch.maximum(best[rows], sim.max(1).values)
    return best.double().numpy()


def tanimoto_power_means(
    reference: np.ndarray, query: np.ndarray, *, powers: tuple[int, ...] = (1,), chunk_size: int = 4096
) -> np.ndarray:
    """For each query fingerprint and power p, ``(mean over the reference set of T^p)^(1/p)``.

    All powers come from one pass over the similarity matrix (IntDiv and IntDiv2 together).

    Returns:
        float64 ``[len(powers), Q]``.
    """
    import torch

    _check_nonempty(reference, query)
    sums = torch.zeros(len(powers), len(query), dtype=torch.float64)
    for q0, _, sim in _similarity_blocks(reference, query, chunk_size):
        for i, p in enumerate(powers):
            sums[i, q0 : q0 + len(sim)] += (sim if p == 1 else sim**p).sum(1, dtype=torch.float64)
    means = sums / len(reference)
    for i, p in enumerate(powers):
        if p != 1:
            means[i] = means[i] ** (1.0 / p)
    return means.numpy()
