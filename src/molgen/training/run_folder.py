"""Opening a run folder for one writer: locked for the whole run, checked before anything is written.

:func:`open_run_folder` is the only place a fit creates, clears or first writes its run folder:

- a new folder is created; a folder holding files is refused unless ``resume`` (continue it) or
  ``overwrite`` (delete the previous run's files first, TensorBoard logs included);
- the folder is locked (``.lock``, :class:`molgen.locking.FolderLock`) until the run ends; a second writer
  is refused with the holder named, and a lock left by a dead process is taken over with a warning;
- a resume must be exact: the resolved config may differ from the folder's ``config.yaml`` only in
  budget and hardware fields (:data:`MAY_CHANGE_ON_RESUME`), the split must equal ``splits.json`` and
  every checkpoint path must resolve inside the folder; otherwise it is refused and nothing is rewritten;
- only then are ``config.yaml`` and ``splits.json`` written;
- a run that fails before its first checkpoint leaves no trace: a folder it created (or cleared) is removed.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from molgen.config import RunConfig
from molgen.errors import ConfigError, DataSourceError, InvalidInputError
from molgen.locking import LOCK_FILE, FolderLock, describe_holder
from molgen.training.artifacts import run_paths, write_json

log = logging.getLogger("molgen")

__all__ = ["MAY_CHANGE_ON_RESUME", "config_differences", "open_run_folder"]

MAY_CHANGE_ON_RESUME = frozenset(
    {
        "output",
        "trainer.max_epochs",
        "trainer.max_minutes",
        "trainer.patience",
        "trainer.progress_bar",
        "trainer.log_every_n_steps",
        "trainer.accelerator",
        "trainer.devices",
        "trainer.strategy",
        "trainer.num_nodes",
        "trainer.deterministic",
        "data.featurize_jobs",
        "data.cache",
    }
)
"""Config fields a ``--resume`` may change: the training budget and where it runs, not the data, split,
model, task or seed."""


@contextmanager
def open_run_folder(
    cfg: RunConfig, splits: dict[str, Any], *, resume: bool = False, overwrite: bool = False
) -> Iterator[Path]:
    """Creates or reopens the run folder ``cfg.output``, holds its lock for the block and writes
    ``config.yaml`` and ``splits.json`` once the checks pass (see the module docstring).

    Args:
        cfg: the resolved run config, ``output`` set to the run folder.
        splits: the ``splits.json`` record of this run.
        resume: continue the run in the folder; overwrite: replace it.

    Raises:
        ConfigError: a non-empty folder without ``resume``/``overwrite``, or a resume whose settings or
            split differ from the folder's.
        InvalidInputError: another process holds the folder's lock.
        DataSourceError: nothing to resume from.
        ModelFormatError: a checkpoint that points outside the folder or is missing.
    """
    if cfg.output is None:
        raise ConfigError("open_run_folder needs cfg.output (the run folder)")
    path = Path(cfg.output)
    if resume and overwrite:
        raise ConfigError("--resume continues a run and --overwrite replaces it; pass one of them")
    if not is_rank_zero():  # DDP workers: rank 0 opened, checked and wrote the folder
        yield path
        return
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--output {path} is a file; pass a folder")
    if resume and not (path / "checkpoints").is_dir():
        raise DataSourceError(f"--resume: {path} holds no checkpoints/ to resume from (pass the run's --output)")
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(path, busy=f"run folder {path} is in use by another molgen process")
    lock.acquire()
    fresh = True  # the folder holds nothing of an earlier run (new, empty or cleared)
    try:
        if lock.stale:
            log.warning(
                "%s: taking over the lock left by a run that stopped without releasing it (%s)",
                path,
                describe_holder(lock.stale),
            )
        previous = _contents(path)
        fresh = not previous
        if previous and resume:
            _check_resume(path, cfg, splits)
        elif previous and overwrite:
            _clear(path, previous)
            fresh = True
        elif previous:
            raise ConfigError(
                f"--output {path} already holds files ({', '.join(sorted(p.name for p in previous)[:5])}); "
                "pass --resume to continue that run, --overwrite to replace it, or choose another --output"
            )
        paths = run_paths(path)
        cfg.save(paths["config"])
        write_json(paths["splits"], splits)
        yield path
    except BaseException:
        if fresh and not any((path / "checkpoints").rglob("*.ckpt")):
            _delete(_contents(path))  # nothing to resume: leave no trace of this run
            if created:
                lock.release()
                shutil.rmtree(path, ignore_errors=True)
        raise
    finally:
        lock.release()


def config_differences(old: RunConfig, new: RunConfig) -> list[str]:
    """``"key: was A, now B"`` for every field that differs, except :data:`MAY_CHANGE_ON_RESUME`."""
    before, after = _flat(old.to_dict()), _flat(new.to_dict())
    keys = sorted(k for k in {*before, *after} - MAY_CHANGE_ON_RESUME if before.get(k) != after.get(k))
    return [f"{k}: was {before.get(k)!r}, now {after.get(k)!r}" for k in keys]


def _check_resume(path: Path, cfg: RunConfig, splits: dict[str, Any]) -> None:
    """Refuses a resume that would not continue the same run (nothing in the folder is written here)."""
    from molgen.training.trainer import check_resumable

    paths = run_paths(path)
    if not paths["config"].is_file():
        raise DataSourceError(f"--resume: {path} holds no config.yaml; it is not a molgen run folder")
    try:
        saved = RunConfig.from_dict(yaml.safe_load(paths["config"].read_text()), where=str(paths["config"]))
    except yaml.YAMLError as err:
        raise ConfigError(f"{paths['config']}: not valid YAML ({err})") from None
    changed = config_differences(saved, cfg)
    if changed:
        raise ConfigError(
            f"--resume: these settings differ from {paths['config']}: {'; '.join(changed)}. A resume may change "
            "only the budget (--max-epochs, --max-minutes, --patience) and devices; rerun with the run's settings "
            "or start a new run (another --output, or --overwrite)"
        )
    stored = json.loads(paths["splits"].read_text()) if paths["splits"].is_file() else None
    if stored != json.loads(json.dumps(splits)):
        raise ConfigError(
            f"--resume: the data split differs from {paths['splits']} (has the data file changed?); "
            "resuming would mix training and test rows. Start a new run instead"
        )
    check_resumable(path / "checkpoints")


def _contents(path: Path) -> list[Path]:
    return [entry for entry in path.iterdir() if entry.name != LOCK_FILE]


def _clear(path: Path, entries: list[Path]) -> None:
    """Deletes ``entries`` of a run folder; refuses a folder that is not a molgen run's."""
    if not any((path / name).exists() for name in ("config.yaml", "checkpoints", "metrics.json")):
        raise InvalidInputError(
            f"--overwrite: {path} does not look like a molgen run folder (no config.yaml); "
            "refusing to delete its files: choose another --output"
        )
    _delete(entries)
    log.warning("--overwrite: deleted the previous run's files in %s", path)


def _delete(entries: list[Path]) -> None:
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def is_rank_zero() -> bool:
    """True in the process that writes files (the only one without DDP)."""
    from lightning.pytorch.utilities.rank_zero import rank_zero_only  # lazy: prediction needs no Lightning

    return rank_zero_only.rank == 0  # type: ignore[attr-defined]  # set by Lightning at import


def default_output(cfg: RunConfig) -> Path:
    """The run folder of ``cfg``: ``cfg.output``, else ``runs/<data>-<model>-<time>`` (generators:
    ``runs/generation-<data>-<model>-<time>``). Call it once before DDP workers start and pass the result
    on as ``output`` so that every worker writes into the same folder. :func:`molgen.training.run_folder.open_run_folder`
    creates, locks and checks it."""
    if cfg.output:
        return Path(cfg.output)
    stem = Path(cfg.data.name).stem
    name = f"{cfg.family}-{stem.split('.')[0]}" if cfg.family in ("generation", "pretrain") else stem
    return Path("runs") / f"{name}-{cfg.model.name}-{time.strftime('%Y%m%d-%H%M%S')}"
