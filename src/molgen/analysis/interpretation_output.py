"""The files of ``molgen interpret``: atom and molecule tables, similarity maps, the substructure summary.

Substructures are Morgan atom environments (radius 1 and 2 by default: an atom, its bonds and the atoms up to
``radius`` bonds away; RDKit's ``FindAtomEnvironmentOfRadiusN``), named by their canonical fragment SMILES. A
substructure's score in one molecule is the sum of the scores of its atoms; an environment that appears twice
in a molecule (same atoms from two centres) counts once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from molgen.analysis.interpretation import Interpretation
from molgen.io import atomic_dir, write_text

ATOMS_FILE = "atoms.csv"
MOLECULES_FILE = "molecules.csv"
SUBSTRUCTURES_FILE = "substructures.csv"
SUMMARY_FILE = "summary.md"
IMAGES_DIR = "images"


@dataclasses.dataclass
class InterpretationReport:
    """What :func:`write_interpretation` wrote: counts, the invalid rows described, the top substructures."""

    n_rows: int
    n_invalid: int
    invalid: list[str]
    output: Path
    top: pd.DataFrame


def atom_table(result: Interpretation) -> pd.DataFrame:
    """One row per atom of each explained molecule: ``row, smiles, atom_index, element, <target>_attribution``."""
    parts = []
    for row, (explanation, mol) in enumerate(zip(result.explanations, result.mols)):
        if explanation is None:
            continue
        n_atoms = len(explanation.atoms)
        part = {
            "row": np.full(n_atoms, row),
            "smiles": [result.smiles[row]] * n_atoms,
            "atom_index": np.arange(n_atoms),
            "element": [atom.GetSymbol() for atom in mol.GetAtoms()],
        }
        for t, target in enumerate(result.targets):
            part[f"{target}_attribution"] = explanation.atoms[:, t]
        parts.append(pd.DataFrame(part))
    columns = ["row", "smiles", "atom_index", "element", *[f"{t}_attribution" for t in result.targets]]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def molecule_table(result: Interpretation, images: dict[int, str]) -> pd.DataFrame:
    """One row per input row: the prediction, the attribution sum (and the ``ig`` baseline), ``valid``,
    ``invalid_reason``, the image and ``mapped_smiles`` (atom map number = ``atom_index + 1``)."""
    from rdkit import Chem

    n = len(result.smiles)
    table: dict[str, Any] = {"row": np.arange(n), "smiles": result.smiles}
    mapped = np.full(n, "", dtype=object)
    for row, mol in enumerate(result.mols):
        if mol is not None and result.explanations[row] is not None:
            copy = Chem.Mol(mol)
            for atom in copy.GetAtoms():
                atom.SetAtomMapNum(atom.GetIdx() + 1)
            mapped[row] = Chem.MolToSmiles(copy)
    table["mapped_smiles"] = mapped
    table["n_atoms"] = [len(e.atoms) if e is not None else 0 for e in result.explanations]
    for t, target in enumerate(result.targets):
        table[f"{target}_pred"] = [e.prediction[t] if e is not None else np.nan for e in result.explanations]
        if result.method == "ig":
            table[f"{target}_baseline"] = [
                e.baseline[t] if e is not None and e.baseline is not None else np.nan for e in result.explanations
            ]
        table[f"{target}_attribution_sum"] = [
            e.atoms[:, t].sum() if e is not None else np.nan for e in result.explanations
        ]
    table["valid"] = [e is not None for e in result.explanations]
    table["invalid_reason"] = [result.reasons.get(row, "") for row in range(n)]
    table["image"] = [images.get(row, "") for row in range(n)]
    return pd.DataFrame(table)


def substructure_table(result: Interpretation, radii: Sequence[int] = (1, 2), min_count: int = 3) -> pd.DataFrame:
    """Per target, the Morgan environments seen at least ``min_count`` times in the file, with ``count``
    (occurrences), ``n_molecules``, ``mean_attribution`` (per occurrence), ``total_attribution`` and ``direction``
    (raises / lowers), sorted by ``mean_attribution`` (highest first)."""
    records = []
    for explanation, mol in zip(result.explanations, result.mols):
        if explanation is None:
            continue
        for fragment, radius, atoms in _environments(mol, radii):
            records.append((fragment, radius, *explanation.atoms[atoms].sum(0)))
    columns = ["substructure", "radius", *result.targets]
    frame = pd.DataFrame.from_records(records, columns=columns)
    tables = []
    for target in result.targets:
        if frame.empty:
            continue
        grouped = frame.groupby("substructure", sort=False)
        table = pd.DataFrame(
            {
                "target": target,
                "radius": grouped["radius"].min(),
                "count": grouped.size(),
                "mean_attribution": grouped[target].mean(),
                "total_attribution": grouped[target].sum(),
            }
        )
        table = table[table["count"] >= min_count].copy()
        table["direction"] = np.where(table["mean_attribution"] >= 0, "raises", "lowers")
        tables.append(table.sort_values("mean_attribution", ascending=False, kind="stable").reset_index())
    out_columns = ["target", "substructure", "radius", "count", "mean_attribution", "total_attribution", "direction"]
    if not tables:
        return pd.DataFrame(columns=out_columns)
    return pd.concat(tables, ignore_index=True)[out_columns]


def _environments(mol: Any, radii: Sequence[int]) -> list[tuple[str, int, list[int]]]:
    """The distinct atom environments of ``mol``: (fragment SMILES, radius, atom indices)."""
    from rdkit import Chem

    seen: set[frozenset[int]] = set()
    out = []
    for radius in radii:
        for center in range(mol.GetNumAtoms()):
            bonds = list(Chem.FindAtomEnvironmentOfRadiusN(mol, radius, center))
            if not bonds:  # the molecule does not reach this far from the centre
                continue
            atoms = {center}
            for index in bonds:
                bond = mol.GetBondWithIdx(index)
                atoms.update((bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()))
            key = frozenset(atoms)
            if key in seen:
                continue
            seen.add(key)
            fragment = Chem.MolFragmentToSmiles(mol, atomsToUse=sorted(atoms), bondsToUse=bonds, canonical=True)
            out.append((fragment, radius, sorted(atoms)))
    return out


def top_substructures(substructures: pd.DataFrame, k: int = 10) -> pd.DataFrame:
    """Per target, the ``k`` substructures that most raise and the ``k`` that most lower the prediction."""
    parts = []
    for _, table in substructures.groupby("target", sort=False):
        parts.append(table[table["direction"] == "raises"].head(k))
        parts.append(table[table["direction"] == "lowers"].sort_values("mean_attribution", kind="stable").head(k))
    return pd.concat(parts, ignore_index=True) if parts else substructures.head(0)


def similarity_map_png(mol: Any, weights: np.ndarray, size: int = 400) -> bytes:
    """An RDKit similarity map of ``mol`` coloured by ``weights`` (one per atom; green raises, pink lowers,
    scaled by the largest absolute weight) as PNG bytes."""
    from rdkit.Chem import Draw
    from rdkit.Chem.Draw import SimilarityMaps, rdMolDraw2D

    drawer = rdMolDraw2D.MolDraw2DCairo(size, size)
    values = [float(w) for w in weights]
    if mol.GetNumAtoms() < 2:  # RDKit draws no map for a single atom: colour the atom itself
        colour = (0.3, 0.7, 0.3) if values and values[0] > 0 else (0.9, 0.4, 0.7)
        highlight = {0: colour} if values and values[0] != 0 else {}
        Draw.rdMolDraw2D.PrepareAndDrawMolecule(
            drawer, mol, highlightAtoms=list(highlight), highlightAtomColors=highlight
        )
    else:
        SimilarityMaps.GetSimilarityMapFromWeights(mol, values, draw2d=drawer, gridResolution=0.2)  # 0.1: 2.6x slower
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


def check_output_folder(output: str | Path) -> Path:
    """Refuses, before any work, an output folder that exists, is not empty and is not an earlier output of
    ``molgen interpret`` (which holds ``molecules.csv``): the folder is replaced as a whole."""
    from molgen.errors import ConfigError

    output = Path(output)
    if output.exists() and not output.is_dir():
        raise ConfigError(f"--output {output} is a file; pass a folder")
    if output.is_dir() and any(output.iterdir()) and not (output / MOLECULES_FILE).is_file():
        raise ConfigError(
            f"--output {output} is a non-empty folder that molgen interpret did not write "
            "(it would be replaced); pass a new or empty folder"
        )
    return output


def write_interpretation(
    result: Interpretation,
    output: str | Path,
    *,
    describe_row: Any = None,
    radii: Sequence[int] = (1, 2),
    min_count: int = 3,
    top_k: int = 10,
    image_target: str | None = None,
) -> InterpretationReport:
    """Writes the output folder (replaced as a whole, atomically): ``atoms.csv``, ``molecules.csv``,
    ``images/<row>.png`` (the scores of ``image_target``, by default the first explained target),
    ``substructures.csv`` and ``summary.md``."""
    output = Path(output)
    image_target = image_target or result.targets[0]
    t_image = result.targets.index(image_target)
    substructures = substructure_table(result, radii, min_count)
    top = top_substructures(substructures, top_k)
    with atomic_dir(output) as folder:
        images: dict[int, str] = {}
        (folder / IMAGES_DIR).mkdir()
        for row, (explanation, mol) in enumerate(zip(result.explanations, result.mols)):
            if explanation is None:
                continue
            name = f"{IMAGES_DIR}/{row}.png"
            (folder / name).write_bytes(similarity_map_png(mol, explanation.atoms[:, t_image]))
            images[row] = name
        atom_table(result).to_csv(folder / ATOMS_FILE, index=False)
        molecules = molecule_table(result, images)
        molecules.to_csv(folder / MOLECULES_FILE, index=False)
        substructures.to_csv(folder / SUBSTRUCTURES_FILE, index=False)
        write_text(folder / SUMMARY_FILE, _summary(result, molecules, top, radii, min_count))
    invalid = [
        f"{describe_row(row) if describe_row else f'row {row}'}: {reason}" for row, reason in result.reasons.items()
    ]
    return InterpretationReport(len(molecules), len(invalid), invalid, output, top)


def _summary(
    result: Interpretation, molecules: pd.DataFrame, top: pd.DataFrame, radii: Sequence[int], min_count: int
) -> str:
    method = {"ig": "integrated gradients (baseline: all atom and bond features zero)", "masking": "atom masking"}
    lines = [
        "# molgen interpret",
        "",
        f"Method: {method[result.method]}. Explained {int(molecules['valid'].sum())} of {len(molecules)} rows "
        f"({len(molecules) - int(molecules['valid'].sum())} invalid).",
        "",
        f"Substructures: Morgan atom environments of radius {', '.join(map(str, radii))}, seen at least {min_count} "
        "times; score = sum of the atom scores in the environment, averaged over its occurrences.",
    ]
    for target in result.targets:
        rows = top[top["target"] == target]
        for direction in ("raises", "lowers"):
            chosen = rows[rows["direction"] == direction]
            verb = {"raises": "raise", "lowers": "lower"}[direction]
            lines += ["", f"## {target}: substructures that {verb} the prediction", ""]
            if chosen.empty:
                lines.append("(none)")
                continue
            lines += ["| substructure | radius | count | mean attribution |", "|---|---|---|---|"]
            lines += [
                f"| `{r.substructure}` | {r.radius} | {r.count} | {r.mean_attribution:.4g} |"
                for r in chosen.itertuples()
            ]
    return "\n".join(lines) + "\n"


def interpret_file(
    model: Any,
    input_path: str | Path,
    output: str | Path,
    *,
    input_column: str | None = None,
    method: str = "ig",
    target: str | None = None,
    n_steps: int = 50,
    radii: Sequence[int] = (1, 2),
    min_count: int = 3,
    top_k: int = 10,
) -> InterpretationReport:
    """Reads ``input_path`` like ``molgen predict`` (:func:`~molgen.analysis.prediction.read_inputs`), explains
    every valid molecule with ``method`` and writes the folder ``output`` (:func:`write_interpretation`)."""
    from molgen.analysis.interpretation import interpret_frame
    from molgen.analysis.prediction import read_inputs

    table = read_inputs(model, input_path, input_column)
    result = interpret_frame(model, table.frame, table.smiles_column, method=method, target=target, n_steps=n_steps)
    return write_interpretation(
        result, output, describe_row=table.describe_row, radii=radii, min_count=min_count, top_k=top_k
    )
