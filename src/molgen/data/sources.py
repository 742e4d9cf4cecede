"""Where dataset files come from: a local mirror, the user cache, or the internet.

``resolve(remote)`` looks in this order and verifies the sha256 of whatever it finds:

1. ``$MOLGEN_DATA_DIR/<remote.filename>`` — a folder laid out like the shared mirror;
2. ``cache_dir()/<remote.cache_name>`` — files downloaded earlier;
3. a download of ``remote.url`` into the cache with :func:`pooch.retrieve` (checksum enforced).

A file that is found but fails its checksum is an error (never silently skipped).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from molgen.errors import DataSourceError

DATA_DIR_ENV = "MOLGEN_DATA_DIR"
CACHE_DIR_ENV = "MOLGEN_CACHE_DIR"
_CHUNK = 1 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# (resolved path, size, mtime_ns, decompress) -> hex digest; files are hashed once per process.
_DIGESTS: dict[tuple[str, int, int, bool], str] = {}


class DatasetNotFoundError(DataSourceError):
    """A dataset file is in neither the data dir nor the cache and could not be downloaded."""


class ChecksumError(DataSourceError):
    """A dataset file exists but its sha256 differs from the catalog's."""


@dataclass(frozen=True)
class RemoteFile:
    """A public file pinned by its sha256.

    Args:
        url: canonical upstream URL; ``""`` when no public URL serves these bytes (a derived file,
            described by ``derived_from``), in which case it can only come from a data dir.
        sha256: sha256 of the bytes served at ``url`` (for a derived file: of its uncompressed bytes).
        filename: path relative to a data dir, laid out like the shared mirror (``"moleculenet/esol.csv"``).
        mirror_gzip: the data dir stores ``gzip -9n`` of the upstream bytes (``filename`` ends in
            ``.gz``); the checksum is then taken over the decompressed bytes.
        derived_from: how a derived file was made (required when ``url`` is empty).
    """

    url: str
    sha256: str
    filename: str
    mirror_gzip: bool = False
    derived_from: str = ""

    def __post_init__(self) -> None:
        if not _SHA256.match(self.sha256):
            raise ValueError(f"{self.filename}: sha256 must be 64 lowercase hex digits, got {self.sha256!r}")
        if self.mirror_gzip and not self.filename.endswith(".gz"):
            raise ValueError(f"{self.filename}: mirror_gzip=True needs a filename ending in .gz")
        if not self.url and not self.derived_from:
            raise ValueError(f"{self.filename}: a file without url must say what it is derived_from")

    @property
    def cache_name(self) -> str:
        """Path of the upstream bytes inside the cache dir (``filename`` without the mirror's ``.gz``)."""
        return self.filename[: -len(".gz")] if self.mirror_gzip else self.filename


def cache_dir() -> Path:
    """The download cache: ``$MOLGEN_CACHE_DIR`` or ``~/.cache/molgen``."""
    env = os.environ.get(CACHE_DIR_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "molgen"


def file_sha256(path: str | Path, *, decompress: bool = False) -> str:
    """sha256 of a file's bytes (of its gzip-decompressed bytes with ``decompress=True``), chunked."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, decompress)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        opener = gzip.open if decompress else open
        with opener(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def verify(path: str | Path, remote: RemoteFile, *, decompress: bool = False) -> None:
    """Raise :class:`ChecksumError` naming the file and both hashes unless ``path`` matches ``remote``."""
    actual = file_sha256(path, decompress=decompress)
    if actual != remote.sha256:
        what = "decompressed content of " if decompress else ""
        raise ChecksumError(
            f"checksum mismatch for {what}{path} (dataset file {remote.filename}): "
            f"expected sha256 {remote.sha256}, got {actual}. The file is corrupt or a different "
            "version; replace it with the published file or fix the data dir."
        )


def resolve(remote: RemoteFile, *, download: bool = True) -> Path:
    """Return a local, checksum-verified path for ``remote`` (data dir → cache → download).

    Raises:
        ChecksumError: the file in the data dir (or, with ``download=False``, the cache) is corrupt.
        DatasetNotFoundError: the file is nowhere and cannot be downloaded.
    """
    looked: list[str] = []
    data_dir = os.environ.get(DATA_DIR_ENV)
    if data_dir:
        mirrored = Path(data_dir).expanduser() / remote.filename
        looked.append(str(mirrored))
        if mirrored.is_file():
            verify(mirrored, remote, decompress=remote.mirror_gzip)
            return mirrored

    cached = cache_dir() / remote.cache_name
    looked.append(str(cached))
    if cached.is_file():
        if file_sha256(cached) == remote.sha256:
            return cached
        if not download or not remote.url:
            verify(cached, remote)  # raises, naming both hashes
        # else: pooch sees the bad hash and downloads a fresh copy below.

    reason = "downloading is disabled (download=False)"
    if not remote.url:
        reason = f"no public URL serves this file (derived from {remote.derived_from})"
    elif download:
        try:
            import pooch

            fetched = pooch.retrieve(
                remote.url,
                known_hash=f"sha256:{remote.sha256}",
                fname=Path(remote.cache_name).name,
                path=cached.parent,
                progressbar=False,
            )
            return Path(fetched)
        except Exception as exc:  # network errors, HTTP errors, pooch's own hash check
            reason = f"downloading {remote.url} failed: {type(exc).__name__}: {exc}"
            raise DatasetNotFoundError(_not_found_message(remote, looked, data_dir, reason)) from exc
    raise DatasetNotFoundError(_not_found_message(remote, looked, data_dir, reason))


def _not_found_message(remote: RemoteFile, looked: list[str], data_dir: str | None, reason: str) -> str:
    where = "; ".join(looked)
    env_state = f"{DATA_DIR_ENV}={data_dir}" if data_dir else f"{DATA_DIR_ENV} is not set"
    return (
        f"dataset file {remote.filename!r} not found (looked in: {where}; {env_state}) and {reason}. "
        f"To fix: set {DATA_DIR_ENV} to a folder laid out like the molgen data mirror that contains "
        f"{remote.filename} (e.g. export {DATA_DIR_ENV}=../shared/data), or place the file with sha256 "
        f"{remote.sha256} at {looked[-1]}."
    )
