"""Optional chemical standardization with RDKit's ``rdMolStandardize``, applied identically in training,
``molgen predict``, ``molgen screen`` and serving (the model stores its mode in its featurizer spec).

Modes:
    ``none``: molecules are used as given (the default, so published comparisons stay comparable).
    ``basic``: cleanup (normalize functional groups, reionize, disconnect metals), keep the largest organic
        fragment (dropping counter-ions, salts and solvents), neutralize charges.
    ``tautomer``: ``basic``, then RDKit's canonical tautomer.

So sodium acetate ``CC(=O)[O-].[Na+]``, acetate and acetic acid all become ``CC(=O)O``. An input of several
fragments none of which is organic (``[Na+].[Cl-]``, cisplatin once its metal is disconnected) has no
fragment to keep: it is invalid with that reason. A single inorganic molecule (water, ``[Na+]``) is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from rdkit import Chem

from molgen.errors import ConfigError

Mode = Literal["none", "basic", "tautomer"]
MODES: tuple[str, ...] = ("none", "basic", "tautomer")
EMPTIED = "standardization left no organic fragment (only inorganic salts, ions or metals)"

__all__ = ["EMPTIED", "MODES", "check_mode", "standardize_mol", "standardize_smiles"]


def check_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`MODES`, else ConfigError listing them."""
    if mode not in MODES:
        raise ConfigError(f"unknown standardize mode {mode!r}; valid modes: {', '.join(MODES)}")
    return mode


@lru_cache(maxsize=1)
def _tools() -> dict[str, Any]:
    """RDKit's standardizers, built once per process (each holds parsed SMARTS tables)."""
    from rdkit.Chem.MolStandardize import rdMolStandardize

    return {
        "largest": rdMolStandardize.LargestFragmentChooser(preferOrganic=True),
        "uncharger": rdMolStandardize.Uncharger(canonicalOrder=True),
        "tautomers": rdMolStandardize.TautomerEnumerator(),
        "cleanup": rdMolStandardize.Cleanup,
    }


def standardize_mol(mol: Chem.Mol, mode: str) -> tuple[Chem.Mol | None, str | None]:
    """``(standardized molecule, None)``, or ``(None, reason)`` when nothing is left or RDKit fails.
    Mode ``none`` returns ``mol`` itself."""
    if check_mode(mode) == "none":
        return mol, None
    tools = _tools()
    try:
        out = tools["cleanup"](mol)
        fragments = Chem.GetMolFrags(out, asMols=True, sanitizeFrags=False)
        if len(fragments) > 1 and not any(_organic(f) for f in fragments):
            return None, EMPTIED
        out = tools["uncharger"].uncharge(tools["largest"].choose(out))
        if mode == "tautomer":
            out = tools["tautomers"].Canonicalize(out)
        # canonical atom order, so that inputs with one standard form give one graph (one prediction)
        out = Chem.MolFromSmiles(Chem.MolToSmiles(out))
    except Exception as err:  # RDKit raises assorted C++ errors (valence, kekulization) on odd inputs
        return None, f"standardization failed: {err}"
    if out is None:
        return None, "standardization failed: RDKit cannot read back the standardized molecule"
    return out, None


def _organic(mol: Chem.Mol) -> bool:
    return any(atom.GetAtomicNum() == 6 for atom in mol.GetAtoms())


def standardize_smiles(smiles: str, mode: str) -> tuple[str | None, str | None]:
    """Canonical SMILES of the standardized molecule, or ``(None, reason)`` (an invalid input included)."""
    from molgen.chem.molecules import parse_smiles

    mol, reason = parse_smiles(smiles)
    if mol is None:
        return None, reason
    out, reason = standardize_mol(mol, mode)
    return (None, reason) if out is None else (Chem.MolToSmiles(out), None)


def standardized_column(smiles: Sequence[Any], valid_index: np.ndarray, mode: str) -> np.ndarray:
    """The standardized SMILES of the valid rows (``""`` elsewhere)."""
    out = np.full(len(smiles), "", dtype=object)
    for i in valid_index:
        out[i] = standardize_smiles(smiles[i], mode)[0] or ""
    return out
