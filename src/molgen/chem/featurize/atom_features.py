"""Atom and bond feature layouts (Chemprop-compatible presets) and their vectorized encoding.

The RDKit-facing code (:mod:`molgen.chem.featurize.atom_bond_tables`) reduces every molecule to small integer
tables (one row per atom / bond). This module turns those tables into the float32 feature
matrices with numpy lookup tables, so no Python function runs per atom.

Presets follow Chemprop v2's ``MultiHotAtomFeaturizer`` (``v1``, ``v2``, ``organic``) and
``MultiHotBondFeaturizer`` exactly: same blocks, same order, same "unknown" slots, same
``0.01 * mass`` scaling. Atom feature layout (``v2``, 72 columns)::

    [ atomic number: 1..36, 53, unknown (38) | total degree: 0..5, unknown (7)
    | formal charge: -1, -2, 1, 2, 0, unknown (6) | chiral tag: 0..3, unknown (5)
    | total H count: 0..4, unknown (6) | hybridization: S, SP, SP2, SP2D, SP3, SP3D, SP3D2,
      unknown (8) | is aromatic (1) | mass / 100 in Da (1) ]

Bond feature layout (14 columns)::

    [ null bond (always 0 here) | SINGLE, DOUBLE, TRIPLE, AROMATIC (no unknown slot)
    | is conjugated | is in ring | stereo: NONE, ANY, Z, E, CIS, TRANS, unknown (7) ]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rdkit.Chem.rdchem import BondStereo, BondType, HybridizationType

from molgen.chem.featurize.atom_bond_tables import AtomColumn, BondColumn
from molgen.errors import UnknownNameError

__all__ = [
    "ATOM_FEATURE_PRESETS",
    "BOND_FEATURE_DIM",
    "AtomFeaturePreset",
    "encode_atom_features",
    "encode_bond_features",
    "get_atom_preset",
]

_H = HybridizationType


@dataclass(frozen=True)
class AtomFeaturePreset:
    """Choices of each one-hot block of the atom features (each block gets an extra unknown slot).

    Attributes:
        name: Preset name, as used in :class:`molgen.chem.featurize.graphs.FeaturizerSpec`.
        atomic_nums: Atomic numbers with their own slot.
        degrees: Total degrees (heavy + hydrogen neighbours) with their own slot.
        formal_charges: Formal charges with their own slot, in slot order.
        chiral_tags: ``rdkit.Chem.ChiralType`` integer values with their own slot.
        num_hs: Total hydrogen counts with their own slot.
        hybridizations: ``rdkit.Chem.HybridizationType`` integer values, in slot order.
    """

    name: str
    atomic_nums: tuple[int, ...]
    degrees: tuple[int, ...]
    formal_charges: tuple[int, ...]
    chiral_tags: tuple[int, ...]
    num_hs: tuple[int, ...]
    hybridizations: tuple[int, ...]

    @property
    def one_hot_blocks(self) -> tuple[tuple[AtomColumn, tuple[int, ...]], ...]:
        """(raw table column, choices) for each one-hot block, in feature order."""
        return (
            (AtomColumn.ATOMIC_NUM, self.atomic_nums),
            (AtomColumn.TOTAL_DEGREE, self.degrees),
            (AtomColumn.FORMAL_CHARGE, self.formal_charges),
            (AtomColumn.CHIRAL_TAG, self.chiral_tags),
            (AtomColumn.TOTAL_HS, self.num_hs),
            (AtomColumn.HYBRIDIZATION, self.hybridizations),
        )

    @property
    def dim(self) -> int:
        """Number of atom feature columns: one-hot blocks (+1 unknown each), aromatic, mass."""
        return sum(len(choices) + 1 for _, choices in self.one_hot_blocks) + 2


_COMMON_BLOCKS = dict(
    degrees=tuple(range(6)),
    formal_charges=(-1, -2, 1, 2, 0),
    chiral_tags=tuple(range(4)),
    num_hs=tuple(range(5)),
)

ATOM_FEATURE_PRESETS: dict[str, AtomFeaturePreset] = {
    "v1": AtomFeaturePreset(
        name="v1",
        atomic_nums=tuple(range(1, 101)),
        hybridizations=tuple(int(h) for h in (_H.SP, _H.SP2, _H.SP3, _H.SP3D, _H.SP3D2)),
        **_COMMON_BLOCKS,
    ),
    "v2": AtomFeaturePreset(
        name="v2",
        atomic_nums=(*range(1, 37), 53),
        hybridizations=tuple(int(h) for h in (_H.S, _H.SP, _H.SP2, _H.SP2D, _H.SP3, _H.SP3D, _H.SP3D2)),
        **_COMMON_BLOCKS,
    ),
    "organic": AtomFeaturePreset(
        name="organic",
        atomic_nums=(1, 5, 6, 7, 8, 9, 14, 15, 16, 17, 35, 53),
        hybridizations=tuple(int(h) for h in (_H.S, _H.SP, _H.SP2, _H.SP3)),
        **_COMMON_BLOCKS,
    ),
}

_BOND_TYPES = tuple(int(t) for t in (BondType.SINGLE, BondType.DOUBLE, BondType.TRIPLE, BondType.AROMATIC))
_BOND_STEREOS = tuple(
    int(s)
    for s in (
        BondStereo.STEREONONE,
        BondStereo.STEREOANY,
        BondStereo.STEREOZ,
        BondStereo.STEREOE,
        BondStereo.STEREOCIS,
        BondStereo.STEREOTRANS,
    )
)
BOND_FEATURE_DIM = 1 + len(_BOND_TYPES) + 2 + len(_BOND_STEREOS) + 1  # = 14


def get_atom_preset(name: str) -> AtomFeaturePreset:
    """Returns the atom feature preset called ``name``.

    Raises:
        ValueError: Unknown name; the message lists the valid ones.
    """
    try:
        return ATOM_FEATURE_PRESETS[name]
    except (KeyError, TypeError):
        valid = ", ".join(sorted(ATOM_FEATURE_PRESETS))
        raise UnknownNameError(f"unknown atom feature preset {name!r}; valid presets: {valid}") from None


def _slots(values: np.ndarray, choices: tuple[int, ...]) -> np.ndarray:
    """Maps integer ``values`` to their slot in ``choices``; anything else to ``len(choices)``.

    Args:
        values: Integer array, any shape.
        choices: The values that own a slot, in slot order.

    Returns:
        int64 array shaped like ``values`` with entries in ``[0, len(choices)]``.
    """
    low = min(choices)
    table = np.full(max(choices) - low + 1, len(choices), dtype=np.int64)
    table[np.asarray(choices) - low] = np.arange(len(choices))
    shifted = values.astype(np.int64) - low
    inside = (shifted >= 0) & (shifted < len(table))
    return np.where(inside, table[np.clip(shifted, 0, len(table) - 1)], len(choices))


def encode_atom_features(atom_props: np.ndarray, atom_mass: np.ndarray, preset: AtomFeaturePreset) -> np.ndarray:
    """Builds the atom feature matrix from raw atom tables.

    Args:
        atom_props: int16 ``[n_atoms, len(AtomColumn)]`` raw properties (see ``AtomColumn``).
        atom_mass: float64 ``[n_atoms]`` atom masses in Da.
        preset: Which feature layout to build.

    Returns:
        float32 ``[n_atoms, preset.dim]``: one-hot blocks, then aromatic flag, then mass / 100.
    """
    n_atoms = len(atom_props)
    features = np.zeros((n_atoms, preset.dim), dtype=np.float32)
    columns = np.empty((n_atoms, len(preset.one_hot_blocks)), dtype=np.int64)
    offset = 0
    for block, (column, choices) in enumerate(preset.one_hot_blocks):
        columns[:, block] = offset + _slots(atom_props[:, column], choices)
        offset += len(choices) + 1
    features[np.arange(n_atoms)[:, None], columns] = 1.0
    features[:, offset] = atom_props[:, AtomColumn.IS_AROMATIC]
    features[:, offset + 1] = 0.01 * atom_mass  # float64 product, then float32 (as Chemprop)
    return features


def encode_bond_features(bond_props: np.ndarray) -> np.ndarray:
    """Builds the directed-edge feature matrix from raw bond tables.

    Args:
        bond_props: int16 ``[n_bonds, len(BondColumn)]`` raw bond properties.

    Returns:
        float32 ``[2 * n_bonds, 14]``; rows ``2k`` and ``2k + 1`` (both directions of bond
        ``k``) are identical.
    """
    n_bonds = len(bond_props)
    features = np.zeros((n_bonds, BOND_FEATURE_DIM), dtype=np.float32)
    rows = np.arange(n_bonds)
    type_slot = _slots(bond_props[:, BondColumn.BOND_TYPE], _BOND_TYPES)
    known_type = type_slot < len(_BOND_TYPES)  # Chemprop sets no bit for other bond types
    features[rows[known_type], 1 + type_slot[known_type]] = 1.0
    first_flag = 1 + len(_BOND_TYPES)
    features[:, first_flag] = bond_props[:, BondColumn.IS_CONJUGATED]
    features[:, first_flag + 1] = bond_props[:, BondColumn.IS_IN_RING]
    stereo_slot = _slots(bond_props[:, BondColumn.STEREO], _BOND_STEREOS)
    features[rows, first_flag + 2 + stereo_slot] = 1.0
    return np.repeat(features, 2, axis=0)
