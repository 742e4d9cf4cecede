"""The full MOSES metric suite of a generated set against reference sets (see ``generation.py`` for definitions).

``evaluate_generation`` returns the metrics under MOSES's key names and, given an output folder,
writes ``metrics.json``, ``metrics.md``, ``properties.png`` (property histograms vs the reference)
and ``molecules.png`` (a grid of generated molecules).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from molgen.evaluation.generation.basic import UNIQUE_AT, fraction_unique, novelty, split_valid
from molgen.evaluation.generation.fcd import frechet_distance
from molgen.evaluation.generation.properties import PROPERTIES, wasserstein_distances
from molgen.evaluation.generation.reference import (
    SmilesSource,
    file_source,
    first_use_notice,
    moses_source,
    reference_statistics,
    train_canonical_smiles,
)
from molgen.evaluation.generation.sets import compute_set_statistics
from molgen.evaluation.generation.similarity import cosine_similarity_counts, internal_diversity, snn

__all__ = ["GenerationEvaluation", "evaluate_generation", "metric_keys"]


def metric_keys(reference_keys: Sequence[str] = ("Test", "TestSF"), with_novelty: bool = True) -> list[str]:
    """MOSES's metric names, in MOSES's order, for the given reference keys."""
    keys = ["valid", *(f"unique@{k}" for k in UNIQUE_AT)]
    for ref in reference_keys:
        keys += [f"FCD/{ref}", f"SNN/{ref}", f"Frag/{ref}", f"Scaf/{ref}"]
    keys += ["IntDiv", "IntDiv2", "Filters", *PROPERTIES]
    return keys + (["Novelty"] if with_novelty else [])


@dataclass
class GenerationEvaluation:
    """Metrics (MOSES keys; NaN where undefined), notes for the reader, and run details."""

    metrics: dict[str, float]
    notes: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)


def _references(reference: str | Path, smiles_column: str | None) -> tuple[list[tuple[str, SmilesSource]], list[str]]:
    if str(reference).lower() == "moses":
        return [("Test", moses_source("test")), ("TestSF", moses_source("test_scaffolds"))], []
    source = file_source(reference, smiles_column)
    note = (
        f"Reference: the user file {source.label} replaces MOSES Test (keys ending in /Test); "
        "TestSF metrics are omitted."
    )
    return [("Test", source)], [note]


def _train_source(train: str | Path | None, reference: str | Path, smiles_column: str | None) -> SmilesSource | None:
    if train == "auto":
        train = "moses" if str(reference).lower() == "moses" else None
    if train is None:
        return None
    return moses_source("train") if str(train).lower() == "moses" else file_source(train, smiles_column)


def evaluate_generation(
    generated: Sequence[str],
    reference: str | Path = "moses",
    output_dir: str | Path | None = None,
    *,
    train: str | Path | None = "auto",
    n_jobs: int = 2,
    smiles_column: str | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """All MOSES metrics of ``generated`` against ``reference``; writes a report when ``output_dir`` is given.

    Args:
        generated: generated SMILES, invalid ones included (they count against ``valid``).
        reference: ``"moses"`` (Test and TestSF from the catalog) or a SMILES file that replaces Test.
        output_dir: folder for ``metrics.json``, ``metrics.md``, ``properties.png``, ``molecules.png``.
        train: ``"moses"``, a SMILES file, None (no Novelty) or ``"auto"`` (MOSES train with the MOSES
            reference, else None).
        n_jobs: worker processes for the RDKit statistics.
        smiles_column: column of CSV/TSV/Parquet reference and train files (default SMILES or smiles).
        log: optional callable receiving progress lines.

    Returns:
        ``{metric: value}`` with MOSES's keys (see :func:`metric_keys`); NaN where undefined.
    """
    return run_evaluation(
        generated, reference, output_dir, train=train, n_jobs=n_jobs, smiles_column=smiles_column, log=log
    ).metrics


def run_evaluation(
    generated: Sequence[str],
    reference: str | Path = "moses",
    output_dir: str | Path | None = None,
    *,
    train: str | Path | None = "auto",
    n_jobs: int = 2,
    smiles_column: str | None = None,
    log: Callable[[str], None] | None = None,
) -> GenerationEvaluation:
    """Like :func:`evaluate_generation`, returning notes and details (timings, counts) as well."""
    log = log or (lambda message: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    references, notes = _references(reference, smiles_column)
    train_source = _train_source(train, reference, smiles_column)
    if train_source is None:
        notes.append("Novelty is omitted: no training set was given.")
    work = [(source, "reference-props" if key == "Test" else "reference") for key, source in references]
    notice = first_use_notice(work + ([(train_source, "train")] if train_source else []), n_jobs)
    if notice:
        log(notice)
    keys = metric_keys([key for key, _ in references], with_novelty=train_source is not None)
    metrics = dict.fromkeys(keys, math.nan)

    valid = split_valid(generated, keep_mols=False)
    timings["parse"] = time.perf_counter() - started
    metrics["valid"] = valid.fraction_valid
    for k in UNIQUE_AT:
        metrics[f"unique@{k}"] = fraction_unique(valid.smiles, k)
        if 0 < len(valid.smiles) < k:
            notes.append(f"unique@{k}: only {len(valid.smiles)} valid molecules, all of them are used.")
    details: dict[str, Any] = {
        "n_generated": valid.n_total,
        "n_valid": len(valid.smiles),
        "n_invalid": len(valid.invalid),
        "invalid_examples": [
            {"record": r.index + 1, "smiles": r.smiles, "reason": r.reason} for r in valid.invalid[:10]
        ],
        "references": {},
        "timings_s": timings,
    }
    evaluation = GenerationEvaluation(metrics, notes, details)
    if not valid.smiles:
        notes.append(
            "No valid molecule was generated: every metric but validity is undefined (NaN)."
            if valid.n_total
            else "The generated file is empty: every metric but validity is undefined (NaN)."
        )
        _finish(evaluation, output_dir, None, None, valid.smiles, started)
        return evaluation

    t = time.perf_counter()
    log(f"generated set: statistics of {len(valid.smiles)} valid molecules")
    gen = compute_set_statistics(valid.smiles, properties=True, filters=True, fcd=False, n_jobs=n_jobs)
    timings["generated_rdkit"] = time.perf_counter() - t
    t = time.perf_counter()
    log(f"generated set: ChemNet activations of {len(valid.smiles)} molecules")
    gen.fcd = _gen_fcd(valid.smiles)
    timings["generated_chemnet"] = time.perf_counter() - t

    test_properties = None
    for key, source in references:
        t = time.perf_counter()
        ref, meta = reference_statistics(source, properties=key == "Test", n_jobs=n_jobs, log=log)
        timings[f"reference_{key}"] = time.perf_counter() - t
        details["references"][key] = meta
        if key == "Test":
            test_properties = ref.properties
        if ref.fcd is None:
            raise ValueError(f"the {key} reference statistics have no FCD statistics (incomplete cache?)")
        t = time.perf_counter()
        metrics[f"FCD/{key}"] = frechet_distance(gen.fcd, ref.fcd)
        metrics[f"SNN/{key}"] = snn(ref.fingerprints, gen.fingerprints)
        metrics[f"Frag/{key}"] = cosine_similarity_counts(ref.fragments, gen.fragments)
        metrics[f"Scaf/{key}"] = cosine_similarity_counts(ref.scaffolds, gen.scaffolds)
        timings[f"metrics_{key}"] = time.perf_counter() - t
        if not gen.scaffolds:
            notes.append(f"Scaf/{key} is NaN: no generated molecule has a scaffold with at least 2 rings.")

    t = time.perf_counter()
    metrics["IntDiv"], metrics["IntDiv2"] = internal_diversity(gen.fingerprints, powers=(1, 2))
    timings["internal_diversity"] = time.perf_counter() - t
    assert gen.passes_filters is not None and gen.properties is not None, "both were requested above"
    metrics["Filters"] = float(gen.passes_filters.mean())
    metrics.update(wasserstein_distances(test_properties or {}, gen.properties))
    if train_source is not None:
        t = time.perf_counter()
        metrics["Novelty"] = novelty(valid.smiles, train_canonical_smiles(train_source, n_jobs=n_jobs, log=log))
        timings["novelty"] = time.perf_counter() - t
        details["train"] = {"label": train_source.label, "sha256": train_source.sha256}
    _finish(evaluation, output_dir, gen.properties, test_properties, valid.smiles, started)
    return evaluation


def _gen_fcd(smiles: list[str]):
    from molgen.evaluation.generation.fcd import chemnet_statistics

    return chemnet_statistics(smiles)


def _finish(evaluation, output_dir, gen_properties, ref_properties, smiles, started) -> None:
    evaluation.details["timings_s"]["total"] = time.perf_counter() - started
    evaluation.details["timings_s"] = {k: round(v, 2) for k, v in evaluation.details["timings_s"].items()}
    if output_dir is not None:
        from molgen.evaluation.generation.report import write_report

        write_report(Path(output_dir), evaluation, gen_properties, ref_properties, smiles)
