"""Property-guided generation: a seeded evolutionary search in the latent space of a trained VAE.

An objective scores SMILES: an RDKit score (``qed``, ``logp``, ``sa`` — lower SA is better —, ``mw``) or a
molgen property model (``MODEL_DIR`` or ``MODEL_DIR:target``). The search starts from latent codes drawn from the
prior, keeps the best distinct valid molecules (elites), and proposes children ``z_elite + σ·ε`` with a step size
σ that shrinks every round; each candidate is decoded (greedily) and scored. The result is the ``n`` best
distinct molecules found, next to the score distribution of plain samples from the same model (before).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from molgen.errors import ConfigError, InvalidInputError, UnknownNameError
from molgen.models.generative import LatentGenerator

log = logging.getLogger("molgen")

DIRECTIONS = ("auto", "maximize", "minimize")
LOWER_IS_BETTER = frozenset({"sa"})
"""RDKit scores minimized by default."""


@dataclasses.dataclass
class Objective:
    """Scores SMILES; ``score`` returns float64 ``[N]`` with NaN for invalid molecules.

    Attributes:
        name: ``qed`` … or ``MODEL_DIR:target``.
        maximize: higher is better.
    """

    name: str
    score: Callable[[Sequence[str]], np.ndarray]
    maximize: bool = True


def build_objective(spec: str, direction: str = "auto") -> Objective:
    """``qed`` | ``logp`` | ``sa`` | ``mw`` | ``MODEL_DIR[:target]`` → an :class:`Objective`.

    Args:
        direction: ``auto`` (SA is minimized, everything else maximized), ``maximize`` or ``minimize``.
    """
    if direction not in DIRECTIONS:
        raise UnknownNameError(f"unknown direction {direction!r}; valid directions: {', '.join(DIRECTIONS)}")
    from molgen.chem.scores import SCORES

    if spec in SCORES:
        fn = SCORES.get(spec)
        maximize = spec not in LOWER_IS_BETTER
        score = lambda smiles: _rdkit_scores(smiles, fn)  # noqa: E731
    else:
        path, target = _model_and_target(spec)
        score = _model_scorer(path, target)
        spec, maximize = f"{path}:{score.target}", True  # type: ignore[attr-defined]
    if direction != "auto":
        maximize = direction == "maximize"
    return Objective(spec, score, maximize)


def _rdkit_scores(smiles: Sequence[str], fn: Callable[[Any], float]) -> np.ndarray:
    from molgen.chem.molecules import iter_molecules

    out = np.full(len(smiles), np.nan)
    for i, mol, _ in iter_molecules(smiles):
        if mol is not None:
            out[i] = fn(mol)
    return out


def _model_and_target(spec: str) -> tuple[Path, str | None]:
    path = Path(spec)
    if path.exists():
        return path, None
    head, sep, target = spec.rpartition(":")
    if sep and Path(head).exists():
        return Path(head), target
    from molgen.chem.scores import SCORES

    raise UnknownNameError(
        f"unknown objective {spec!r}: use one of {', '.join(SCORES.names())} or a molgen property model folder "
        "(MODEL_DIR or MODEL_DIR:target)"
    )


def _model_scorer(path: Path, target: str | None) -> Callable[[Sequence[str]], np.ndarray]:
    import pandas as pd

    from molgen.analysis.prediction import load_model, predict_frame

    model = load_model(path)
    if model.spec.family != "property" or model.spec.task is None:
        raise InvalidInputError(
            f"{path}: objective models must be molgen property models, got family {model.spec.family!r}"
        )
    targets = model.targets
    if target is None:
        if len(targets) != 1:
            raise InvalidInputError(
                f"{path} predicts {len(targets)} targets; pick one with {path}:TARGET ({', '.join(targets)})"
            )
        target = targets[0]
    if target not in targets:
        raise UnknownNameError(f"{path} has no target {target!r}; its targets: {', '.join(targets)}")
    if model.spec.task.type == "multiclass":
        raise InvalidInputError(f"{path} is a multiclass model; latent optimization needs one number per molecule")

    def score(smiles: Sequence[str]) -> np.ndarray:
        frame = pd.DataFrame({"smiles": list(smiles)})
        out = predict_frame(model, frame, input_column="smiles", n_jobs=1)
        column = target if target in out.columns and target != "smiles" else f"{target}_pred"
        values = out[column].to_numpy(dtype=float)
        values[~out["valid"].to_numpy(dtype=bool)] = np.nan
        return values

    score.target = target  # type: ignore[attr-defined]
    return score


@dataclasses.dataclass
class OptimizationResult:
    """Molecules found (best first) and the score distributions before and after."""

    smiles: list[str]
    scores: np.ndarray
    before: np.ndarray
    """Scores of plain samples (NaN = invalid)."""
    objective: str
    maximize: bool
    n_evaluated: int
    history: list[float]
    """Mean score of the elites after each round."""

    def summary(self) -> dict[str, Any]:
        """``before``/``after`` statistics (mean, median, 90th percentile — 10th when minimizing —, validity)."""
        return {
            "objective": self.objective,
            "direction": "maximize" if self.maximize else "minimize",
            "before": describe_scores(self.before, self.maximize),
            "after": describe_scores(self.scores, self.maximize),
            "n_evaluated": self.n_evaluated,
            "elite_mean_per_round": self.history,
        }


def describe_scores(scores: np.ndarray, maximize: bool = True) -> dict[str, float]:
    """Mean, median, 90th percentile (the best decile's edge: the 10th when minimizing) of the valid scores."""
    valid = scores[np.isfinite(scores)]
    best_q = 90 if maximize else 10
    if not valid.size:
        return {"n": int(scores.size), "valid": 0.0, "mean": math.nan, "median": math.nan, f"p{best_q}": math.nan}
    return {
        "n": int(scores.size),
        "valid": float(valid.size / max(scores.size, 1)),
        "mean": float(valid.mean()),
        "median": float(np.median(valid)),
        f"p{best_q}": float(np.percentile(valid, best_q)),
    }


def optimize_latent(
    generator: LatentGenerator,
    objective: Objective,
    n: int,
    *,
    seed: int = 0,
    rounds: int = 10,
    population: int | None = None,
    elite_fraction: float = 0.2,
    sigma: float = 0.5,
    decay: float = 0.85,
    batch_size: int = 512,
    n_before: int | None = None,
) -> OptimizationResult:
    """Searches the VAE's latent space for the ``n`` best distinct valid molecules.

    Args:
        n: molecules to return (fewer when the search finds fewer distinct valid ones; a warning says so).
        rounds: proposal rounds after the initial population.
        population: candidates per round (default ``max(2n, 256)``).
        elite_fraction: share of the best distinct molecules that parent the next round.
        sigma: initial mutation step in latent units.
        decay: factor the mutation step is multiplied by every round.
        n_before: plain samples scored for the "before" distribution (default ``n``).
    """
    if n < 1:
        raise ConfigError(f"n must be at least 1, got {n}")
    rng = np.random.default_rng(seed)
    population = population or max(2 * n, 256)
    sign = 1.0 if objective.maximize else -1.0
    before = objective.score(generator.sample(n_before or n, seed=seed, batch_size=batch_size))
    best: dict[str, tuple[float, np.ndarray]] = {}  # canonical SMILES → (signed score, latent code)
    evaluated = 0

    def evaluate(z: np.ndarray) -> None:
        nonlocal evaluated
        smiles = generator.decode(z.astype(np.float32), batch_size=batch_size)
        canonical = _canonical(smiles)
        scores = objective.score([c or "" for c in canonical])
        evaluated += len(z)
        for code, smi, value in zip(z, canonical, scores):
            if smi and np.isfinite(value) and (smi not in best or sign * value > best[smi][0]):
                best[smi] = (sign * float(value), code)

    evaluate(rng.standard_normal((population, generator.latent_dim)))
    history = []
    for _ in range(rounds):
        if not best:
            evaluate(rng.standard_normal((population, generator.latent_dim)))
            continue
        ranked = sorted(best.values(), key=lambda item: -item[0])
        elites = np.stack([code for _, code in ranked[: max(int(len(ranked) * elite_fraction), min(len(ranked), 8))]])
        history.append(float(sign * np.mean([value for value, _ in ranked[: len(elites)]])))
        parents = elites[rng.integers(len(elites), size=population)]
        evaluate(parents + sigma * rng.standard_normal(parents.shape))
        sigma *= decay
    top = sorted(best.items(), key=lambda item: -item[1][0])[:n]
    if len(top) < n:
        log.warning("the search found %d distinct valid molecules, fewer than the %d asked for", len(top), n)
    return OptimizationResult(
        smiles=[smi for smi, _ in top],
        scores=np.array([sign * value for _, (value, _) in top]),
        before=before,
        objective=objective.name,
        maximize=objective.maximize,
        n_evaluated=evaluated,
        history=history,
    )


def _canonical(smiles: Sequence[str]) -> list[str | None]:
    from rdkit import Chem

    from molgen.chem.molecules import iter_molecules

    return [None if mol is None else Chem.MolToSmiles(mol) for _, mol, _ in iter_molecules(smiles)]
