"""The worst test predictions: which rows, and their molecules drawn as one PNG grid (RDKit, Cairo)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

N_WORST = 10


def worst_rows(table: pd.DataFrame, target: str, task_type: str, n: int = N_WORST) -> pd.DataFrame:
    """The ``n`` test rows with the largest error on ``target``, worst first, with an ``error`` column:
    |true − predicted| (regression), |label − probability| (binary, multilabel) or 1 − the probability of the
    true class (multiclass). Rows without a true value are left out."""
    truth = pd.to_numeric(table[target], errors="coerce")
    if task_type == "multiclass":
        classes = truth.fillna(-1).astype(int)
        prob = np.array(
            [
                table.at[i, f"{target}_prob_{c}"] if f"{target}_prob_{c}" in table else np.nan
                for i, c in classes.items()
            ],
            dtype=float,
        )
        error = 1.0 - prob
    else:
        error = (truth - pd.to_numeric(table[f"{target}_pred"], errors="coerce")).abs().to_numpy()
    scored = table.assign(error=error)[truth.notna().to_numpy() & np.isfinite(error)]
    return scored.sort_values("error", ascending=False, kind="stable").head(n)


def molecule_grid(smiles: Sequence[str], legends: Sequence[str], *, per_row: int = 5) -> bytes | None:
    """The molecules as one PNG grid with a legend under each; None when none parses."""
    from rdkit import Chem, rdBase
    from rdkit.Chem.Draw import rdMolDraw2D

    with rdBase.BlockLogs():
        mols = [Chem.MolFromSmiles(s) if isinstance(s, str) else None for s in smiles]
    kept = [(m, legend) for m, legend in zip(mols, legends) if m is not None]
    if not kept:
        return None
    cell_w, cell_h = 220, 190
    rows = -(-len(kept) // per_row)
    columns = min(per_row, len(kept))
    drawer = rdMolDraw2D.MolDraw2DCairo(columns * cell_w, rows * cell_h, cell_w, cell_h)
    drawer.DrawMolecules([m for m, _ in kept], legends=[legend for _, legend in kept])
    drawer.FinishDrawing()
    return drawer.GetDrawingText()
