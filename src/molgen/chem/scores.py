"""RDKit molecule scores: QED, Crippen logP, synthetic accessibility (SA), molecular weight.

Each score maps one sanitized RDKit molecule to a float. These are the four properties whose
distributions the MOSES benchmark compares (its keys ``QED``, ``logP``, ``SA``, ``weight``), and
the objectives of property-guided generation.

- ``qed``: quantitative estimate of drug-likeness (Bickerton et al., Nat. Chem. 2012), 0..1.
- ``logp``: Wildman-Crippen logP (J. Chem. Inf. Comput. Sci. 1999), unitless.
- ``sa_score``: Ertl & Schuffenhauer synthetic accessibility (J. Cheminf. 2009), 1 (easy) .. 10
  (hard), from RDKit's Contrib ``SA_Score/sascorer.py`` (the same model MOSES ships).
- ``molecular_weight``: average molecular weight in g/mol (``Descriptors.MolWt``).

``SCORES`` maps the names ``"qed"``, ``"logp"``, ``"sa"``, ``"mw"`` to these functions.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
from rdkit import Chem

from molgen.registry import Registry

__all__ = ["SCORES", "SAScorerNotFoundError", "logp", "molecular_weight", "qed", "sa_score"]


class SAScorerNotFoundError(ImportError):
    """RDKit's Contrib ``SA_Score/sascorer.py`` (needed for ``sa_score``) is not installed."""


def qed(mol: Chem.Mol) -> float:
    """QED drug-likeness in [0, 1]."""
    from rdkit.Chem import QED

    return float(QED.qed(mol))


def logp(mol: Chem.Mol) -> float:
    """Wildman-Crippen logP."""
    from rdkit.Chem import Crippen

    return float(Crippen.MolLogP(mol))  # type: ignore[attr-defined]  # RDKit's stubs omit the descriptor functions


def molecular_weight(mol: Chem.Mol) -> float:
    """Average molecular weight in g/mol."""
    from rdkit.Chem import Descriptors

    return float(Descriptors.MolWt(mol))  # type: ignore[attr-defined]  # RDKit's stubs omit the descriptor functions


@functools.lru_cache(maxsize=1)
def _sascorer() -> ModuleType:
    """Loads RDKit's Contrib SA scorer once (it reads its fragment-score table on first use)."""
    from rdkit.Chem import RDConfig

    path = Path(RDConfig.RDContribDir) / "SA_Score" / "sascorer.py"
    if not path.is_file():
        raise SAScorerNotFoundError(
            f"the SA score needs RDKit's Contrib file SA_Score/sascorer.py, which is not at {path}. "
            "Install an RDKit build that ships Contrib (the PyPI 'rdkit' wheel does) or use another score "
            "(qed, logp, mw)."
        )
    spec = importlib.util.spec_from_file_location("molgen_rdkit_contrib_sascorer", path)
    if spec is None or spec.loader is None:
        raise SAScorerNotFoundError(f"cannot load RDKit's Contrib SA scorer from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.readFragmentScores()
    return module


def sa_score(mol: Chem.Mol) -> float:
    """Synthetic accessibility score, 1 (easy to make) .. 10 (hard).

    Raises:
        SAScorerNotFoundError: RDKit's Contrib SA scorer is missing.
    """
    return float(_sascorer().calculateScore(mol))


SCORES: Registry[Callable[[Chem.Mol], float]] = Registry(
    "score", {"qed": qed, "logp": logp, "sa": sa_score, "mw": molecular_weight}
)


def _logp_reward(mol: Chem.Mol) -> float:
    # MolGAN's normalization of Crippen logP to [0, 1] (its bounds on QM9-like molecules)
    return (logp(mol) + 2.12178879609) / (6.0429063424 + 2.12178879609)


def _sa_reward(mol: Chem.Mol) -> float:
    return (5.0 - sa_score(mol)) / (5.0 - 1.5)  # MolGAN's normalization: SA 5 → 0, SA 1.5 → 1


REWARDS: Registry[Callable[[Chem.Mol], float]] = Registry(
    "reward", {"qed": qed, "logp": _logp_reward, "sa": _sa_reward}
)
"""Scores the reward network learns, normalized to [0, 1] (clipped) as in MolGAN."""


def reward_scores(name: str) -> Callable[[list[str]], np.ndarray]:
    """SMILES → rewards ``[n]`` in [0, 1]; an invalid, empty or disconnected (``.``) SMILES scores 0, as
    MolGAN's rewards count only valid single-fragment molecules."""
    score = REWARDS.get(name)

    def scores(smiles: list[str]) -> np.ndarray:
        from rdkit import rdBase

        out = np.zeros(len(smiles), dtype=np.float32)
        with rdBase.BlockLogs():
            for i, s in enumerate(smiles):
                mol = Chem.MolFromSmiles(s) if s and "." not in s else None
                if mol is not None and mol.GetNumAtoms():
                    out[i] = min(max(score(mol), 0.0), 1.0)
        return out

    return scores
