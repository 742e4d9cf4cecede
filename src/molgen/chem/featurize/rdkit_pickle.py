"""Fast :class:`~molgen.chem.featurize.atom_bond_tables.MolTables` extraction from RDKit's binary mol pickle.

Why: reading atom properties through RDKit's Python API creates one ``Atom``/``Bond`` wrapper
per atom and bond (~2 us each), which alone costs more than parsing the SMILES. ``Mol.ToBinary``
serialises every property we need (atomic number, charge, chiral tag, hybridization, H counts,
isotope, aromaticity; bond ends, type, conjugation, stereo; ring atoms) in one C++ call, and
the records can be decoded for a whole chunk of molecules with numpy.

Format (RDKit MolPickler 16.x, ``T`` = ``uint8`` atom indices for molecules of <= 255 atoms)::

    header   int32 0xDEADBEEF, int32 0 (VERSION tag), int32 major, minor, patch,
             int32 n_atoms, int32 n_bonds, uint8 0x80, uint8 BEGINATOM (1)
    atom     uint8 atomic_num, uint8 flags (bit6 aromatic, bit5 no-implicit, bits 7,4..1 =
             coordinates/query/map number/dummy label/monomer: not decoded here),
             int32 prop_flags, then one byte per set bit 1..7 (charge int8, chiral tag,
             hybridization [default SP3], explicit H count, explicit valence, implicit valence,
             radicals) and a uint32 isotope if bit 8 is set
    BEGINBOND (11), then per bond: T begin, T end, uint8 flags (bit6 aromatic, bit5 conjugated,
             bit4 query, bit3 type byte follows [default SINGLE], bit2 direction byte follows,
             bit1 stereo follows, bit0 end points), [type], [direction],
             [uint8 stereo, uint8 n, n x T stereo atoms]
    ring tag (20, 66, 67 or 68), uint32 n_rings, per ring: T size, size x T atom indices

Records are variable-length, so the decoder first computes, for every byte offset of the
chunk, the length of a record that would start there; walking all molecules' record chains in
lock-step then costs one gather per atom position, not per atom.

Anything unexpected (other major version, > 255 atoms, queries, atom map numbers, a tag not
where it should be, an index out of range) marks that molecule as not decoded, and the caller
takes the exact API path for it. :func:`molgen.chem.featurize.atom_bond_tables.fast_path_verified` checks this
decoder against the API once per process before it is used.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from rdkit import Chem

from molgen.chem.featurize.atom_bond_tables import AtomColumn, BondColumn, MolTables
from molgen.chem.featurize.ragged import exclusive_cumsum, segment_ranges

__all__ = ["PICKLE_OPTIONS", "pickle_mol", "tables_from_pickles"]

_MAGIC = np.array([0xEF, 0xBE, 0xAD, 0xDE])
_SUPPORTED_MAJOR_VERSION = 16
VALIDATED_RDKIT_VERSIONS = ("2026.09.1",)
"""RDKit releases this decoder was checked against (its start-up self-check and the atom/bond table tests
passed). Another release still works: the self-check runs once per process and falls back per molecule."""
_HEADER_BYTES = 30
_MAX_ATOMS = 255  # above this RDKit writes int32 indices
_TAG_BEGIN_ATOM = 1
_TAG_BEGIN_BOND = 11
_RING_TAGS = np.array([20, 66, 67, 68])  # SSSR, symmetrized SSSR, fast-find, other
_PADDING = 64  # zero bytes after the data so gathers near the end never leave the buffer
_ATOM_FLAGS_NOT_DECODED = 0b1001_1110  # coordinates, query, map number, dummy label, monomer
_BOND_FLAGS_NOT_DECODED = 0b1001_0001  # unused bit 7, query, end points
_SP3 = int(Chem.HybridizationType.SP3)
_SINGLE = int(Chem.BondType.SINGLE)
_POPCOUNT = np.array([bin(byte).count("1") for byte in range(256)], dtype=np.int64)
PICKLE_OPTIONS = Chem.PropertyPickleOptions.NoProps


@functools.lru_cache(maxsize=1)
def _atomic_weights() -> np.ndarray:
    """float64 ``[119]`` standard atomic weight by atomic number (``Atom.GetMass`` sans isotope)."""
    table = Chem.GetPeriodicTable()
    return np.array([table.GetAtomicWeight(z) for z in range(119)], dtype=np.float64)


@functools.cache
def _isotope_mass(atomic_num: int, isotope: int) -> float:
    atom = Chem.Atom(atomic_num)
    atom.SetIsotope(isotope)
    return atom.GetMass()


def _le32(buf: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Little-endian uint32 at byte offsets ``pos`` of ``buf`` (int64 result)."""
    return buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)


def _walk(record_length: np.ndarray, first: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Follows chains of variable-length records for many molecules in lock-step.

    Args:
        record_length: int64 ``[n_bytes]`` length of a record starting at each byte offset.
        first: int64 ``[n]`` offset of each molecule's first record.
        counts: int64 ``[n]`` records per molecule.

    Returns:
        int64 ``[max(counts) + 1, n]``; row ``k`` holds the offset of record ``k`` (row
        ``counts[i]`` is the first byte after molecule ``i``'s records; later rows are junk).
    """
    last_byte = len(record_length) - 1
    offsets = np.empty((int(counts.max(initial=0)) + 1, len(first)), dtype=np.int64)
    position = first
    for step in range(len(offsets)):
        offsets[step] = position
        position = np.minimum(position + record_length[position], last_byte)
    return offsets


def _records(offsets: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Offsets of the real records from :func:`_walk`, molecule-major: int64 ``[sum(counts)]``."""
    steps = np.arange(len(offsets) - 1)
    return offsets[:-1].T[steps[None, :] < counts[:, None]]


def _end_offsets(offsets: np.ndarray, counts: np.ndarray) -> np.ndarray:
    return offsets[counts, np.arange(len(counts))]


def pickle_mol(mol: Chem.Mol) -> bytes:
    """RDKit's binary pickle of ``mol`` without properties (the input of the decoder)."""
    return mol.ToBinary(PICKLE_OPTIONS)


def tables_from_pickles(blobs: Sequence[bytes]) -> tuple[MolTables, np.ndarray]:
    """Decodes the tables of every pickled molecule the decoder understands.

    Args:
        blobs: :func:`pickle_mol` of sanitized molecules.

    Returns:
        ``(tables, decoded)``: ``decoded`` is bool ``[len(blobs)]``; ``tables`` holds the
        decoded molecules only, in input order.
    """
    n_mols = len(blobs)
    sizes = np.fromiter(map(len, blobs), dtype=np.int64, count=n_mols)
    starts = exclusive_cumsum(sizes)
    n_bytes = int(sizes.sum())
    buf = np.frombuffer(b"".join(blobs) + bytes(_PADDING), dtype=np.uint8).astype(np.int64)
    mol_ids = np.arange(n_mols)

    # --- header
    header = buf[starts[:, None] + np.arange(_HEADER_BYTES)]
    ok = (sizes > _HEADER_BYTES) & (header[:, :4] == _MAGIC).all(axis=1)
    ok &= (header[:, 4:8] == 0).all(axis=1) & (_le32(buf, starts + 8) == _SUPPORTED_MAJOR_VERSION)
    ok &= (header[:, 28] == 0x80) & (header[:, 29] == _TAG_BEGIN_ATOM)
    n_atoms = np.where(ok, _le32(buf, starts + 20), 0)
    n_bonds = np.where(ok, _le32(buf, starts + 24), 0)
    ok &= (n_atoms >= 1) & (n_atoms <= _MAX_ATOMS) & (n_bonds <= n_atoms * n_atoms)
    n_atoms[~ok] = 0
    n_bonds[~ok] = 0

    # --- atoms
    def at(shift: int) -> np.ndarray:  # byte at every offset + shift, for offsets 0..n_bytes-1
        return buf[shift : shift + n_bytes]

    prop_low, prop_bit8 = at(2), at(3) & 1
    atom_length = 6 + _POPCOUNT[prop_low & 0xFE] + 4 * (prop_low & 1) + 4 * prop_bit8
    atom_offsets = _walk(atom_length, starts + _HEADER_BYTES, n_atoms)
    bond_section = _end_offsets(atom_offsets, n_atoms)
    ok &= buf[bond_section] == _TAG_BEGIN_BOND
    atom_rec = _records(atom_offsets, n_atoms)
    atom_flags, props = buf[atom_rec + 1], buf[atom_rec + 2]
    bad_atom = (atom_flags & _ATOM_FLAGS_NOT_DECODED) | (props & 1) | (buf[atom_rec + 3] & 0xFE)
    bad_atom |= buf[atom_rec + 4] | buf[atom_rec + 5]
    field_offset = atom_rec + 6
    fields = {}
    for bit, default in ((1, 0), (2, 0), (3, _SP3), (4, 0), (5, 0), (6, 0), (7, 0)):
        present = (props >> bit) & 1
        fields[bit] = np.where(present, buf[field_offset], default)
        field_offset = field_offset + present
    isotope = np.where(buf[atom_rec + 3] & 1, _le32(buf, field_offset), 0)
    atom_mol = np.repeat(mol_ids, n_atoms)
    ok &= np.bincount(atom_mol, weights=bad_atom, minlength=n_mols) == 0
    n_bonds[~ok] = 0

    # --- bonds
    bond_flags = at(2)
    has_type, has_dir = (bond_flags >> 3) & 1, (bond_flags >> 2) & 1
    has_stereo = (bond_flags >> 1) & 1
    n_stereo_atoms = buf[np.arange(n_bytes) + 4 + has_type + has_dir]
    bond_length = 3 + has_type + has_dir + has_stereo * (2 + n_stereo_atoms)
    bond_offsets = _walk(bond_length, bond_section + 1, n_bonds)
    ring_section = _end_offsets(bond_offsets, n_bonds)
    ok &= np.isin(buf[ring_section], _RING_TAGS)
    bond_rec = _records(bond_offsets, n_bonds)
    bond_mol = np.repeat(mol_ids, n_bonds)
    begin, end, flags = buf[bond_rec], buf[bond_rec + 1], buf[bond_rec + 2]
    type_present, dir_present = (flags >> 3) & 1, (flags >> 2) & 1
    bond_type = np.where(type_present, buf[bond_rec + 3], _SINGLE)
    stereo = np.where((flags >> 1) & 1, buf[bond_rec + 3 + type_present + dir_present], 0)
    bad_bond = (flags & _BOND_FLAGS_NOT_DECODED) > 0
    bad_bond |= (begin >= n_atoms[bond_mol]) | (end >= n_atoms[bond_mol])
    ok &= np.bincount(bond_mol, weights=bad_bond, minlength=n_mols) == 0

    # --- rings: a bond is in a ring iff its atoms are neighbours in some ring's atom list
    n_rings = np.where(ok, _le32(buf, ring_section + 1), 0)
    ok &= n_rings <= n_bonds
    n_rings[~ok] = 0
    ring_offsets = _walk(1 + buf[:n_bytes], ring_section + 5, n_rings)
    ok &= _end_offsets(ring_offsets, n_rings) <= starts + sizes
    ring_rec = _records(ring_offsets, n_rings)
    ring_size = buf[ring_rec]
    ring_mol = np.repeat(np.repeat(mol_ids, n_rings), ring_size)
    member = segment_ranges(ring_rec + 1, ring_size)
    ring_first = np.repeat(exclusive_cumsum(ring_size), ring_size)
    is_last = np.arange(len(member)) == ring_first + np.repeat(ring_size, ring_size) - 1
    neighbour = np.where(is_last, ring_first, np.arange(len(member)) + 1)
    atom_a, atom_b = buf[member], buf[member[neighbour]]
    good_pair = ok[ring_mol] & (atom_a < n_atoms[ring_mol]) & (atom_b < n_atoms[ring_mol])
    atom_start = exclusive_cumsum(n_atoms)
    n_total = int(n_atoms.sum()) + 1

    def pair_key(mol: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        low, high = np.minimum(a, b) + atom_start[mol], np.maximum(a, b) + atom_start[mol]
        return low * n_total + high

    ring_keys = pair_key(ring_mol[good_pair], atom_a[good_pair], atom_b[good_pair])
    in_ring = np.isin(pair_key(bond_mol, begin, end), ring_keys)

    # --- assemble, keep decoded molecules, then derive degree and mass on clean rows
    n_atom_rows, n_bond_rows = len(atom_mol), len(bond_mol)
    atom_props = np.empty((n_atom_rows, len(AtomColumn)), dtype=np.int16)
    atom_props[:, AtomColumn.ATOMIC_NUM] = buf[atom_rec]
    charge = fields[1]
    atom_props[:, AtomColumn.FORMAL_CHARGE] = np.where(charge > 127, charge - 256, charge)
    atom_props[:, AtomColumn.CHIRAL_TAG] = fields[2]
    atom_props[:, AtomColumn.HYBRIDIZATION] = fields[3]
    no_implicit = (atom_flags >> 5) & 1
    atom_props[:, AtomColumn.TOTAL_HS] = fields[4] + np.where(no_implicit, 0, fields[6])
    atom_props[:, AtomColumn.TOTAL_DEGREE] = 0
    atom_props[:, AtomColumn.IS_AROMATIC] = (atom_flags >> 6) & 1
    bond_props = np.empty((n_bond_rows, len(BondColumn)), dtype=np.int16)
    bond_props[:, BondColumn.BOND_TYPE] = bond_type
    bond_props[:, BondColumn.IS_CONJUGATED] = (flags >> 5) & 1
    bond_props[:, BondColumn.IS_IN_RING] = in_ring
    bond_props[:, BondColumn.STEREO] = stereo
    tables = MolTables(
        atom_counts=n_atoms,
        bond_counts=n_bonds,
        atom_props=atom_props,
        atom_mass=np.zeros(n_atom_rows),  # filled below, after dropping junk rows
        bond_atoms=np.stack([begin, end], axis=1),
        bond_props=bond_props,
    )
    tables = tables.take(np.flatnonzero(ok))
    _fill_degree_and_mass(tables, isotope[ok[atom_mol]])
    return tables, ok


def _fill_degree_and_mass(tables: MolTables, isotope: np.ndarray) -> None:
    """Sets total degree (bonded neighbours + H) and mass in Da (from ``isotope``, int64
    ``[n_atoms]``, 0 = natural abundance) in place."""
    atom_start = np.repeat(exclusive_cumsum(tables.atom_counts), tables.bond_counts)
    n_rows = len(tables.atom_props)
    degree = np.bincount(tables.bond_atoms[:, 0] + atom_start, minlength=n_rows)
    degree += np.bincount(tables.bond_atoms[:, 1] + atom_start, minlength=n_rows)
    total_hs = tables.atom_props[:, AtomColumn.TOTAL_HS]
    tables.atom_props[:, AtomColumn.TOTAL_DEGREE] = degree + total_hs
    atomic_num = tables.atom_props[:, AtomColumn.ATOMIC_NUM].astype(np.int64)
    mass = _atomic_weights()[atomic_num]
    for row in np.flatnonzero(isotope):
        mass[row] = _isotope_mass(int(atomic_num[row]), int(isotope[row]))
    tables.atom_mass = mass
