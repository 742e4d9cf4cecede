"""A screen's output folder: the manifest, one Parquet file per shard, the merged top-k.

::

    OUTPUT/
      manifest.json          the job's parameters, the shard plan, one record per run, the summary
      shards/00000-000003.parquet   rows of chunk 3 of library file 0 (one row per input row)
      top_k.csv              the best rows over all shards, best first

Every file is written to a temporary name in the same folder and renamed (atomic on POSIX),
so a crash leaves whole shard files or none: a rerun keeps each shard file whose footer reads
and whose row count matches the plan, and recomputes the rest. A rerun whose job differs from
the manifest's (other models, filters, library or chunk size) is refused rather than mixed in.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from molgen.data.shards import Shard
from molgen.errors import InvalidInputError
from molgen.io import atomic_path

__all__ = ["MANIFEST_FORMAT", "OutputFolder"]

MANIFEST_FORMAT = 1
log = logging.getLogger("molgen")


class OutputFolder:
    """Paths and atomic writes of one screen's output folder.

    Use as a context manager to hold its lock (one screen writes to a folder at a time).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser().resolve()
        self.shards = self.path / "shards"
        self.manifest_path = self.path / "manifest.json"
        self.top_k_path = self.path / "top_k.csv"
        self._lock: Any = None

    def __enter__(self) -> OutputFolder:
        from molgen.locking import FolderLock, describe_holder

        if self.path.exists() and not self.path.is_dir():
            raise InvalidInputError(f"--output {self.path} is a file; pass a folder")
        self.shards.mkdir(parents=True, exist_ok=True)
        self._lock = FolderLock(
            self.path, busy=f"another molgen screen is writing to {self.path}; wait for it or use another --output"
        ).acquire()
        if self._lock.stale:
            log.warning(
                "%s: taking over the lock left by a screen that stopped without releasing it (%s)",
                self.path,
                describe_holder(self._lock.stale),
            )
        for stale in self.shards.glob(".*.tmp"):  # left by shards in flight when a run stopped
            stale.unlink(missing_ok=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()

    # ---------------------------------------------------------------------------------- manifest

    def read_manifest(self) -> dict[str, Any] | None:
        if not self.manifest_path.is_file():
            return None
        try:
            return json.loads(self.manifest_path.read_text())
        except json.JSONDecodeError as err:
            raise InvalidInputError(
                f"{self.manifest_path} is not valid JSON ({err}); delete the folder to start over"
            ) from None

    def check_job(self, job: dict[str, Any]) -> dict[str, Any] | None:
        """The existing manifest, after checking it describes the same job; None for a new folder.

        Raises:
            ValueError: the folder holds a different job (the message names what differs), or
                files that are not a screen's.
        """
        manifest = self.read_manifest()
        if manifest is None:
            if any(self.shards.glob("*.parquet")):
                raise InvalidInputError(f"{self.path} holds shard files but no manifest.json; use an empty --output")
            return None
        if manifest.get("format") != MANIFEST_FORMAT or "job" not in manifest:
            raise InvalidInputError(f"{self.manifest_path}: not a molgen screen manifest (format {MANIFEST_FORMAT})")
        old = manifest["job"]
        changed = sorted(key for key in {*old, *job} if old.get(key) != job.get(key))
        if changed:
            details = "; ".join(f"{key}: was {_short(old.get(key))}, now {_short(job.get(key))}" for key in changed)
            raise InvalidInputError(
                f"{self.path} holds a screen with different parameters ({details}). Resuming would mix results: "
                "rerun with the same models, library, filters and --chunk-size, or use a new --output."
            )
        return manifest

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self._atomic_write(self.manifest_path, lambda tmp: tmp.write_text(json.dumps(manifest, indent=1) + "\n"))

    # ---------------------------------------------------------------------------------- shards

    def shard_path(self, shard: Shard) -> Path:
        return self.shards / f"{shard.id}.parquet"

    def finished(self, shard: Shard) -> bool:
        """True when the shard's file is complete (its footer reads and it has the planned rows)."""
        import pyarrow.parquet as pq

        path = self.shard_path(shard)
        if not path.is_file():
            return False
        try:
            return pq.ParquetFile(path).metadata.num_rows == shard.n_rows
        except Exception:
            return False

    def write_shard(self, shard: Shard, frame: pd.DataFrame, schema: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        self._atomic_write(self.shard_path(shard), lambda tmp: pq.write_table(table, tmp, compression="zstd"))

    def read_shard(self, shard: Shard) -> pd.DataFrame:
        import pyarrow.parquet as pq

        return pq.read_table(self.shard_path(shard)).to_pandas(types_mapper=_plain_types)

    def write_top_k(self, frame: pd.DataFrame) -> None:
        self._atomic_write(self.top_k_path, lambda tmp: frame.to_csv(tmp, index=False))

    @staticmethod
    def _atomic_write(path: Path, write: Any) -> None:
        with atomic_path(path) as tmp:  # temporary name, fsync, rename
            write(tmp)


def _plain_types(arrow_type: Any) -> Any:
    """Booleans with nulls stay nullable (``passes_filters``); everything else the pandas default."""
    import pyarrow as pa

    return pd.BooleanDtype() if arrow_type == pa.bool_() else None


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 120 else text[:117] + "..."
