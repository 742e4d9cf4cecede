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
    "first_use_notice",
    "first_use_seconds",
    "is_cached",
]

METRIC_VERSION = 1
FCD_SHARD = 20_000
SMI_SUFFIXES = (".smi", ".smiles")
SECONDS_PER_MOLECULE = {"rdkit": 0.0015, "rdkit_properties": 0.005, "chemnet": 0.004, "canonical": 0.0004}
"""Rough cost of one molecule on one idle CPU core, for the estimates logged before slow steps: RDKit
statistics (fingerprints, fragments, scaffolds; with properties: + logP/SA/QED/weight), ChemNet
activations (one process), canonical SMILES. MOSES Test + TestSF + train add up to ~40 min on 2 cores."""

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


def is_cached(source: SmilesSource, kind: str) -> bool:
    """Whether ``kind`` (``reference``, ``reference-props`` or ``train``) statistics of ``source`` are cached."""
    folder = _cache_folder(source, kind)
    return (folder / ("canonical.smi.gz" if kind == "train" else "meta.json")).is_file()


def first_use_seconds(n_molecules: int, kind: str, n_jobs: int) -> float:
    """Rough seconds to compute (once) the ``kind`` statistics of ``n_molecules`` with ``n_jobs`` processes."""
    cost = SECONDS_PER_MOLECULE
    if kind == "train":
        return n_molecules * cost["canonical"] / n_jobs
    rdkit = cost["rdkit_properties" if kind == "reference-props" else "rdkit"]
    return n_molecules * (rdkit / n_jobs + cost["chemnet"])


def minutes(seconds: float) -> str:
    """``about 12 min`` (``under a minute`` below 60 s)."""
    return "under a minute" if seconds < 60 else f"about {round(seconds / 60):d} min"


def first_use_notice(work: list[tuple[SmilesSource, str]], n_jobs: int) -> str | None:
    """The line to log before anything else when some ``(source, kind)`` statistics are not cached yet:
    which sets, where they are cached and roughly how long computing them takes (None: all cached)."""
    todo = [(source, kind) for source, kind in work if not is_cached(source, kind)]
    if not todo:
        return None
    seconds = sum(first_use_seconds(len(read_smiles(s.path, s.column)), kind, n_jobs) for s, kind in todo)
    labels = ", ".join(dict.fromkeys(source.label for source, _ in todo))
    return (
        f"first use of {labels}: their statistics are computed once ({minutes(seconds)} with {n_jobs} "
        f"processes on idle cores) and cached under {cache_dir() / 'generation_reference'}; later runs take seconds"
    )


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
    computed, seconds = 0, 0.0  # this run's shards: the rate behind the estimate of the rest
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
            computed, seconds = computed + part.n, seconds + time.perf_counter() - started
            rate = computed / max(seconds, 1e-9)
            left = max(len(smiles) - (shard + 1) * FCD_SHARD, 0) / rate
            log(
                f"ChemNet shard {shard + 1}/{n_shards}: {part.n} molecules, {rate:.0f} mol/s"
                + (f"; {minutes(left)} left" if left > 0 else "")
            )
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
        rdkit = len(smiles) * SECONDS_PER_MOLECULE["rdkit_properties" if properties else "rdkit"] / n_jobs
        log(
            f"{source.label}: fingerprints, fragments, scaffolds{', properties' if properties else ''} "
            f"of {len(smiles)} molecules ({n_jobs} processes; {minutes(rdkit)} on idle cores)"
        )
        stats = compute_set_statistics(smiles, properties=properties, filters=False, fcd=False, n_jobs=n_jobs)
        stats.save(rdkit_folder)
        (rdkit_folder / "done").write_text("")
    log(
        f"{source.label}: ChemNet activations of {len(smiles)} molecules (cached in shards of {FCD_SHARD}; "
        f"{minutes(len(smiles) * SECONDS_PER_MOLECULE['chemnet'])} on an idle core)"
    )
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
    raw = read_smiles(source.path, source.column)
    log(
        f"{source.label}: canonicalizing {len(raw)} training SMILES for Novelty (once; cached; "
        f"{minutes(first_use_seconds(len(raw), 'train', n_jobs))} on idle cores)"
    )
    chunks = [raw[i : i + 50_000] for i in range(0, len(raw), 50_000)]
    if n_jobs > 1 and len(chunks) > 1:
        from joblib.externals.loky import get_reusable_executor

        parts = get_reusable_executor(max_workers=n_jobs).map(_canonical_list, chunks)
    else:
        parts = map(_canonical_list, chunks)
    canonical: set[str] = set()
    started = time.perf_counter()
    for i, part in enumerate(parts, start=1):
        canonical.update(part)
        if i % 8 == 0 and i < len(chunks):  # every 400k SMILES: how far, and how long the rest takes
            left = (time.perf_counter() - started) / i * (len(chunks) - i)
            log(f"{source.label}: {i * 50_000} of {len(raw)} canonicalized; {minutes(left)} left")
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"canonical.tmp{os.getpid()}.smi.gz")
    with gzip.open(tmp, "wt", compresslevel=1) as handle:
        handle.write("\n".join(sorted(canonical)))
    tmp.replace(path)
    return canonical


def _canonical_list(smiles: list[str]) -> list[str]:
    from molgen.evaluation.generation.basic import canonical_set

    return sorted(canonical_set(smiles))
