"""Morgan (ECFP-like) bit fingerprints as numpy arrays, and Tanimoto similarity between sets of them.

Bits are those of RDKit's ``GetMorganFingerprintAsBitVect(mol, radius, nBits)`` (no chirality, no
feature invariants), the fingerprint MOSES uses for SNN and IntDiv (radius 2, 1024 bits).

Similarities between large sets are matrix products of the 0/1 bit matrices, computed in chunks
with torch in bfloat16. That is **exact**: products of 0/1 are exact and the accumulation is float32;
the intersection counts, integers at most the smaller on-bit count, are exactly representable in
bfloat16 up to 256 (checked; float32 is used above that). ~3x faster than float32 on AVX-512 CPUs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import numpy as np
from rdkit import Chem

if TYPE_CHECKING:
    import torch

__all__ = [
    "MorganFingerprinter",
    "morgan_bits",
    "morgan_counts",
    "morgan_packed",
    "pack",
    "tanimoto_max",
    "tanimoto_power_means",
]

_EXACT_BF16_COUNT = 256


class MorganFingerprinter:
    """One molecule at a time → its Morgan bits (RDKit's ``rdFingerprintGenerator``, built once).

    Args:
        radius: Morgan radius (2 ~ ECFP4).
        n_bits: folded length.
    """

    def __init__(self, radius: int = 2, n_bits: int = 1024) -> None:
        from rdkit.Chem import rdFingerprintGenerator

        self.radius, self.n_bits = radius, n_bits
        self._generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)

    def bits(self, mol: Chem.Mol) -> np.ndarray:
        """uint8 ``[n_bits]`` of 0/1."""
        return self._generator.GetFingerprintAsNumPy(mol)


def morgan_counts(
    smiles: Sequence[str], *, radius: int = 2, n_bits: int = 2048, standardize: str = "none"
) -> np.ndarray:
    """Morgan count fingerprints (RDKit's ``GetCountFingerprintAsNumPy``) of molecules already found valid.

    Args:
        smiles: SMILES that parse (the valid rows of a featurized table).
        radius: Morgan radius (2 ~ ECFP4).
        n_bits: folded length.
        standardize: ``none`` | ``basic`` | ``tautomer``, as the molecules were featurized.

    Returns:
        float32 ``[len(smiles), n_bits]`` of counts.

    Raises:
        InvalidInputError: a SMILES does not parse (or standardize): validity is decided before this.
    """
    from rdkit.Chem import rdFingerprintGenerator

    from molgen.chem.molecules import parse_smiles
    from molgen.chem.standardize import standardize_mol
    from molgen.errors import InvalidInputError

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    out = np.zeros((len(smiles), n_bits), dtype=np.float32)
    for row, text in enumerate(smiles):
        mol, reason = parse_smiles(text)
        if mol is not None and standardize != "none":
            mol, reason = standardize_mol(mol, standardize)
        if mol is None:
            raise InvalidInputError(f"molecule {row} ({text!r}): {reason}")
        out[row] = generator.GetCountFingerprintAsNumPy(mol)
    return out


def pack(bits: np.ndarray) -> np.ndarray:
    """0/1 ``[N, n_bits]`` → bit-packed uint8 ``[N, n_bits / 8]`` (numpy's big-endian bit order)."""
    return np.packbits(np.asarray(bits, dtype=np.uint8).reshape(len(bits), -1), axis=1)


def morgan_bits(mols: Sequence[Chem.Mol], *, radius: int = 2, n_bits: int = 1024) -> np.ndarray:
    """Morgan bit fingerprints.

    Args:
        mols: sanitized molecules.
        radius: Morgan radius (2 ~ ECFP4).
        n_bits: folded length.

    Returns:
        uint8 ``[len(mols), n_bits]`` of 0/1.
    """
    fingerprinter = MorganFingerprinter(radius, n_bits)
    out = np.zeros((len(mols), n_bits), dtype=np.uint8)
    for row, mol in enumerate(mols):
        out[row] = fingerprinter.bits(mol)
    return out


def morgan_packed(mols: Sequence[Chem.Mol], *, radius: int = 2, n_bits: int = 2048) -> np.ndarray:
    """Bit-packed Morgan fingerprints: uint8 ``[len(mols), n_bits / 8]`` (see :func:`pack`)."""
    return pack(morgan_bits(mols, radius=radius, n_bits=n_bits))


def _as_matrix(bits: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    import torch

    return torch.from_numpy(np.ascontiguousarray(bits)).to(dtype)


def _similarity_blocks(reference: np.ndarray, query: np.ndarray, chunk_size: int, *, upper_only: bool = False):
    """Yields ``(q0, r0, sim)``: float32 Tanimoto blocks ``[<=chunk, <=chunk]`` of query rows × reference rows
    (with ``upper_only``, for a set against itself, only the blocks on and above the diagonal).

    Pairs of two empty fingerprints come out as 0 here; the callers correct them to 1 (see
    :func:`_empty_pairs`). Each block costs one bfloat16 matrix product and four in-place passes.
    """
    import torch

    if reference.ndim != 2 or query.ndim != 2 or reference.shape[1] != query.shape[1]:
        raise ValueError(f"fingerprint matrices must be [n, n_bits] alike, got {reference.shape} and {query.shape}")
    ref_counts_np = reference.sum(1, dtype=np.int64)
    query_counts_np = query.sum(1, dtype=np.int64)
    exact_in_bf16 = min(ref_counts_np.max(), query_counts_np.max()) <= _EXACT_BF16_COUNT
    dtype = torch.bfloat16 if exact_in_bf16 else torch.float32
    # An empty fingerprint counts 0.5: the union of two empty ones is then 1, not 0 (no 0/0).
    ref_counts = torch.from_numpy(np.maximum(ref_counts_np, 0.5)).float()
    query_counts = torch.from_numpy(np.maximum(query_counts_np, 0.5)).float()
    ref_blocks = [_as_matrix(reference[r0 : r0 + chunk_size], dtype) for r0 in range(0, len(reference), chunk_size)]
    for q0 in range(0, len(query), chunk_size):
        q = _as_matrix(query[q0 : q0 + chunk_size], dtype)
        q_counts = query_counts[q0 : q0 + chunk_size, None]
        for block, r in enumerate(ref_blocks):
            r0 = block * chunk_size
            if upper_only and r0 < q0:
                continue
            sim = torch.mm(q, r.T).float()  # intersection counts, exact
            union = q_counts + ref_counts[None, r0 : r0 + len(r)]
            union.sub_(sim)
            yield q0, r0, sim.div_(union)


def _empty_pairs(reference: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, int]:
    """(query rows that are empty, number of empty reference rows): their pairs have Tanimoto 1 (MOSES)."""
    empty_queries = cast(np.ndarray, ~query.any(1))  # reduced over an axis: an array, never a scalar
    return empty_queries, int((~reference.any(1)).sum())


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
        rows = best[q0 : q0 + len(sim)]
        torch.maximum(rows, sim.amax(1), out=rows)
    result = best.double().numpy()
    empty_query, n_empty_ref = _empty_pairs(reference, query)
    if n_empty_ref:
        result[empty_query] = 1.0
    return result


def tanimoto_power_means(
    reference: np.ndarray, query: np.ndarray, *, powers: tuple[int, ...] = (1,), chunk_size: int = 4096
) -> np.ndarray:
    """For each query fingerprint and power p, ``(mean over the reference set of T^p)^(1/p)``.

    All powers come from one pass over the similarity matrix (IntDiv and IntDiv2 together); when
    ``reference is query`` only half of the symmetric matrix is computed.

    Returns:
        float64 ``[len(powers), Q]``.
    """
    import torch

    _check_nonempty(reference, query)
    symmetric = reference is query
    sums = torch.zeros(len(powers), len(query), dtype=torch.float64)
    for q0, r0, sim in _similarity_blocks(reference, query, chunk_size, upper_only=symmetric):
        for i, p in enumerate(powers):
            powered = sim if p == 1 else sim.pow(p)
            sums[i, q0 : q0 + len(sim)] += powered.sum(1, dtype=torch.float64)
            if symmetric and r0 != q0:  # the mirrored block below the diagonal
                sums[i, r0 : r0 + powered.shape[1]] += powered.sum(0, dtype=torch.float64)
    empty_query, n_empty_ref = _empty_pairs(reference, query)
    sums[:, torch.from_numpy(empty_query)] += n_empty_ref
    means = sums / len(reference)
    for i, p in enumerate(powers):
        if p != 1:
            means[i] = means[i] ** (1.0 / p)
    return means.numpy()
