"""SMILES -> molecular graphs: featurizer spec, parallel featurization and on-disk cache.

Pipeline per chunk of SMILES: parse (:mod:`molgen.chem.molecules`) -> raw integer tables
(:mod:`molgen.chem.featurize.atom_bond_tables`) -> optional RDKit descriptors. Workers return numpy arrays
only (never torch tensors: with torch's fd sharing that ran 5x slower, then crashed); the
parent concatenates the tables and one-hot encodes them once (:mod:`molgen.chem.featurize.atom_features`).

Example:
    >>> result = featurize_smiles(["CCO", "c1ccccc1", "not a smiles"])
    >>> len(result.graphs), result.valid_index.tolist(), result.invalid[0].reason
    (2, [0, 1], 'SMILES syntax error (around position 3)')
    >>> batch = result.graphs.collate([0, 1])
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from molgen.chem.featurize import cache as featurization_cache
from molgen.chem.featurize.atom_bond_tables import MolTables, tables_from_blobs
from molgen.chem.featurize.atom_features import (
    BOND_FEATURE_DIM,
    encode_atom_features,
    encode_bond_features,
    get_atom_preset,
)
from molgen.chem.featurize.limits import DEFAULT_MAX_ATOMS, over_cap
from molgen.chem.featurize.packed_graphs import PackedGraphs
from molgen.chem.featurize.rdkit_pickle import pickle_mol
from molgen.chem.fingerprints import MorganFingerprinter, pack
from molgen.chem.molecules import InvalidMolecule, iter_molecules
from molgen.chem.standardize import check_mode, standardize_mol
from molgen.errors import ConfigError, ModelFormatError

__all__ = [
    "FEATURIZER_VERSION",
    "FeaturizationResult",
    "FeaturizerSpec",
    "PackedGraphs",
    "featurize_smiles",
    "resolve_processes",
]

#: Bump whenever featurization output changes for the same spec (invalidates caches).
FEATURIZER_VERSION = "2"  # 2: whitespace inside a SMILES is invalid

_CHUNK_SIZE = 1000  # molecules per task: amortizes per-task overhead, keeps results small
_MIN_MOLECULES_PER_PROCESS = 2000  # below this a worker costs more to start than it saves


@dataclass(frozen=True)
class FeaturizerSpec:
    """What to compute for each molecule. Stored with models, so only primitives.

    Attributes:
        atom_features: Atom feature preset: ``"v2"`` (Chemprop v2 default, 72 columns),
            ``"v1"`` (Chemprop v1, 133) or ``"organic"`` (44). Bonds always use Chemprop's
            14 bond features.
        descriptors: Append RDKit 2D descriptors as molecule-level features (slow: ~5 ms
            per molecule; see :mod:`molgen.chem.descriptors`).
        standardize: ``none`` | ``basic`` | ``tautomer``: standardize each molecule before
            featurizing it (see :mod:`molgen.chem.standardize`).
    """

    atom_features: str = "v2"
    descriptors: bool = False
    standardize: str = "none"

    def __post_init__(self) -> None:
        get_atom_preset(self.atom_features)  # raises ValueError listing the valid presets
        if not isinstance(self.descriptors, bool):
            raise ConfigError(f"descriptors must be a bool, got {self.descriptors!r}")
        check_mode(self.standardize)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of primitives (JSON/YAML-safe); ``standardize`` only when on (older specs lack it)."""
        values = dataclasses.asdict(self)
        if self.standardize == "none":
            del values["standardize"]
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FeaturizerSpec:
        """Strict inverse of :meth:`to_dict`.

        Raises:
            ValueError: An unknown key or preset; the message lists the valid ones.
        """
        valid = [field.name for field in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(valid))
        if unknown:
            raise ModelFormatError(f"unknown FeaturizerSpec keys {unknown}; valid keys: {valid}")
        return cls(**values)

    @property
    def atom_dim(self) -> int:
        """Columns of ``PackedGraphs.atom_features``."""
        return get_atom_preset(self.atom_features).dim

    @property
    def bond_dim(self) -> int:
        """Columns of ``PackedGraphs.bond_features`` (14)."""
        return BOND_FEATURE_DIM

    @property
    def mol_feature_dim(self) -> int:
        """Columns of ``PackedGraphs.mol_features`` (0 without descriptors)."""
        if not self.descriptors:
            return 0
        from molgen.chem.descriptors import descriptor_names

        return len(descriptor_names())


@dataclass
class FeaturizationResult:
    """Output of :func:`featurize_smiles`.

    Attributes:
        graphs: Graphs of the valid molecules only, in input order.
        valid_index: int64 ``[n_valid]``: input position of each graph.
        invalid: One record per invalid input, in input order.
        from_cache: True when loaded from ``cache_dir`` instead of computed.
        fingerprints: bit-packed Morgan fingerprints uint8 ``[n_valid, n_bits / 8]`` of the featurized (standardized)
            molecules when asked for (``fingerprint=(radius, n_bits)``), else None.
    """

    graphs: PackedGraphs
    valid_index: np.ndarray
    invalid: list[InvalidMolecule]
    from_cache: bool = False
    fingerprints: np.ndarray | None = None


@dataclass
class _ChunkResult:
    """What a worker sends back: numpy arrays and plain tuples only (cheap to pickle)."""

    tables: MolTables
    valid_index: np.ndarray  # int64, absolute input positions
    invalid: list[tuple[int, str, str]]
    mol_features: np.ndarray | None
    process_id: int  # which process made it (diagnostics, tests)
    fingerprints: np.ndarray | None = None  # bit-packed uint8 [n_valid, n_bits / 8]


_Task = tuple[int, list, bool, str, int | None, tuple[int, int] | None]


def _featurize_chunk(task: _Task) -> _ChunkResult:
    """Parses and extracts one chunk; runs in worker processes (module-level to be picklable).

    Streams: each molecule is pickled to bytes right after parsing and freed before the next
    one is parsed (holding a thousand live RDKit molecules and freeing them together costs
    ~2x more in cache misses). Only the descriptor path keeps molecules. With ``fingerprint=(radius, n_bits)``
    each molecule's Morgan bits come from the same parsed molecule.
    """
    start, smiles, with_descriptors, standardize, max_atoms, fingerprint = task
    fingerprinter = MorganFingerprinter(*fingerprint) if fingerprint is not None else None
    fingerprint_rows: list[np.ndarray] = []
    blobs: list[bytes] = []
    valid_index: list[int] = []
    invalid: list[tuple[int, str, str]] = []
    kept_mols: list = []
    too_large = {i: reason for i, s in enumerate(smiles) if (reason := over_cap(s, max_atoms)) is not None}
    parsed = smiles if not too_large else [None if i in too_large else s for i, s in enumerate(smiles)]
    for index, mol, record in iter_molecules(parsed, start_index=start):
        if mol is None:
            assert record is not None, "iter_molecules yields a record for every input without a molecule"
            reason = too_large.get(index - start)
            if reason:  # the huge input is shortened in the record: it is quoted in messages
                invalid.append((index, f"{smiles[index - start][:40]}…", reason))
            else:
                invalid.append((record.index, record.smiles, record.reason))
            continue
        mol, reason = standardize_mol(mol, standardize)
        if mol is None:
            invalid.append((index, str(smiles[index - start]), str(reason)))
            continue
        blobs.append(pickle_mol(mol))
        valid_index.append(index)
        if fingerprinter is not None:
            fingerprint_rows.append(fingerprinter.bits(mol))
        if with_descriptors:
            kept_mols.append(mol)
    mol_features = None
    if with_descriptors:
        from molgen.chem.descriptors import compute_descriptors

        mol_features = compute_descriptors(kept_mols)
    return _ChunkResult(
        tables=tables_from_blobs(blobs, kept_mols or None),
        valid_index=np.asarray(valid_index, dtype=np.int64),
        invalid=invalid,
        mol_features=mol_features,
        process_id=os.getpid(),
        fingerprints=None
        if fingerprinter is None
        else pack(np.asarray(fingerprint_rows, dtype=np.uint8).reshape(-1, fingerprinter.n_bits)),
    )


def _concat_chunks(
    chunks: list[_ChunkResult], spec: FeaturizerSpec
) -> tuple[MolTables, np.ndarray | None, np.ndarray, list[InvalidMolecule]]:
    """Joins chunk results: (tables, mol_features or None, valid_index, invalid)."""
    tables = MolTables.concat([chunk.tables for chunk in chunks]) if chunks else MolTables.empty()
    mol_features = None
    if spec.descriptors:
        parts = [chunk.mol_features for chunk in chunks if chunk.mol_features is not None]
        if len(parts) != len(chunks):
            raise RuntimeError("descriptors are on, but a featurized chunk came back without molecule features")
        empty = np.zeros((0, spec.mol_feature_dim), np.float32)
        mol_features = np.concatenate(parts) if parts else empty
    valid_index = np.concatenate([chunk.valid_index for chunk in chunks]) if chunks else np.zeros(0, np.int64)
    invalid = [InvalidMolecule(*record) for chunk in chunks for record in chunk.invalid]
    return tables, mol_features, valid_index, invalid


def _encode_graphs(tables: MolTables, mol_features: np.ndarray | None, spec: FeaturizerSpec) -> PackedGraphs:
    """One-hot encodes raw tables into :class:`PackedGraphs` (once, in the parent)."""
    begin, end = tables.bond_atoms[:, 0], tables.bond_atoms[:, 1]
    edge_index = np.stack([np.stack([begin, end], 1).ravel(), np.stack([end, begin], 1).ravel()])
    return PackedGraphs(
        atom_features=encode_atom_features(tables.atom_props, tables.atom_mass, get_atom_preset(spec.atom_features)),
        bond_features=encode_bond_features(tables.bond_props),
        edge_index=edge_index.astype(np.int64, copy=False),
        atom_ptr=np.concatenate([[0], np.cumsum(tables.atom_counts)]).astype(np.int64),
        edge_ptr=np.concatenate([[0], np.cumsum(2 * tables.bond_counts)]).astype(np.int64),
        mol_features=mol_features,
    )


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def resolve_processes(n_jobs: int, n_molecules: int, per_process: int | None = None) -> int:
    """Processes to use, this one included: ``n_jobs`` (-1 = all cores), capped so each gets at least
    ``per_process`` molecules (default ~2,000); 1 in a daemon process (a DataLoader worker may not start
    children)."""
    if n_jobs == 0 or n_jobs < -1:
        raise ConfigError(f"n_jobs must be a positive int or -1 (all cores), got {n_jobs}")
    if multiprocessing.current_process().daemon:  # e.g. a DataLoader worker: no children allowed
        return 1
    wanted = _available_cores() if n_jobs == -1 else n_jobs
    return max(1, min(wanted, n_molecules // (per_process or _MIN_MOLECULES_PER_PROCESS)))


def _run_chunks(tasks: list[_Task], n_processes: int, *, parent_takes_tasks: bool = True) -> list[_ChunkResult]:
    """Runs the chunk tasks on this process plus ``n_processes - 1`` workers, in input order.

    Workers come from joblib's reusable loky executor: fresh interpreters (fork + exec), so
    calling this from a process with torch loaded and threads running is safe (plain ``fork``
    can deadlock there), they do not re-import the main script (multiprocessing's
    ``forkserver`` and ``spawn`` do, per worker and per pool: ~1 s each for a script that
    imports torch), and they stay alive between calls (idle timeout 300 s), so only the first
    call pays their ~0.5 s start-up. Meanwhile this process takes tasks from the back of the
    queue until it meets the workers, which hides most of that start-up (unless
    ``parent_takes_tasks`` is False).
    """
    if n_processes == 1 or len(tasks) == 1:
        return [_featurize_chunk(task) for task in tasks]
    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(max_workers=n_processes - 1)
    futures = [executor.submit(_featurize_chunk, task) for task in tasks]
    results: list[_ChunkResult | None] = [None] * len(tasks)
    try:
        for position in reversed(range(len(tasks)) if parent_takes_tasks else []):
            if not futures[position].cancel():  # a worker already has it: they caught up
                break
            results[position] = _featurize_chunk(tasks[position])
        return [result if result is not None else future.result() for result, future in zip(results, futures)]
    except BaseException:  # e.g. Ctrl-C: do not leave the shared workers busy with our tasks
        for future in futures:
            future.cancel()
        raise


def featurize_smiles(
    smiles: Sequence[Any],
    spec: FeaturizerSpec = FeaturizerSpec(),
    *,
    n_jobs: int = 1,
    cache_dir: str | Path | None = None,
    max_atoms: int | None = DEFAULT_MAX_ATOMS,
    fingerprint: tuple[int, int] | None = None,
) -> FeaturizationResult:
    """Featurizes SMILES into molecular graphs, skipping (and reporting) invalid inputs.

    Args:
        smiles: SMILES strings; None, NaN, non-strings and unparsable strings are reported in
            ``result.invalid`` with their index and reason and left out of the graphs.
        spec: What to compute.
        n_jobs: Processes to use, this one included (-1 = all cores). Capped at one process
            per ~2,000 molecules: smaller inputs are featurized serially, as a worker would
            cost more to start than it saves.
        cache_dir: If given, results are stored there keyed by a hash of (spec, featurizer
            version, RDKit version, every input), and an identical later call loads them
            instead of recomputing. Files hold the compact integer tables (~50 bytes per
            atom, ~10x less than the float features), re-encoded on load (~4 us/molecule).
        max_atoms: A molecule with more heavy atoms is invalid (reason ``N heavy atoms > max_atoms M``),
            decided from the SMILES text before parsing; None: no cap.
        fingerprint: ``(radius, n_bits)``: also return the bit-packed Morgan fingerprints of the valid molecules
            (computed from the molecules parsed for the graphs; not cached, so not combinable with ``cache_dir``).

    Returns:
        :class:`FeaturizationResult` with the graphs of the valid molecules, in input order.

    Throughput (MOSES molecules, one core of the 2-core dev machine): ~9.5k mol/s, 0.65x
    RDKit's own parse-only rate and ~4x PyG's ``from_smiles``; see
    ``benchmarks/speed/featurization.py``.
    """
    smiles = list(smiles)
    cache_file = None
    if cache_dir is not None and fingerprint is not None:
        raise ValueError("featurize_smiles: fingerprints are not cached; pass cache_dir=None to compute them")
    if cache_dir is not None:
        cache_file = featurization_cache.cache_path(
            cache_dir,
            smiles,
            {"spec": spec.to_dict(), "featurizer_version": FEATURIZER_VERSION, "max_atoms": max_atoms},
        )
        cached = featurization_cache.load(cache_file)
        if cached is not None:
            tables, mol_features, valid_index, invalid = cached
            graphs = _encode_graphs(tables, mol_features, spec)
            return FeaturizationResult(graphs, valid_index, invalid, from_cache=True)
    tasks = [
        (start, smiles[start : start + _CHUNK_SIZE], spec.descriptors, spec.standardize, max_atoms, fingerprint)
        for start in range(0, len(smiles), _CHUNK_SIZE)
    ]
    chunks = _run_chunks(tasks, resolve_processes(n_jobs, len(smiles)))
    tables, mol_features, valid_index, invalid = _concat_chunks(chunks, spec)
    if cache_file is not None:
        featurization_cache.save(cache_file, tables, mol_features, valid_index, invalid)
    graphs = _encode_graphs(tables, mol_features, spec)
    fingerprints = None
    if fingerprint is not None:
        parts = [chunk.fingerprints for chunk in chunks if chunk.fingerprints is not None]
        fingerprints = np.concatenate(parts) if parts else np.zeros((0, fingerprint[1] // 8), np.uint8)
    return FeaturizationResult(graphs=graphs, valid_index=valid_index, invalid=invalid, fingerprints=fingerprints)
