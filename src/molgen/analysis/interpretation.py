"""Atom-level explanations of molecule property models: integrated gradients and atom masking.

Both methods explain the members' mean prediction (user units; a probability for binary and multilabel
tasks) of one molecule at a time, as one score per heavy atom:

- ``ig``: integrated gradients (`Sundararajan et al. 2017 <https://arxiv.org/abs/1703.01365>`_, Captum's
  :class:`~captum.attr.IntegratedGradients`) from the baseline "every atom and bond feature zero" (same graph,
  same molecule-level descriptors) to the molecule's features. The attributions of an atom's feature vector
  are summed into its score; for encoders that read bond features (all but GCN) each directed bond's
  attribution is split equally between its two atoms. The scores then add up, up to the integral's
  approximation error, to ``prediction − baseline`` (completeness), where ``baseline`` is the prediction for
  the all-zero features.
- ``masking``: for each atom ``i``, ``Δ_i = f(x) − f(x with atom i masked)``, where masking sets the atom's
  features and the features of its bonds to zero (the connectivity is kept). Model-agnostic and exact: one
  forward pass per atom, no approximation, but the deltas need not add up to anything.

:func:`interpret_frame` runs either method over a table; :mod:`molgen.analysis.interpretation_output` writes
the tables, the similarity maps and the substructure summary.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from molgen.analysis.prediction import LoadedModel, load_model
from molgen.chem.featurize.packed_graphs import PackedGraphs
from molgen.errors import ConfigError, InvalidInputError, UnknownNameError
from molgen.evaluation.supervised import MULTICLASS

METHODS = ("ig", "masking")
SUPPORTED_FAMILIES = ("property",)


@dataclasses.dataclass
class MoleculeExplanation:
    """The explanation of one molecule for the explained targets ``T``.

    Attributes:
        prediction: ``[T]`` the members' mean prediction.
        atoms: ``[A, T]`` one score per heavy atom (RDKit atom order of the featurized molecule).
        baseline: ``[T]`` prediction at the all-zero features (``ig``), else None.
    """

    prediction: np.ndarray
    atoms: np.ndarray
    baseline: np.ndarray | None = None


@dataclasses.dataclass
class Interpretation:
    """Explanations of a table: one entry per input row (None where the row is invalid).

    Attributes:
        targets: the explained target names ``T``.
        method: ``ig`` or ``masking``.
        smiles: the input of each row.
        mols: the RDKit molecule each valid row's atoms refer to (after the model's standardization).
        explanations: per row, a :class:`MoleculeExplanation` or None.
        reasons: ``{row: why it was not explained}``.
    """

    targets: list[str]
    method: str
    smiles: list[Any]
    mols: list[Any]
    explanations: list[MoleculeExplanation | None]
    reasons: dict[int, str]


def load_property_model(path: str | Path) -> LoadedModel:
    """Loads a model folder (or a run folder) that ``molgen interpret`` can explain; a DNA model, a generator or a
    multiclass model is refused with a :class:`ConfigError` naming what is supported."""
    from molgen.training.artifacts import MODEL_DIR, SPEC_FILE, read_spec

    folder = Path(path)
    if not (folder / SPEC_FILE).is_file() and (folder / MODEL_DIR / SPEC_FILE).is_file():
        folder = folder / MODEL_DIR
    if (folder / SPEC_FILE).is_file():  # else load_model says what is missing
        spec = read_spec(folder)
        if spec.family not in SUPPORTED_FAMILIES:
            hint = " (for DNA models use `molgen attribute`)" if spec.family == "expression" else ""
            raise ConfigError(
                f"molgen interpret explains molecule property models (supported families: "
                f"{', '.join(SUPPORTED_FAMILIES)}); {path} is a {spec.family!r} model{hint}"
            )
        if spec.task is not None and spec.task.type == MULTICLASS:
            raise ConfigError(
                "molgen interpret explains regression, binary and multilabel models; "
                f"{path} is a multiclass model (not supported yet)"
            )
    return load_model(path)


def target_indices(model: LoadedModel, target: str | None) -> list[int]:
    """Positions of the explained targets: ``target`` alone, or every target of the model."""
    names = model.targets
    if target is None:
        return list(range(len(names)))
    if target not in names:
        raise UnknownNameError(f"unknown target {target!r}; this model predicts: {', '.join(names)}")
    return [names.index(target)]


class GraphFunction:
    """The members' mean prediction as a function of one molecule's atom and bond features.

    Args:
        members: the model's predictors (eval mode).
        graphs: featurized molecules.
        index: which molecule of ``graphs``.

    Shapes:
        ``x [K, A, atom_dim]``, ``edges [K, E, bond_dim]`` (K copies of the molecule) → ``[K, T_model]``.
    """

    def __init__(self, members: Sequence[torch.nn.Module], graphs: PackedGraphs, index: int) -> None:
        self.members, self.graphs, self.index = list(members), graphs, index
        self.atoms = slice(int(graphs.atom_ptr[index]), int(graphs.atom_ptr[index + 1]))
        self.edges = slice(int(graphs.edge_ptr[index]), int(graphs.edge_ptr[index + 1]))
        self.edge_index = torch.from_numpy(graphs.edge_index[:, self.edges])  # [2, E] molecule-local
        self.uses_bonds = self.edges.stop > self.edges.start and all(_uses_bond_features(m) for m in self.members)

    @property
    def x(self) -> torch.Tensor:
        """``[1, A, atom_dim]`` the molecule's atom features."""
        return torch.from_numpy(self.graphs.atom_features[self.atoms]).unsqueeze(0)

    @property
    def e(self) -> torch.Tensor:
        """``[1, E, bond_dim]`` the features of its directed bonds."""
        return torch.from_numpy(self.graphs.bond_features[self.edges]).unsqueeze(0)

    def __call__(self, x: torch.Tensor, edges: torch.Tensor | None = None) -> torch.Tensor:
        copies = x.shape[0]
        batch = self.graphs.collate(np.full(copies, self.index))
        batch.x = x.reshape(-1, x.shape[-1])
        if edges is not None:
            batch.edge_attr = edges.reshape(-1, edges.shape[-1])
        out = torch.stack([member(batch) for member in self.members]).mean(0)
        if out.dim() != 2:
            raise ConfigError(f"molgen interpret needs one output per target, got shape {list(out.shape)}")
        return out


def _uses_bond_features(member: torch.nn.Module) -> bool:
    from molgen.models.graph.base import GraphEncoder

    encoders = [module for module in member.modules() if isinstance(module, GraphEncoder)]
    return any(encoder.uses_edge_attr for encoder in encoders)


def integrated_gradients(function: GraphFunction, targets: Sequence[int], n_steps: int = 50) -> MoleculeExplanation:
    """Integrated gradients of each target from the all-zero features (see the module docstring)."""
    from captum.attr import IntegratedGradients

    inputs: tuple[torch.Tensor, ...] = (function.x, function.e) if function.uses_bonds else (function.x,)
    baselines = tuple(torch.zeros_like(tensor) for tensor in inputs)
    with torch.no_grad():
        prediction = function(*inputs)[0].numpy()
        baseline = function(*baselines)[0].numpy()
    explainer = IntegratedGradients(function)
    scores = []
    for target in targets:
        attributions = explainer.attribute(inputs, baselines=baselines, target=target, n_steps=n_steps)
        scores.append(_atom_scores(function, attributions))
    return MoleculeExplanation(prediction[list(targets)], np.stack(scores, axis=1), baseline[list(targets)])


def _atom_scores(function: GraphFunction, attributions: tuple[torch.Tensor, ...]) -> np.ndarray:
    """``[A]``: each atom's feature attributions summed, plus half of each of its directed bonds' (both ends)."""
    scores = attributions[0][0].sum(-1).detach().double()
    if len(attributions) > 1:
        bonds = attributions[1][0].sum(-1).detach().double() / 2
        scores = scores.index_add(0, function.edge_index[0], bonds).index_add(0, function.edge_index[1], bonds)
    return scores.numpy()


@torch.no_grad()
def atom_masking(function: GraphFunction, targets: Sequence[int], batch_size: int = 64) -> MoleculeExplanation:
    """``Δ_i = f(x) − f(x with atom i and its bonds' features zeroed)`` for every atom ``i``."""
    x, e = function.x, function.e
    n_atoms = x.shape[1]
    src, dst = function.edge_index
    prediction = function(x, e)[0]
    deltas = []
    for start in range(0, n_atoms, batch_size):
        masked = torch.arange(start, min(start + batch_size, n_atoms))
        xs = x.repeat(len(masked), 1, 1)
        xs[torch.arange(len(masked)), masked] = 0.0
        es = e.repeat(len(masked), 1, 1)
        es[(src[None, :] == masked[:, None]) | (dst[None, :] == masked[:, None])] = 0.0
        deltas.append(prediction[None, :] - function(xs, es))
    atoms = torch.cat(deltas)[:, list(targets)] if deltas else torch.zeros(0, len(targets))
    return MoleculeExplanation(prediction[list(targets)].numpy(), atoms.double().numpy())


def explain(
    members: Sequence[torch.nn.Module], graphs: PackedGraphs, index: int, targets: Sequence[int], method: str, **options
) -> MoleculeExplanation:
    """One molecule of ``graphs`` explained by ``method`` (``ig``: ``n_steps``; ``masking``: ``batch_size``)."""
    function = GraphFunction(members, graphs, index)
    if method == "ig":
        return integrated_gradients(function, targets, **options)
    if method == "masking":
        return atom_masking(function, targets, **options)
    raise UnknownNameError(f"unknown method {method!r}; valid methods: {', '.join(METHODS)}")


def interpret_frame(
    model: LoadedModel,
    frame: pd.DataFrame,
    column: str,
    *,
    method: str = "ig",
    target: str | None = None,
    n_steps: int = 50,
) -> Interpretation:
    """Explains every valid molecule of ``frame[column]`` (one entry per row; invalid rows get a reason)."""
    from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles

    if method not in METHODS:
        raise UnknownNameError(f"unknown method {method!r}; valid methods: {', '.join(METHODS)}")
    if n_steps < 1:
        raise ConfigError(f"--n-steps must be positive, got {n_steps}")
    if column not in frame.columns:
        raise InvalidInputError(
            f"SMILES column {column!r} not in the input; columns: {', '.join(map(str, frame.columns))} "
            "(use --input-column)"
        )
    assert model.spec.featurizer is not None
    indices = target_indices(model, target)
    featurizer = FeaturizerSpec.from_dict(model.spec.featurizer)
    smiles = frame[column].tolist()
    featurized = featurize_smiles(smiles, featurizer, n_jobs=1)
    reasons = {bad.index: f"{bad.reason}: {bad.smiles!r}" for bad in featurized.invalid}
    explanations: list[MoleculeExplanation | None] = [None] * len(frame)
    mols: list[Any] = [None] * len(frame)
    for member in model.members:
        member.eval()
    options = {"n_steps": n_steps} if method == "ig" else {}
    for position, row in enumerate(featurized.valid_index.tolist()):
        explanation = explain(model.members, featurized.graphs, position, indices, method, **options)
        if not np.isfinite(explanation.prediction).all():
            reasons[row] = "non-finite prediction (NaN or infinity)"
            continue
        mol = _explained_mol(smiles[row], featurizer.standardize)
        if mol.GetNumAtoms() != len(explanation.atoms):
            raise RuntimeError(f"row {row}: {mol.GetNumAtoms()} atoms but {len(explanation.atoms)} atom scores")
        explanations[row], mols[row] = explanation, mol
    names = model.targets
    return Interpretation([names[i] for i in indices], method, smiles, mols, explanations, reasons)


def _explained_mol(smiles: str, standardize: str) -> Any:
    """The RDKit molecule the featurizer built for ``smiles`` (same parse, same standardization)."""
    from molgen.chem.molecules import parse_smiles
    from molgen.chem.standardize import standardize_mol

    mol, reason = parse_smiles(smiles)
    if mol is not None:
        mol, reason = standardize_mol(mol, standardize)
    if mol is None:
        raise RuntimeError(f"{smiles!r} was featurized but does not parse again: {reason}")
    return mol
