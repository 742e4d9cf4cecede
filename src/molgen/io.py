"""Atomic writes: every file molgen writes goes to a temporary name in the same folder, is flushed to disk
(``fsync``) and then renamed over its final name (``os.replace``), so a crash, a kill or a full disk leaves the
previous complete file or none, never a truncated one. Folders (an exported model) are built the same way.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_dir", "atomic_path", "check_writable", "json_safe", "write_bytes", "write_json", "write_text"]


def _temporary(path: Path, suffix: str = ".tmp") -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{suffix}")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some filesystems do not open folders; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yields a temporary path next to ``path``; when the block succeeds its file is synced and renamed to
    ``path``, when it fails the temporary file is removed and ``path`` is untouched."""
    path = Path(path)
    tmp = _temporary(path)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(data)


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None`` (JSON has no NaN or Infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy / torch scalars
        return json_safe(value.item())
    return value


def write_json(path: str | Path, data: Any) -> None:
    """Writes ``data`` as strict JSON (NaN and infinities become ``null``), atomically."""
    write_text(path, json.dumps(json_safe(data), indent=2, allow_nan=False) + "\n")


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yields a temporary folder next to ``path``; when the block succeeds it replaces ``path`` (a reader sees the
    old folder or the new one, never a half-written one), when it fails it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path, ".tmpdir")
    tmp.mkdir()
    old = _temporary(path, ".old")
    try:
        yield tmp
        for child in tmp.iterdir():
            if child.is_file():
                _fsync_file(child)
        _fsync_dir(tmp)
        if path.exists():
            os.replace(path, old)  # the swap: two renames in the same folder
        try:
            os.replace(tmp, path)
        except OSError:
            if old.exists():
                os.replace(old, path)
            raise
        _fsync_dir(path.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def check_writable(path: str | Path) -> Path:
    """Checks, before any work, that file ``path`` can be written: its folder is created if needed and a probe
    file is written and removed there. Raises the ``OSError`` (permission denied, read-only filesystem, …)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "is a folder; pass a file name", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    probe = _temporary(path, ".probe")
    try:
        probe.open("wb").close()
    except OSError as err:  # name the output the user gave, not the probe file
        raise type(err)(err.errno, err.strerror, str(path)) from None
    probe.unlink()
    return path
