"""Per-set statistics behind the MOSES metrics, computed in parallel and stored without pickles.

A :class:`SetStatistics` summarises one set of valid canonical SMILES (a generated set or a
reference set): Morgan bits, BRICS-fragment and scaffold counts, property values, filter verdicts,
and ChemNet mean/covariance. RDKit work runs in ``n_jobs`` worker processes (joblib's loky) on chunks of SMILES;
workers return numpy arrays and plain dicts (never torch tensors), and every molecule is parsed once
per chunk from its canonical SMILES (as MOSES re-parses canonical SMILES). FCD runs in the parent
(torch uses its own threads).

:meth:`SetStatistics.save` writes a folder of ``.npz``/``.json`` files that :meth:`SetStatistics.load`
reads back; this is the reference-statistics cache format.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rdkit import Chem, rdBase

from molgen.chem.fingerprints import morgan_bits
from molgen.evaluation.generation.fcd import FCDStats, chemnet_statistics
from molgen.evaluation.generation.properties import PROPERTIES, property_values
from molgen.evaluation.generation.similarity import brics_fragments, murcko_scaffold

__all__ = ["N_BITS", "SetStatistics", "compute_set_statistics"]

N_BITS = 1024
_CHUNK = 2000


@dataclass
class SetStatistics:
    """What the metrics need from one set of ``n`` valid molecules.

    Attributes:
        n: number of molecules (duplicates kept).
        fingerprints: uint8 ``[n, 1024]`` Morgan bits (radius 2).
        fragments: BRICS fragment SMILES → count.
        scaffolds: Murcko scaffold SMILES (≥ 2 rings) → count.
        properties: ``{"logP"|"SA"|"QED"|"weight": float64 [n]}`` or None when not computed.
        passes_filters: bool ``[n]`` or None when not computed.
        fcd: ChemNet statistics or None when not computed.
    """

    n: int
    fingerprints: np.ndarray
    fragments: Counter = field(default_factory=Counter)
    scaffolds: Counter = field(default_factory=Counter)
    properties: dict[str, np.ndarray] | None = None
    passes_filters: np.ndarray | None = None
    fcd: FCDStats | None = None

    def save(self, folder: str | Path) -> None:
        """Writes ``arrays.npz`` (fingerprints packed, properties, filters, FCD) and ``counts.json``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {"n": np.array(self.n), "fingerprints": np.packbits(self.fingerprints, axis=1)}
        for key, values in (self.properties or {}).items():
            arrays[f"property_{key}"] = values
        if self.passes_filters is not None:
            arrays["passes_filters"] = self.passes_filters
        if self.fcd is not None:
            arrays.update(fcd_mu=self.fcd.mu, fcd_sigma=self.fcd.sigma, fcd_n=np.array(self.fcd.n))
        np.savez(folder / "arrays.npz", **arrays)  # type: ignore[arg-type]  # numpy stub: ** could bind allow_pickle
        counts = {"fragments": dict(self.fragments), "scaffolds": dict(self.scaffolds)}
        (folder / "counts.json").write_text(json.dumps(counts))

    @classmethod
    def load(cls, folder: str | Path) -> SetStatistics:
        folder = Path(folder)
        with np.load(folder / "arrays.npz", allow_pickle=False) as data:
            n = int(data["n"])
            bits = np.unpackbits(data["fingerprints"], axis=1, count=N_BITS)
            properties = {k: data[f"property_{k}"] for k in PROPERTIES if f"property_{k}" in data}
            filters = data.get("passes_filters")
            fcd = FCDStats(data["fcd_mu"], data["fcd_sigma"], int(data["fcd_n"])) if "fcd_mu" in data else None
        counts = json.loads((folder / "counts.json").read_text())
        return cls(
            n=n,
            fingerprints=bits,
            fragments=Counter(counts["fragments"]),
            scaffolds=Counter(counts["scaffolds"]),
            properties=properties or None,
            passes_filters=filters,
            fcd=fcd,
        )


def _chunk_statistics(task: tuple[list[str], bool, bool]) -> dict:
    """Worker: RDKit statistics of one chunk of canonical SMILES (numpy arrays and dicts only)."""
    smiles, with_properties, with_filters = task
    block = rdBase.BlockLogs()
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    missing = [i for i, mol in enumerate(mols) if mol is None]
    if missing:
        raise ValueError(f"not a valid canonical SMILES: {smiles[missing[0]]!r}")
    fragments: Counter = Counter()
    for mol in mols:
        fragments.update(brics_fragments(mol))
    out = {
        "bits": np.packbits(morgan_bits(mols, n_bits=N_BITS), axis=1),
        "fragments": dict(fragments),
        "scaffolds": dict(Counter(s for s in map(murcko_scaffold, mols) if s is not None)),
    }
    if with_properties:
        out["properties"] = property_values(mols)
    if with_filters:
        from molgen.evaluation.generation.filters import filter_flags

        out["filters"] = filter_flags(mols)
    del block
    return out


def compute_set_statistics(
    smiles: Sequence[str],
    *,
    properties: bool = True,
    filters: bool = False,
    fcd: bool = True,
    n_jobs: int = 1,
    progress: Callable[[str, int, int], None] | None = None,
) -> SetStatistics:
    """Computes the statistics of one set of valid canonical SMILES.

    Args:
        smiles: canonical SMILES (as from ``split_valid``); duplicates are kept and count.
        properties: compute logP/SA/QED/weight values (MOSES compares them against Test only).
        filters: compute MCF/PAINS filter verdicts (only generated sets need them).
        fcd: compute ChemNet statistics.
        n_jobs: worker processes for the RDKit part (1 = in this process).
        progress: optional ``(stage, done, total)`` callback (stages ``"rdkit"`` and ``"fcd"``).

    Returns:
        :class:`SetStatistics` (for an empty set: zero-row fingerprints, empty counts).
    """
    smiles = list(smiles)
    tasks = [(smiles[i : i + _CHUNK], properties, filters) for i in range(0, len(smiles), _CHUNK)]
    results = []
    if n_jobs > 1 and len(tasks) > 1:
        # loky workers are fresh interpreters (safe with torch threads running in this process, no
        # re-import of the main script) and are reused between calls.
        from joblib.externals.loky import get_reusable_executor

        outputs = get_reusable_executor(max_workers=n_jobs).map(_chunk_statistics, tasks)
    else:
        outputs = map(_chunk_statistics, tasks)
    for result in outputs:
        results.append(result)
        if progress is not None:
            progress("rdkit", min(len(results) * _CHUNK, len(smiles)), len(smiles))

    bits = np.zeros((0, N_BITS), dtype=np.uint8)
    if results:
        bits = np.unpackbits(np.concatenate([r["bits"] for r in results]), axis=1, count=N_BITS)
    fragments: Counter = Counter()
    scaffolds: Counter = Counter()
    for r in results:
        fragments.update(r["fragments"])
        scaffolds.update(r["scaffolds"])
    stats = SetStatistics(n=len(smiles), fingerprints=bits, fragments=fragments, scaffolds=scaffolds)
    if properties:
        stats.properties = {
            key: np.concatenate([r["properties"][key] for r in results]) if results else np.empty(0)
            for key in PROPERTIES
        }
    if filters:
        stats.passes_filters = np.concatenate([r["filters"] for r in results]) if results else np.empty(0, bool)
    if fcd:
        report = None if progress is None else (lambda done, total: progress("fcd", done, total))
        stats.fcd = chemnet_statistics(smiles, progress=report)
    return stats
