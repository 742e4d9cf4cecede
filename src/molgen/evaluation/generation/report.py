"""Files of a generation evaluation: metrics.json, metrics.md, properties.png, molecules.png.

``metrics.json`` maps MOSES's key names to numbers, with ``null`` where a metric is undefined (NaN is
not JSON). ``metrics.md`` has the same table, the notes (what is NaN and why, omitted metrics), the
counts of valid/invalid molecules with the first invalid records, the reference sets and timings.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

__all__ = ["write_report", "plot_properties", "draw_molecule_grid"]

_DESCRIPTIONS = {
    "valid": "fraction of generated strings that are valid molecules",
    "unique@1000": "distinct fraction of the first 1,000 valid molecules",
    "unique@10000": "distinct fraction of the first 10,000 valid molecules",
    "FCD": "Fréchet ChemNet Distance (lower is closer)",
    "SNN": "mean Tanimoto similarity to the nearest reference molecule",
    "Frag": "cosine similarity of BRICS fragment counts",
    "Scaf": "cosine similarity of Bemis-Murcko scaffold counts",
    "IntDiv": "internal diversity, 1 - mean Tanimoto similarity",
    "IntDiv2": "internal diversity, 1 - root mean squared Tanimoto similarity",
    "Filters": "fraction passing MCF, PAINS, element and charge filters",
    "logP": "Wasserstein distance of Crippen logP to Test",
    "SA": "Wasserstein distance of SA score to Test",
    "QED": "Wasserstein distance of QED to Test",
    "weight": "Wasserstein distance of molecular weight (g/mol) to Test",
    "Novelty": "fraction of distinct valid molecules not in the training set",
}
_GRID_MOLECULES = 24


def _json_value(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _markdown(evaluation) -> str:
    d = evaluation.details
    lines = ["# Generation metrics (MOSES)", "", "| metric | value | meaning |", "|---|---|---|"]
    for key, value in evaluation.metrics.items():
        shown = "NaN" if math.isnan(value) else f"{value:.4f}"
        lines.append(f"| {key} | {shown} | {_DESCRIPTIONS.get(key.split('/')[0], '')} |")
    lines += ["", f"Generated: {d['n_generated']} records, {d['n_valid']} valid, {d['n_invalid']} invalid."]
    if d["invalid_examples"]:
        lines += ["", "First invalid records:", ""]
        lines += [f"- record {e['record']}: `{e['smiles']}` ({e['reason']})" for e in d["invalid_examples"]]
    if evaluation.notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in evaluation.notes]
    if d["references"]:
        lines += ["", "## Reference sets", ""]
        for key, meta in d["references"].items():
            cached = "cached statistics" if meta.get("cached") else f"statistics computed in {meta['seconds']} s"
            lines.append(
                f"- {key}: {meta['label']} ({meta['n_valid']} valid molecules, "
                f"{meta['n_invalid']} invalid skipped; sha256 {meta['sha256'][:12]}…; {cached})"
            )
    if "train" in d:
        lines.append(f"- Novelty against: {d['train']['label']} (sha256 {d['train']['sha256'][:12]}…)")
    lines += ["", "## Timings (s)", "", ", ".join(f"{k} {v}" for k, v in d["timings_s"].items()), ""]
    return "\n".join(lines)


def plot_properties(generated: dict[str, np.ndarray], reference: dict[str, np.ndarray] | None, path: Path) -> None:
    """Histograms (density) of logP, SA, QED and weight: generated vs reference, one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(generated), figsize=(4 * len(generated), 3.2))
    for ax, (key, values) in zip(np.atleast_1d(axes), generated.items()):
        ref = None if reference is None else reference.get(key)
        pooled = values if ref is None else np.concatenate([values, ref])
        bins = np.histogram_bin_edges(pooled, bins=50)
        if ref is not None:
            ax.hist(ref, bins=bins, density=True, alpha=0.5, label="reference (Test)")
        ax.hist(values, bins=bins, density=True, alpha=0.5, label="generated")
        ax.set_title(key)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def draw_molecule_grid(smiles: list[str], path: Path, n: int = _GRID_MOLECULES) -> None:
    """A PNG grid of the first ``n`` distinct valid molecules."""
    from rdkit import Chem
    from rdkit.Chem import Draw

    distinct = list(dict.fromkeys(smiles))[:n]
    mols = [Chem.MolFromSmiles(s) for s in distinct]
    image = Draw.MolsToGridImage(mols, molsPerRow=6, subImgSize=(220, 180))
    image.save(str(path))


def write_report(output_dir: Path, evaluation, gen_properties, ref_properties, smiles: list[str]) -> None:
    """Writes metrics.json, metrics.md and (when there are valid molecules) the two images."""
    output_dir.mkdir(parents=True, exist_ok=True)
    payload = {key: _json_value(value) for key, value in evaluation.metrics.items()}
    (output_dir / "metrics.json").write_text(json.dumps(payload, indent=2) + "\n")
    (output_dir / "metrics.md").write_text(_markdown(evaluation))
    if smiles:
        plot_properties(gen_properties, ref_properties, output_dir / "properties.png")
        draw_molecule_grid(smiles, output_dir / "molecules.png")
