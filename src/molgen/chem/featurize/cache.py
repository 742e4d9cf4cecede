"""On-disk cache of featurization results: one ``.npz`` per (spec, versions, inputs) hash.

Files hold the compact integer tables (:class:`~molgen.chem.featurize.atom_bond_tables.MolTables`, ~50 bytes
per atom) rather than the one-hot float features (~350 bytes per atom); the caller re-encodes
them, which is far cheaper than featurizing. Plain arrays only (invalid records as int64 /
unicode arrays), read with ``allow_pickle=False``. Writes go to a temporary file renamed into place, so concurrent runs
never see half-written files. A corrupt or foreign file is treated as a miss.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rdkit import rdBase

from molgen.chem.featurize.atom_bond_tables import MolTables
from molgen.chem.molecules import InvalidMolecule

__all__ = ["cache_path", "load", "save"]

logger = logging.getLogger(__name__)

_SUFFIX = ".molgen-graphs.npz"
_FORMAT_VERSION = 1


def _input_token(value: Any) -> Any:
    """JSON-able token keeping strings apart from look-alike non-strings (``"nan"`` vs NaN)."""
    return value if isinstance(value, str) else [type(value).__name__, repr(value)]


def cache_path(cache_dir: str | Path, smiles: Sequence[Any], settings: dict[str, Any]) -> Path:
    """File that caches featurizing ``smiles`` with ``settings``.

    Args:
        cache_dir: Cache folder (created if missing).
        smiles: Every input, in order (all of them enter the hash).
        settings: JSON-able description of everything else the output depends on (spec,
            featurizer version); the RDKit version is added here.

    Returns:
        ``cache_dir / "<sha256>.molgen-graphs.npz"``.
    """
    digest = hashlib.sha256()
    header = dict(settings, rdkit_version=rdBase.rdkitVersion)
    digest.update(json.dumps(header, sort_keys=True).encode())
    digest.update(b"\0")
    digest.update(json.dumps([_input_token(item) for item in smiles]).encode())
    folder = Path(cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{digest.hexdigest()}{_SUFFIX}"


def save(
    path: Path,
    tables: MolTables,
    mol_features: np.ndarray | None,
    valid_index: np.ndarray,
    invalid: Sequence[InvalidMolecule],
) -> None:
    """Writes one result atomically (compact tables, not the one-hot features)."""
    arrays = {f"tables_{name}": getattr(tables, name) for name in MolTables.__dataclass_fields__}
    if mol_features is not None:
        arrays["mol_features"] = mol_features
    arrays["cache_format"] = np.array(_FORMAT_VERSION)
    arrays["valid_index"] = valid_index
    arrays["invalid_index"] = np.array([record.index for record in invalid], dtype=np.int64)
    arrays["invalid_smiles"] = np.array([record.smiles for record in invalid], dtype=np.str_)
    arrays["invalid_reason"] = np.array([record.reason for record in invalid], dtype=np.str_)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(
    path: Path,
) -> tuple[MolTables, np.ndarray | None, np.ndarray, list[InvalidMolecule]] | None:
    """Reads ``(tables, mol_features, valid_index, invalid)`` written by :func:`save`, or
    returns None when the file is absent, unreadable or of another format."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as arrays:
            if int(arrays["cache_format"]) != _FORMAT_VERSION:
                return None
            tables = MolTables(**{name: arrays[f"tables_{name}"] for name in MolTables.__dataclass_fields__})
            mol_features = arrays.get("mol_features")
            invalid = [
                InvalidMolecule(int(index), str(smiles), str(reason))
                for index, smiles, reason in zip(
                    arrays["invalid_index"], arrays["invalid_smiles"], arrays["invalid_reason"]
                )
            ]
            return tables, mol_features, arrays["valid_index"], invalid
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as error:
        logger.warning("ignoring unreadable featurization cache %s: %s", path, error)
        return None
