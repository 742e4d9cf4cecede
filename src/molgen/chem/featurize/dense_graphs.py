"""Small molecules ↔ dense graph tensors, as MolGAN uses them (De Cao & Kipf 2018, arXiv:1805.11973).

A molecule of at most ``N`` heavy atoms becomes two integer arrays:

- ``atoms`` ``[N]``: the type index of each node, ``0`` for an empty node, ``1..T-1`` for
  ``spec.atom_types`` (QM9: C N O F, so ``T = 5``);
- ``bonds`` ``[N, N]``: symmetric, ``0`` for no bond, ``1..E-1`` for ``spec.bond_types``
  (single, double, triple, aromatic, so ``E = 5``); the diagonal is 0.

Molecules are kekulized before encoding (so the aromatic channel stays empty unless
``kekulize=False``), hydrogens are implicit, and stereochemistry is dropped: a molecule's identity in this
representation is its non-isomeric canonical SMILES. Formal charges cannot be represented, so charged
molecules are skipped like molecules with too many atoms or other elements: each skip is recorded with its
input position and reason.

The decoder is the inverse: nodes of type 0 and bonds touching them are ignored, the rest becomes an RDKit
molecule that must sanitize; it returns the canonical SMILES (``"."`` separates disconnected fragments) or
``""`` when no valid molecule results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rdkit import Chem, rdBase

from molgen.chem.molecules import iter_molecules
from molgen.errors import ConfigError

__all__ = ["DenseGraphSpec", "DenseGraphs", "SkippedMolecule", "decode_graphs", "encode_smiles", "is_connected"]

_BOND_TYPES = {
    "single": Chem.BondType.SINGLE,
    "double": Chem.BondType.DOUBLE,
    "triple": Chem.BondType.TRIPLE,
    "aromatic": Chem.BondType.AROMATIC,
}


@dataclass(frozen=True)
class DenseGraphSpec:
    """What a dense graph can hold.

    Attributes:
        max_atoms: ``N``, the number of nodes (QM9: 9 heavy atoms).
        atom_types: element symbols of node types ``1..``; type 0 is "empty".
        bond_types: names of edge types ``1..`` (single | double | triple | aromatic); type 0 is "no bond".
        kekulize: encode aromatic rings as alternating single/double bonds (the default, as MolGAN trains).
            Without it aromatic bonds get their own channel, but an aromatic ``[nH]`` cannot be told apart
            from ``n`` (hydrogens are implicit), so such molecules decode as invalid.
    """

    max_atoms: int = 9
    atom_types: tuple[str, ...] = ("C", "N", "O", "F")
    bond_types: tuple[str, ...] = ("single", "double", "triple", "aromatic")
    kekulize: bool = True

    def __post_init__(self) -> None:
        if self.max_atoms < 1:
            raise ConfigError(f"max_atoms must be at least 1, got {self.max_atoms}")
        if not self.atom_types:
            raise ConfigError("atom_types must name at least one element")
        table = Chem.GetPeriodicTable()
        for symbol in self.atom_types:
            try:
                table.GetAtomicNumber(symbol)
            except RuntimeError:
                raise ConfigError(f"atom_types: {symbol!r} is not an element symbol") from None
        unknown = [b for b in self.bond_types if b not in _BOND_TYPES]
        if unknown or not self.bond_types:
            raise ConfigError(f"bond_types: unknown {unknown or '(empty)'}; valid names: {', '.join(_BOND_TYPES)}")

    @property
    def n_atom_types(self) -> int:
        """``T``: node types including "empty"."""
        return len(self.atom_types) + 1

    @property
    def n_bond_types(self) -> int:
        """``E``: edge types including "no bond"."""
        return len(self.bond_types) + 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_atoms": self.max_atoms,
            "atom_types": list(self.atom_types),
            "bond_types": list(self.bond_types),
            "kekulize": self.kekulize,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DenseGraphSpec:
        return cls(
            max_atoms=int(values["max_atoms"]),
            atom_types=tuple(values["atom_types"]),
            bond_types=tuple(values["bond_types"]),
            kekulize=bool(values["kekulize"]),
        )


@dataclass(frozen=True)
class SkippedMolecule:
    """An input that was not encoded: its 0-based position, the input and why."""

    index: int
    smiles: str
    reason: str


@dataclass
class DenseGraphs:
    """Encoded molecules; row ``i`` came from input ``source_index[i]``.

    Attributes:
        atoms: int64 ``[M, N]`` node types.
        bonds: int64 ``[M, N, N]`` symmetric edge types.
        smiles: non-isomeric canonical SMILES of each encoded molecule (what decoding gives back).
        source_index: int64 ``[M]`` input positions.
        skipped: inputs that could not be encoded, in input order.
    """

    atoms: np.ndarray
    bonds: np.ndarray
    smiles: list[str]
    source_index: np.ndarray
    skipped: list[SkippedMolecule] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.atoms)


def encode_smiles(smiles: Sequence[Any], spec: DenseGraphSpec) -> DenseGraphs:
    """Encodes SMILES as dense graphs; unparseable, too large or unsupported molecules are skipped.

    Args:
        smiles: input SMILES (anything unparseable is recorded in ``skipped``).
        spec: what the graphs can hold.
    """
    n = spec.max_atoms
    atom_index = {symbol: i + 1 for i, symbol in enumerate(spec.atom_types)}
    bond_index = {_BOND_TYPES[name]: i + 1 for i, name in enumerate(spec.bond_types)}
    atoms = np.zeros((len(smiles), n), dtype=np.int64)
    bonds = np.zeros((len(smiles), n, n), dtype=np.int64)
    kept: list[int] = []
    canonical: list[str] = []
    skipped: list[SkippedMolecule] = []
    for index, mol, invalid in iter_molecules(smiles):
        if invalid is not None:
            skipped.append(SkippedMolecule(index, invalid.smiles, invalid.reason))
            continue
        assert mol is not None, "iter_molecules yields a molecule for every input without a record"
        reason = _unsupported(mol, spec, atom_index)
        identity = Chem.MolToSmiles(mol, isomericSmiles=False) if reason is None else ""
        if reason is None and spec.kekulize:
            try:
                Chem.Kekulize(mol, clearAromaticFlags=True)
            except Chem.KekulizeException as err:
                reason = f"cannot be kekulized ({err})"
        if reason is None:
            row = len(kept)
            types = [atom_index[a.GetSymbol()] for a in mol.GetAtoms()]
            atoms[row, : len(types)] = types
            edges = [
                (b.GetBeginAtomIdx(), b.GetEndAtomIdx(), bond_index.get(b.GetBondType(), 0)) for b in mol.GetBonds()
            ]
            if edges:
                begin, end, kind = np.array(edges, dtype=np.int64).T
                if (kind == 0).any():
                    reason = "has a bond type outside bond_types " + ", ".join(spec.bond_types)
                else:
                    bonds[row, begin, end] = kind
                    bonds[row, end, begin] = kind
        if reason is not None:
            atoms[len(kept)] = 0
            bonds[len(kept)] = 0
            skipped.append(SkippedMolecule(index, str(smiles[index]), reason))
            continue
        kept.append(index)
        canonical.append(identity)
    m = len(kept)
    return DenseGraphs(atoms[:m].copy(), bonds[:m].copy(), canonical, np.array(kept, dtype=np.int64), skipped)


def _unsupported(mol: Chem.Mol, spec: DenseGraphSpec, atom_index: dict[str, int]) -> str | None:
    """Why ``mol`` does not fit ``spec``, or None."""
    if mol.GetNumAtoms() > spec.max_atoms:
        return f"{mol.GetNumAtoms()} heavy atoms (max_atoms is {spec.max_atoms})"
    for atom in mol.GetAtoms():
        if atom.GetSymbol() not in atom_index:
            return f"element {atom.GetSymbol()} not in atom_types {', '.join(spec.atom_types)}"
        if atom.GetFormalCharge() != 0:
            return f"charged atom {atom.GetSymbol()}{atom.GetFormalCharge():+d} (charges are not represented)"
        if atom.GetNumRadicalElectrons():
            return f"radical on atom {atom.GetSymbol()} (radicals are not represented)"
    return None


def decode_graphs(atoms: np.ndarray, bonds: np.ndarray, spec: DenseGraphSpec) -> list[str]:
    """Builds molecules from node and edge type indices (e.g. argmax of a generator's outputs).

    Args:
        atoms: int ``[B, N]`` node types (0 = empty).
        bonds: int ``[B, N, N]`` edge types (0 = no bond); only the upper triangle is read.
        spec: the spec the indices refer to.

    Returns:
        ``B`` strings: the canonical SMILES of each molecule, or ``""`` when it has no atoms or does not
        sanitize (e.g. a valence violation). Disconnected graphs give fragments joined by ``"."``.
    """
    atoms, bonds = np.asarray(atoms), np.asarray(bonds)
    if atoms.ndim != 2 or bonds.shape != (*atoms.shape, atoms.shape[1]):
        raise ValueError(f"expected atoms [B, N] and bonds [B, N, N], got {atoms.shape} and {bonds.shape}")
    symbols = ("", *spec.atom_types)
    kinds = (None, *(_BOND_TYPES[name] for name in spec.bond_types))
    n = atoms.shape[1]
    present = atoms > 0
    # Node indices of each molecule after dropping empty nodes; bonds touching an empty node are ignored.
    new_index = np.cumsum(present, axis=1) - 1
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    keep = (bonds > 0) & upper & present[:, :, None] & present[:, None, :]
    mol_of_bond, begin, end = np.nonzero(keep)
    bond_kind = bonds[mol_of_bond, begin, end]
    begin, end = new_index[mol_of_bond, begin], new_index[mol_of_bond, end]
    bond_start = np.searchsorted(mol_of_bond, np.arange(len(atoms) + 1))
    out: list[str] = []
    with rdBase.BlockLogs():
        for row in range(len(atoms)):
            types = atoms[row][present[row]]
            if types.size == 0:
                out.append("")
                continue
            mol = Chem.RWMol()
            for t in types:
                mol.AddAtom(Chem.Atom(symbols[t]))
            lo, hi = bond_start[row], bond_start[row + 1]
            for b, e, k in zip(begin[lo:hi].tolist(), end[lo:hi].tolist(), bond_kind[lo:hi].tolist()):
                mol.AddBond(b, e, kinds[k])
                if kinds[k] == Chem.BondType.AROMATIC:
                    mol.GetAtomWithIdx(b).SetIsAromatic(True)
                    mol.GetAtomWithIdx(e).SetIsAromatic(True)
            out.append(_sanitized_smiles(mol))
    return out


def _sanitized_smiles(mol: Chem.RWMol) -> str:
    try:
        Chem.SanitizeMol(mol)
    except (Chem.rdchem.MolSanitizeException, ValueError, RuntimeError):
        return ""
    smiles = Chem.MolToSmiles(mol, isomericSmiles=False)
    # A round trip through the SMILES parser catches the rare graph that sanitizes but does not re-parse.
    return smiles if Chem.MolFromSmiles(smiles) is not None else ""


def is_connected(smiles: str) -> bool:
    """MolGAN's strict validity: a decoded molecule that exists and is one fragment."""
    return bool(smiles) and "." not in smiles
