"""Variant effect prediction: the model's prediction for the alternative allele minus the reference's.

Variants come as a table (sequence id, 1-based position, ref, alt) against a FASTA/CSV of sequences,
or as a VCF against a reference genome FASTA, in which case a window of the model's input length is
cut from the reference, centered on the variant (see :func:`molgen.genomics.variants.variant_windows`
for how indels are re-centered). Every variant gives exactly one output row: a ref allele that does
not match, an unknown sequence id, a bad position or an unsupported allele gives ``valid=false`` and
the reason in ``error``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from molgen.errors import ConfigError, InvalidInputError
from molgen.genomics.attribution import SequenceModel
from molgen.genomics.variants import (
    Reference,
    VariantError,
    VariantWindows,
    parse_position,
    read_sequences,
    read_variant_table,
    read_vcf,
    variant_windows,
)
from molgen.io import atomic_path

__all__ = ["VariantEffectSummary", "score_variants", "score_vcf", "variant_effect_file"]

Windows = Callable[[pd.Series], VariantWindows]


@dataclasses.dataclass
class VariantEffectSummary:
    n_variants: int
    n_invalid: int
    invalid: list[str]
    output: Path


def score_variants(
    model: SequenceModel, sequences: Mapping[str, str], variants: pd.DataFrame, *, chunk_size: int = 2048
) -> pd.DataFrame:
    """Effects of ``variants`` (columns ``variant_id sequence_id position ref alt``, positions 1-based)
    on ``sequences`` (id → sequence). Sequences longer than the model input get a window centered on
    the variant; shorter ones are used whole."""
    from molgen.genomics.encoding import validate_sequence

    checked: dict[str, str | VariantError] = {}

    def sequence_of(seq_id: str) -> str:
        if seq_id not in checked:
            if seq_id not in sequences:
                checked[seq_id] = VariantError(f"unknown sequence id {seq_id!r} (not in the sequence file)")
            else:
                try:
                    checked[seq_id] = validate_sequence(sequences[seq_id], record=seq_id)
                except ValueError as err:
                    checked[seq_id] = VariantError(f"invalid sequence: {err}")
        value = checked[seq_id]
        if isinstance(value, VariantError):
            raise value
        return value

    def windows(row: pd.Series) -> VariantWindows:
        seq = sequence_of(str(row["sequence_id"]))
        return variant_windows(
            seq,
            parse_position(row["position"]),
            row["ref"],
            row["alt"],
            model.length,
            sequence_id=str(row["sequence_id"]),
        )

    return _score(model, variants, windows, chunk_size)


def score_vcf(model: SequenceModel, vcf: str | Path, reference: str | Path, *, chunk_size: int = 2048) -> pd.DataFrame:
    """Effects of the variants of a VCF, with windows of the model's input length cut from the
    ``reference`` FASTA around each variant (CHROM must name a reference contig)."""
    genome = Reference(reference)
    variants = read_vcf(vcf)

    def windows(row: pd.Series) -> VariantWindows:
        return genome.variant_windows(
            str(row["sequence_id"]), parse_position(row["position"]), row["ref"], row["alt"], model.length
        )

    return _score(model, variants, windows, chunk_size)


def _score(model: SequenceModel, variants: pd.DataFrame, windows: Windows, chunk_size: int) -> pd.DataFrame:
    n, targets = len(variants), model.targets
    pairs: list[VariantWindows | None] = []
    errors = []
    for _, row in variants.iterrows():
        try:
            pairs.append(windows(row))
            errors.append("")
        except VariantError as err:
            pairs.append(None)
            errors.append(str(err))
    ref_pred = np.full((n, len(targets)), np.nan, dtype=np.float64)
    alt_pred = np.full_like(ref_pred, np.nan)
    valid = np.array([p is not None for p in pairs], dtype=bool)
    index = np.flatnonzero(valid)
    for start in range(0, len(index), chunk_size):
        rows = index[start : start + chunk_size]
        # identical reference windows (many variants in one sequence) are predicted once
        unique_refs = list(dict.fromkeys(pairs[i].ref for i in rows))
        where = {s: k for k, s in enumerate(unique_refs)}
        preds = _predict(model, unique_refs + [pairs[i].alt for i in rows])
        ref_pred[rows] = preds[[where[pairs[i].ref] for i in rows]]
        alt_pred[rows] = preds[len(unique_refs) :]
    out = variants.reset_index(drop=True).copy()
    for t, name in enumerate(targets):
        out[f"{name}_ref"] = ref_pred[:, t]
        out[f"{name}_alt"] = alt_pred[:, t]
        out[f"{name}_diff"] = alt_pred[:, t] - ref_pred[:, t]
    out["valid"] = valid
    out["error"] = errors
    return out


def _predict(model: SequenceModel, sequences: list[str]) -> np.ndarray:
    x = model.encode(sequences)
    with torch.inference_mode():
        return model.predict(x).float().numpy().astype(np.float64)


def variant_effect_file(
    model: SequenceModel,
    output: str | Path,
    *,
    sequences: str | Path | None = None,
    variants: str | Path | None = None,
    vcf: str | Path | None = None,
    reference: str | Path | None = None,
    id_column: str | None = None,
    sequence_column: str | None = None,
) -> VariantEffectSummary:
    """Reads either ``sequences`` + ``variants`` (a table) or ``vcf`` + ``reference``, scores every
    variant and writes one CSV row per variant to ``output``."""
    if vcf is not None or reference is not None:
        if vcf is None or reference is None or sequences is not None or variants is not None:
            raise ConfigError("give either --sequences with --variants, or --vcf with --reference")
        table = score_vcf(model, vcf, reference)
    else:
        if sequences is None or variants is None:
            raise ConfigError("give either --sequences with --variants, or --vcf with --reference")
        records = read_sequences(sequences, id_column=id_column, sequence_column=sequence_column)
        by_id: dict[str, str] = {}
        for seq_id, seq in records:
            if seq_id in by_id:
                raise InvalidInputError(
                    f"{sequences}: sequence id {seq_id!r} appears more than once; ids must be unique"
                )
            by_id[seq_id] = seq
        table = score_variants(model, by_id, read_variant_table(variants))
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(output) as tmp:
        table.to_csv(tmp, index=False)
    bad = np.flatnonzero(~table["valid"].to_numpy(dtype=bool))
    invalid = [f"{table['variant_id'].iloc[i] or f'row {i + 1}'}: {table['error'].iloc[i]}" for i in bad]
    return VariantEffectSummary(len(table), len(invalid), invalid, output)
