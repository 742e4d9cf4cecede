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
ATOMS_PER_CALL = 256
"""Molecules are explained in groups of about this many atoms (``ig``: times ``n_steps`` copies; ``masking``:
each molecule times its atom count)."""


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
        if spec.model is not None and spec.model.get("name") == "fpmlp":
            raise ConfigError(
                f"molgen interpret explains graph models atom by atom; {path} is an fpmlp model (Morgan count "
                "fingerprints), whose inputs are hashed fragments, not atoms"
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
    """The members' mean prediction as a function of the atom and bond features of a few molecules.

    Args:
        members: the model's predictors (eval mode).
        graphs: featurized molecules.
        indices: which molecules of ``graphs`` (``[n]``).

    Shapes:
        ``x [K, A, atom_dim]``, ``edges [K, E, bond_dim]`` (K copies of the ``n`` molecules' ``A`` atoms and ``E``
        directed bonds) → ``[K, n, T_model]``.
    """

    def __init__(
        self, members: Sequence[torch.nn.Module], graphs: PackedGraphs, indices: Sequence[int] | np.ndarray
    ) -> None:
        self.members = list(members)
        self.graphs = graphs.subset(indices)
        offsets = np.repeat(self.graphs.atom_ptr[:-1], self.graphs.num_edges)
        self.edge_index = torch.from_numpy(self.graphs.edge_index + offsets)  # [2, E], atoms of the n molecules
        self.uses_bonds = len(self.graphs.bond_features) > 0 and all(_uses_bond_features(m) for m in self.members)

    @property
    def x(self) -> torch.Tensor:
        """``[1, A, atom_dim]`` the molecules' atom features."""
        return torch.from_numpy(self.graphs.atom_features).unsqueeze(0)

    @property
    def e(self) -> torch.Tensor:
        """``[1, E, bond_dim]`` the features of their directed bonds."""
        return torch.from_numpy(self.graphs.bond_features).unsqueeze(0)

    def __call__(self, x: torch.Tensor, edges: torch.Tensor | None = None) -> torch.Tensor:
        copies, n = x.shape[0], len(self.graphs)
        batch = self.graphs.collate(np.tile(np.arange(n), copies))
        batch.x = x.reshape(-1, x.shape[-1])
        if edges is not None:
            batch.edge_attr = edges.reshape(-1, edges.shape[-1])
        out = torch.stack([member(batch) for member in self.members]).mean(0)
        if out.dim() != 2:
            raise ConfigError(f"molgen interpret needs one output per target, got shape {list(out.shape)}")
        return out.view(copies, n, -1)

    def split(self, scores: torch.Tensor) -> list[np.ndarray]:
        """Per-atom ``scores [A, ...]`` cut into one array per molecule."""
        return [part.numpy() for part in torch.split(scores, self.graphs.num_atoms.tolist())]


def _uses_bond_features(member: torch.nn.Module) -> bool:
    from molgen.models.graph.base import GraphEncoder

    encoders = [module for module in member.modules() if isinstance(module, GraphEncoder)]
    return any(encoder.uses_edge_attr for encoder in encoders)


def integrated_gradients(
    function: GraphFunction, targets: Sequence[int], n_steps: int = 50
) -> list[MoleculeExplanation]:
    """Integrated gradients of each target from the all-zero features, one explanation per molecule.

    The molecules go through Captum together: the explained output is the sum of their predictions, whose
    gradient with respect to one molecule's features is that of its own prediction (eval mode: molecules in a
    batch do not interact), so each molecule gets exactly its own attributions.
    """
    from captum.attr import IntegratedGradients

    inputs: tuple[torch.Tensor, ...] = (function.x, function.e) if function.uses_bonds else (function.x,)
    baselines = tuple(torch.zeros_like(tensor) for tensor in inputs)
    with torch.no_grad():
        prediction = function(*inputs)[0][:, list(targets)].numpy()  # [n, T]
        baseline = function(*baselines)[0][:, list(targets)].numpy()
    explainer = IntegratedGradients(lambda *features: function(*features).sum(1))
    scores = []
    for target in targets:
        attributions = explainer.attribute(inputs, baselines=baselines, target=target, n_steps=n_steps)
        scores.append(_atom_scores(function, attributions))
    atoms = function.split(torch.stack(scores, dim=1))
    return [MoleculeExplanation(prediction[i], atoms[i], baseline[i]) for i in range(len(atoms))]


def _atom_scores(function: GraphFunction, attributions: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """``[A]``: each atom's feature attributions summed, plus half of each of its directed bonds' (both ends)."""
    scores = attributions[0][0].sum(-1).detach().double()
    if len(attributions) > 1:
        bonds = attributions[1][0].sum(-1).detach().double() / 2
        scores = scores.index_add(0, function.edge_index[0], bonds).index_add(0, function.edge_index[1], bonds)
    return scores


@torch.no_grad()
def atom_masking(function: GraphFunction, targets: Sequence[int]) -> list[MoleculeExplanation]:
    """``Δ_i = f(x) − f(x with atom i and its bonds' features zeroed)`` for every atom ``i`` of each molecule.

    One forward pass for all: molecule ``j`` with ``a_j`` atoms goes in ``a_j + 1`` copies, the first unmasked.
    """
    graphs = function.graphs
    counts = graphs.num_atoms
    batch = graphs.collate(np.repeat(np.arange(len(graphs)), counts + 1))
    masked = np.concatenate([np.arange(-1, count) for count in counts.tolist()])  # per copy: its masked atom
    ptr = batch.ptr.numpy()[:-1]
    target_atom = torch.from_numpy(np.where(masked >= 0, ptr + masked, -1))  # [copies] batch row, or -1
    x, edges = batch.x.clone(), batch.edge_attr.clone()
    x[target_atom[target_atom >= 0]] = 0.0
    edges_per_copy = np.repeat(graphs.num_edges, counts + 1)
    atom_of_edge = target_atom[torch.from_numpy(np.repeat(np.arange(len(masked)), edges_per_copy))]
    edges[(batch.edge_index[0] == atom_of_edge) | (batch.edge_index[1] == atom_of_edge)] = 0.0
    batch.x, batch.edge_attr = x, edges
    out = torch.stack([member(batch) for member in function.members]).mean(0)[:, list(targets)].double()
    explanations = []
    for first, count in zip(np.cumsum(counts + 1) - (counts + 1), counts.tolist()):
        prediction = out[first]
        deltas = prediction[None, :] - out[first + 1 : first + 1 + count]
        explanations.append(MoleculeExplanation(prediction.numpy(), deltas.numpy()))
    return explanations


def explain(
    members: Sequence[torch.nn.Module],
    graphs: PackedGraphs,
    indices: Sequence[int] | np.ndarray,
    targets: Sequence[int],
    method: str,
    **options: Any,
) -> list[MoleculeExplanation]:
    """Molecules ``indices`` of ``graphs`` explained by ``method`` (option for ``ig``: ``n_steps``), one
    explanation per molecule."""
    function = GraphFunction(members, graphs, indices)
    if method == "ig":
        return integrated_gradients(function, targets, **options)
    if method == "masking":
        return atom_masking(function, targets, **options)
    raise UnknownNameError(f"unknown method {method!r}; valid methods: {', '.join(METHODS)}")


def chunks(num_atoms: np.ndarray, max_atoms: int) -> list[np.ndarray]:
    """Consecutive molecule indices in groups of at most ``max_atoms`` atoms (a larger molecule goes alone)."""
    groups: list[np.ndarray] = []
    start, total = 0, 0
    for i, count in enumerate(num_atoms.tolist()):
        if i > start and total + count > max_atoms:
            groups.append(np.arange(start, i))
            start, total = i, 0
        total += count
    if start < len(num_atoms):
        groups.append(np.arange(start, len(num_atoms)))
    return groups


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
    valid_index = featurized.valid_index.tolist()
    explained: list[MoleculeExplanation] = []
    for group in chunks(featurized.graphs.num_atoms, ATOMS_PER_CALL):
        explained += explain(model.members, featurized.graphs, group, indices, method, **options)
    for row, explanation in zip(valid_index, explained):
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
