"""Files of ``molgen attribute``: ``attributions.npz``, ``summary.csv``, ``positions.csv``, sequence
logos and ``motifs.csv``, written from the :class:`~molgen.genomics.attribution.Attributions` that
:func:`~molgen.genomics.attribution.compute_attributions` returns."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from molgen.genomics.attribution import Attributions, annotate_motifs, top_windows

__all__ = ["AttributionReport", "position_table", "save_logo", "summary_table", "write_attributions"]


def position_table(attributions: Attributions) -> pd.DataFrame:
    """One row per base of each valid sequence inside the model window: ``sequence_id position base``
    (1-based) and the per-position summaries (``ism_mean ism_min ism_max ism_importance gradxinput``)."""
    frames = []
    for i in np.flatnonzero(attributions.valid).tolist():
        a, b = attributions.span(i)
        offset = int(attributions.offsets[i])
        columns: dict[str, Any] = {
            "sequence_id": attributions.ids[i],
            "position": np.arange(a, b) - offset + 1,
            "base": list(attributions.sequences[i][a - offset : b - offset]),
        }
        if attributions.ism is not None:
            effects, mutated = attributions.ism[i][:, a:b], attributions.onehot[i][:, a:b] < 1.0
            columns["ism_mean"] = np.where(mutated, effects, 0).sum(0) / np.maximum(mutated.sum(0), 1)
            columns["ism_min"] = np.where(mutated, effects, np.inf).min(0)
            columns["ism_max"] = np.where(mutated, effects, -np.inf).max(0)
            columns["ism_importance"] = -columns["ism_mean"]
        if attributions.gradxinput is not None:
            columns["gradxinput"] = attributions.gradxinput[i][:, a:b].sum(0)
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["sequence_id", "position", "base"])


def save_logo(matrix: np.ndarray, path: str | Path, *, title: str = "", first_position: int = 1) -> Path:
    """A sequence-logo PNG of a ``[4, L]`` attribution matrix (letters up for positive, down for
    negative), drawn with logomaker on matplotlib's Agg canvas."""
    import sys

    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import logomaker
    from matplotlib.figure import Figure

    matrix = np.nan_to_num(np.asarray(matrix, dtype=np.float64))
    index = np.arange(first_position, first_position + matrix.shape[1])
    frame = pd.DataFrame(matrix.T, columns=list("ACGT"), index=index)
    figure = Figure(figsize=(min(40.0, max(6.0, matrix.shape[1] / 8)), 2.2))
    ax = figure.add_subplot()
    logomaker.Logo(frame, ax=ax, color_scheme="classic")
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xlabel("position")
    ax.set_ylabel("attribution")
    if title:
        ax.set_title(title, fontsize=9)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path


@dataclasses.dataclass
class AttributionReport:
    output: Path
    n_sequences: int
    n_invalid: int
    invalid: list[str]
    files: list[Path]


def write_attributions(
    attributions: Attributions,
    output: str | Path,
    *,
    scanner: Any = None,
    top_motifs: int = 5,
    n_windows: int = 3,
    window: int = 20,
    max_logos: int | None = None,
) -> AttributionReport:
    """Writes ``attributions.npz`` (no pickled objects), ``summary.csv`` (one row per sequence),
    ``positions.csv``, ``logos/<n>_<id>.png`` and, with a motif ``scanner``, ``motifs.csv``."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    a = attributions
    arrays: dict[str, np.ndarray] = {
        "ids": np.array(a.ids, dtype=str),
        "sequences": np.array(a.sequences, dtype=str),
        "targets": np.array(a.targets, dtype=str),
        "target": np.array(a.target),
        "offsets": a.offsets,
        "valid": a.valid,
        "onehot": a.onehot,
        "predictions": a.predictions,
        "importance": a.importance(),
    }
    if a.ism is not None:
        arrays["ism"] = a.ism
    if a.gradxinput is not None:
        arrays["gradxinput"] = a.gradxinput
    files = [output / "attributions.npz"]
    np.savez_compressed(files[0], **arrays)  # type: ignore[arg-type]  # numpy stub: ** could bind allow_pickle
    files.append(output / "positions.csv")
    position_table(a).to_csv(files[-1], index=False)
    motif_table = None
    if scanner is not None and top_motifs > 0:
        motif_table = annotate_motifs(a, scanner, n_windows=n_windows, window=window, top=top_motifs)
        files.append(output / "motifs.csv")
        motif_table.to_csv(files[-1], index=False)
    files.append(output / "summary.csv")
    summary_table(a, motif_table, window=window).to_csv(files[-1], index=False)
    logos = np.flatnonzero(a.valid)[: max_logos if max_logos is not None else None]
    for i in logos:
        lo, hi = a.span(int(i))
        name = f"{i + 1:04d}_{_safe(a.ids[i])}.png"
        files.append(
            save_logo(
                a.logo_matrix(int(i))[:, lo:hi],
                output / "logos" / name,
                title=f"{a.ids[i]} · {a.target}",
                first_position=lo - int(a.offsets[i]) + 1,
            )
        )
    invalid = [f"{a.ids[i]}: {a.errors[i]}" for i in np.flatnonzero(~a.valid)]
    return AttributionReport(output, len(a.ids), len(invalid), invalid, files)


def summary_table(attributions: Attributions, motif_table: pd.DataFrame | None, *, window: int = 20) -> pd.DataFrame:
    """One row per sequence: id, ``valid``/``error``, prediction of the target, the top window
    (1-based inclusive) and, when motifs were matched, its best motif."""
    a = attributions
    importance = a.importance()
    rows = []
    t = a.targets.index(a.target)
    for i in range(len(a.ids)):
        row: dict[str, Any] = {
            "sequence_id": a.ids[i],
            "length": len(a.sequences[i]),
            "valid": bool(a.valid[i]),
            "error": a.errors[i],
            f"{a.target}_prediction": float(a.predictions[i, t]),
        }
        best = top_windows(importance[i], window, 1, valid=a.span(i)) if a.valid[i] else []
        if best:
            start, end, total = best[0]
            row.update(
                top_window_start=start - int(a.offsets[i]) + 1,
                top_window_end=end - int(a.offsets[i]),
                top_window_attribution=total,
            )
        if motif_table is not None and len(motif_table):
            hits = motif_table[(motif_table.sequence_id == a.ids[i]) & (motif_table.window_rank == 1)]
            if len(hits):
                row.update(
                    top_motif_id=hits.iloc[0].motif_id,
                    top_motif_name=hits.iloc[0].motif_name,
                    top_motif_p_value=hits.iloc[0].p_value,
                )
        rows.append(row)
    columns = [
        "sequence_id",
        "length",
        "valid",
        "error",
        f"{a.target}_prediction",
        "top_window_start",
        "top_window_end",
        "top_window_attribution",
    ]
    if motif_table is not None:
        columns += ["top_motif_id", "top_motif_name", "top_motif_p_value"]
    out = pd.DataFrame(rows).reindex(columns=columns)
    for name in ("top_window_start", "top_window_end"):
        out[name] = out[name].astype("Int64")  # integers, empty for an invalid sequence
    return out


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60]
    return cleaned or "sequence"
