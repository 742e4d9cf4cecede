"""Reference sets of the MOSES metrics (Test, TestSF, a user file) and the training set for Novelty.

Reference statistics are computed once and cached under
``molgen.data.sources.cache_dir()/generation_reference/<key>/``, where the key joins the sha256 of the
reference file, the column read, :data:`METRIC_VERSION` and the RDKit version (fragments, scaffolds
and canonical SMILES depend on it). The slow part, ChemNet activations (~4 ms per molecule on CPU),
is stored shard by shard (:data:`FCD_SHARD` molecules), so an interrupted computation resumes where
it stopped. A folder is complete once its ``meta.json`` exists; readers never see half-written files.

Invalid SMILES in a reference or training file are counted (``n_invalid``) and skipped.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from molgen.data.sources import cache_dir, file_sha256, resolve
from molgen.data.tables import parse_smi, read_table
from molgen.errors import DataSourceError, InvalidInputError, UnknownNameError
from molgen.evaluation.generation.fcd import ChemNetMoments, chemnet_moments
from molgen.evaluation.generation.sets import SetStatistics, compute_set_statistics

__all__ = [
    "METRIC_VERSION",
    "FCD_SHARD",
    "SmilesSource",
    "moses_source",
    "file_source",
    "read_smiles",
    "reference_statistics",
    "train_canonical_smiles",
]

METRIC_VERSION = 1
FCD_SHARD = 20_000
SMI_SUFFIXES = (".smi", ".smiles")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SmilesSource:
    """A file of SMILES: ``label`` for reports (``"MOSES Test"``, a file name), its path, column and sha256."""

    label: str
    path: Path
    column: str | None
    sha256: str


def moses_source(which: str) -> SmilesSource:
    """The MOSES ``train``, ``test`` or ``test_scaffolds`` file, resolved through the catalog."""
    from molgen.data.catalog import get_dataset

    spec = get_dataset("moses")
    remotes = {"train": spec.remote, "test": spec.extra_files[0], "test_scaffolds": spec.extra_files[1]}
    if which not in remotes:
        raise UnknownNameError(f"unknown MOSES split {which!r}; valid: {', '.join(remotes)}")
    remote = remotes[which]
    label = {"train": "MOSES train", "test": "MOSES Test", "test_scaffolds": "MOSES TestSF"}[which]
    return SmilesSource(label, resolve(remote), spec.input_column, remote.sha256)


def file_source(path: str | Path, column: str | None = None) -> SmilesSource:
    """A user SMILES file (``.smi``: one SMILES per line; CSV/TSV/Parquet/SDF: ``column``, by default
    ``SMILES`` or ``smiles``)."""
    path = Path(path)
    if not path.is_file():
        raise DataSourceError(f"SMILES file not found: {path}")
    return SmilesSource(path.name, path, column, file_sha256(path))


def _is_smi(path: Path) -> bool:
    name = path.name.lower()
    return (name[:-3] if name.endswith(".gz") else name).endswith(SMI_SUFFIXES)


def read_smiles(path: str | Path, column: str | None = None) -> list[str]:
    """All SMILES of a file, one entry per record (invalid ones included, for counting).

    ``.smi``/``.smiles`` (optionally ``.gz``): one record per line, the first whitespace-separated
    field; a blank line is an empty (invalid) SMILES — generators write ``""`` for a failed sample.
    Other formats go through ``molgen.data.tables.read_table`` and use ``column`` (default: ``SMILES``,
    else ``smiles``); an empty cell is an empty SMILES.
    """
    path = Path(path)
    if not path.is_file():
        raise DataSourceError(f"SMILES file not found: {path}")
    if _is_smi(path):
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rt") as handle:
            return parse_smi(handle.read())[0]

    frame = read_table(path)
    if column is None:
        column = next((c for c in ("SMILES", "smiles") if c in frame.columns), None)
        if column is None:
            raise InvalidInputError(
                f"{path}: no SMILES column; pass the column name (columns: {', '.join(map(str, frame.columns))})"
            )
    elif column not in frame.columns:
        raise InvalidInputError(f"{path}: no column {column!r} (columns: {', '.join(map(str, frame.columns))})")
    return ["" if not isinstance(v, str) else v for v in frame[column].tolist()]


def _cache_folder(source: SmilesSource, kind: str) -> Path:
    from rdkit import __version__ as rdkit_version

    column = source.column or "auto"
    key = f"{source.sha256[:20]}-{column}-{kind}-v{METRIC_VERSION}-rdkit{rdkit_version}"
    return cache_dir() / "generation_reference" / key


def _valid_canonical(source: SmilesSource, log: Progress) -> tuple[list[str], int]:
    from molgen.evaluation.generation.basic import split_valid

    raw = read_smiles(source.path, source.column)
    valid = split_valid(raw, keep_mols=False)
    if valid.invalid:
        first = valid.invalid[0]
        log(
            f"{source.label}: {len(valid.invalid)} of {len(raw)} SMILES are invalid and skipped "
            f"(first: record {first.index + 1}, {first.smiles!r}: {first.reason})"
        )
    return valid.smiles, len(valid.invalid)


def _fcd_moments_resumable(smiles: list[str], folder: Path, log: Progress) -> ChemNetMoments:
    """ChemNet moments over ``smiles``, computed shard by shard; finished shards are reused."""
    folder.mkdir(parents=True, exist_ok=True)
    total = ChemNetMoments.zeros()
    n_shards = (len(smiles) + FCD_SHARD - 1) // FCD_SHARD
    for shard in range(n_shards):
        path = folder / f"shard_{shard:04d}.npz"
        if path.is_file():
            with np.load(path, allow_pickle=False) as data:
                part = ChemNetMoments(data["total"], data["outer"], int(data["n"]))
        else:
            started = time.perf_counter()
            part = chemnet_moments(smiles[shard * FCD_SHARD : (shard + 1) * FCD_SHARD])
            tmp = path.with_name(path.stem + f".tmp{os.getpid()}.npz")
            np.savez(tmp, total=part.total, outer=part.outer, n=np.array(part.n))
            tmp.replace(path)
            rate = part.n / max(time.perf_counter() - started, 1e-9)
            log(f"ChemNet shard {shard + 1}/{n_shards}: {part.n} molecules, {rate:.0f} mol/s")
        total.add(part)
    return total


def reference_statistics(
    source: SmilesSource, *, properties: bool, n_jobs: int = 2, log: Progress | None = None
) -> tuple[SetStatistics, dict]:
    """Statistics of a reference set, from the cache or computed (and cached).

    Args:
        source: the reference file.
        properties: also compute logP/SA/QED/weight values (MOSES compares them against Test only).
        n_jobs: worker processes for the RDKit part.
        log: optional callable receiving progress lines.

    Returns:
        ``(statistics, meta)``; meta holds ``label``, ``sha256``, ``n_valid``, ``n_invalid``, ``seconds``
        and ``cached`` (True when read from the cache).
    """
    log = log or (lambda message: None)
    folder = _cache_folder(source, "reference-props" if properties else "reference")
    meta_path = folder / "meta.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        return SetStatistics.load(folder / "stats"), {**meta, "cached": True}
    started = time.perf_counter()
    smiles, n_invalid = _valid_canonical(source, log)
    rdkit_folder = folder / "rdkit"
    if (rdkit_folder / "done").is_file():
        stats = SetStatistics.load(rdkit_folder)
    else:
        log(
            f"{source.label}: fingerprints, fragments, scaffolds{', properties' if properties else ''} "
            f"of {len(smiles)} molecules ({n_jobs} processes)"
        )
        stats = compute_set_statistics(smiles, properties=properties, filters=False, fcd=False, n_jobs=n_jobs)
        stats.save(rdkit_folder)
        (rdkit_folder / "done").write_text("")
    log(f"{source.label}: ChemNet activations of {len(smiles)} molecules (cached in shards of {FCD_SHARD})")
    stats.fcd = _fcd_moments_resumable(smiles, folder / "fcd_shards", log).statistics()
    stats.save(folder / "stats")
    meta = {
        "label": source.label,
        "path": str(source.path),
        "sha256": source.sha256,
        "n_valid": len(smiles),
        "n_invalid": n_invalid,
        "metric_version": METRIC_VERSION,
        "seconds": round(time.perf_counter() - started, 1),
    }
    meta_path.write_text(json.dumps(meta, indent=1))
    return stats, {**meta, "cached": False}


def train_canonical_smiles(source: SmilesSource, *, n_jobs: int = 2, log: Progress | None = None) -> set[str]:
    """Canonical SMILES (current RDKit) of the valid molecules of a training file, cached as gzip text."""
    log = log or (lambda message: None)
    folder = _cache_folder(source, "train")
    path = folder / "canonical.smi.gz"
    if path.is_file():
        with gzip.open(path, "rt") as handle:
            return set(handle.read().split("\n")) - {""}
    log(f"{source.label}: canonicalizing the training SMILES for Novelty (once; cached)")
    raw = read_smiles(source.path, source.column)
    chunks = [raw[i : i + 50_000] for i in range(0, len(raw), 50_000)]
    if n_jobs > 1 and len(chunks) > 1:
        from joblib.externals.loky import get_reusable_executor

        parts = get_reusable_executor(max_workers=n_jobs).map(_canonical_list, chunks)
    else:
        parts = map(_canonical_list, chunks)
    canonical = set().union(*parts)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"canonical.tmp{os.getpid()}.smi.gz")
    with gzip.open(tmp, "wt", compresslevel=1) as handle:
        handle.write("\n".join(sorted(canonical)))
    tmp.replace(path)
    return canonical


def _canonical_list(smiles: list[str]) -> list[str]:
    from molgen.evaluation.generation.basic import canonical_set

    return sorted(canonical_set(smiles))
