"""One writer per folder: an exclusive ``fcntl.flock`` on ``FOLDER/.lock`` that names its holder.

The holder writes its process id, host, start time and command line into the lock file and empties it
when it lets go. The kernel drops the lock when a process dies (even on ``kill -9``), so a lock file that
can be taken but still names a holder was left by a process that did not finish: the new holder takes it
over and :attr:`FolderLock.stale` says whose it was. POSIX only (``fcntl``).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import IO, Any

from molgen.errors import InvalidInputError

__all__ = ["LOCK_FILE", "FolderLock", "describe_holder"]

LOCK_FILE = ".lock"


class FolderLock:
    """An exclusive, non-blocking lock on one folder (which must exist).

    Args:
        folder: the folder to lock; the lock file is ``folder/.lock``.
        busy: the start of the error message when another process holds it (the holder is appended).

    Attributes:
        stale: the holder record of a previous process that died holding the lock, else None.
    """

    def __init__(self, folder: str | Path, *, busy: str) -> None:
        self.path = Path(folder) / LOCK_FILE
        self.busy = busy
        self.stale: dict[str, Any] | None = None
        self._handle: IO[str] | None = None

    def acquire(self) -> FolderLock:
        """Takes the lock; raises :class:`InvalidInputError` naming the holder when another process has it."""
        import fcntl

        handle = open(self.path, "a+")  # noqa: SIM115  # held open (and locked) until release()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = _parse(handle.read())
            handle.close()
            raise InvalidInputError(f"{self.busy} ({describe_holder(holder)})") from None
        handle.seek(0)
        self.stale = _parse(handle.read()) or None
        handle.seek(0)
        handle.truncate()
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        }
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        """Empties the lock file (a clean exit) and lets go of the lock."""
        if self._handle is None:
            return
        try:
            self._handle.seek(0)
            self._handle.truncate()
        finally:
            self._handle.close()  # closing the file releases the flock
            self._handle = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def describe_holder(holder: dict[str, Any]) -> str:
    """``"pid 123 on host, started …: molgen train …"`` (or what is known of it)."""
    if not holder:
        return "holder unknown"
    text = f"pid {holder.get('pid', '?')}"
    if holder.get("host"):
        text += f" on {holder['host']}"
    if holder.get("started"):
        text += f", started {holder['started']}"
    if holder.get("command"):
        text += f": {holder['command']}"
    return text


def _parse(text: str) -> dict[str, Any]:
    """The holder record in a lock file; ``{}`` for an empty or unreadable one."""
    try:
        record = json.loads(text.strip() or "{}")
    except json.JSONDecodeError:
        return {"command": text.strip()[:200]} if text.strip() else {}
    return record if isinstance(record, dict) else {}
