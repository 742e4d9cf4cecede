"""Where a study lives, and creating it safely while other workers start at the same moment.

The default storage is an SQLite file in the output folder (embedded, no server); a PostgreSQL (or any
SQLAlchemy) URL lets many ``molgen tune`` processes on many machines join one study. Every storage gets
heartbeats, so a trial whose worker died is failed and queued again
(:class:`optuna.storages.RetryHeartbeatStaleTrialCallback`).
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, cast

import optuna
import sqlalchemy.exc
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

from molgen.errors import ConfigError

log = logging.getLogger("molgen")

STUDY_DB = "study.db"
CREATE_ATTEMPTS = 8


def default_storage_url(output: str | Path) -> str:
    """``sqlite:////abs/path/<output>/study.db``."""
    return f"sqlite:///{(Path(output) / STUDY_DB).resolve()}"


def sqlite_path(url: str) -> Path | None:
    """The database file of an SQLite URL (None for other storages or in-memory SQLite)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def display_url(url: str) -> str:
    """The URL with any password masked (safe to print and log)."""
    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return url


def open_storage(
    url: str, *, heartbeat_interval: int = 60, grace_period: int | None = None, max_retry: int | None = 2
) -> RDBStorage:
    """An RDB storage with heartbeats; tables are created on first use (safe to race, see create_study).

    Args:
        heartbeat_interval: seconds between a running trial's heartbeats.
        grace_period: seconds without a heartbeat after which a running trial is failed (default 2 × interval).
        max_retry: how many times a failed-by-heartbeat trial is queued again (None: without limit).
    """
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Writers wait for each other's short transactions instead of failing with "database is locked".
        engine_kwargs: dict[str, Any] = {"connect_args": {"timeout": 120}}
    else:
        engine_kwargs = {"pool_pre_ping": True}  # connections idle while a trial trains may be dropped
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = RetryHeartbeatStaleTrialCallback(max_retry=max_retry)
        try:
            with _creation_lock(path):
                return _retrying(
                    lambda: RDBStorage(
                        url,
                        engine_kwargs=engine_kwargs,
                        heartbeat_interval=heartbeat_interval,
                        grace_period=grace_period,
                        heartbeat_stale_trial_callback=retry,
                    ),
                    what=f"open storage {display_url(url)}",
                )
        except sqlalchemy.exc.ArgumentError as err:
            raise ConfigError(f"invalid storage URL {display_url(url)!r}: {err}") from None
        except ImportError as err:
            raise ConfigError(
                f"no database driver for {display_url(url)} ({err}); for PostgreSQL: pip install 'molgen[tune]'"
            ) from None


def create_or_load_study(
    storage: RDBStorage,
    study_name: str,
    *,
    direction: str,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    attrs: dict[str, Any],
) -> optuna.Study:
    """Creates the study once (``load_if_exists``), or joins it; refuses a study made for another search.

    ``attrs`` (space, metric, …) are stored as study user attributes by the creator; a worker joining an
    existing study must bring the same values, else the error names the difference.
    """
    path = sqlite_path(storage.url)
    with _creation_lock(path):
        study = _retrying(
            lambda: optuna.create_study(
                storage=storage,
                study_name=study_name,
                # "minimize" or "maximize": callers get it from study_direction(), which validates it
                direction=cast(Literal["minimize", "maximize"], direction),
                sampler=sampler,
                pruner=pruner,
                load_if_exists=True,
            ),
            what=f"create study {study_name!r}",
        )
        existing = study.user_attrs
        if not existing:
            for key, value in attrs.items():
                study.set_user_attr(key, value)
            existing = attrs
    if study.direction.name.lower() != direction:
        raise ConfigError(
            f"study {study_name!r} in {display_url(storage.url)} was created to {study.direction.name.lower()}, "
            f"not {direction}; use another --study-name"
        )
    for key, value in attrs.items():
        if key in existing and existing[key] != value:
            raise ConfigError(
                f"study {study_name!r} in {display_url(storage.url)} was created with a different {key} "
                f"({existing[key]!r}, here {value!r}); use the same settings to join it, or another --study-name"
            )
    return study


def _retrying(make: Any, *, what: str) -> Any:
    """Retries ``make()`` when another worker creating the same tables or study wins a race."""
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            return make()
        except (
            sqlalchemy.exc.OperationalError,
            sqlalchemy.exc.IntegrityError,
            sqlalchemy.exc.ProgrammingError,
            optuna.exceptions.StorageInternalError,
        ) as err:
            if attempt == CREATE_ATTEMPTS:
                raise ConfigError(f"could not {what}: {getattr(err, 'orig', None) or err}") from err
            delay = min(0.2 * 2**attempt, 5.0) * random.uniform(0.5, 1.5)
            log.info("could not %s (%s); retrying in %.1f s", what, type(err).__name__, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _creation_lock(db_path: Path | None) -> Iterator[None]:
    """An exclusive lock on ``<db>.lock`` for SQLite (POSIX); other storages rely on retries."""
    if db_path is None:
        yield
        return
    try:
        import fcntl
    except ImportError:  # Windows: retries only
        yield
        return
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with open(db_path.with_name(db_path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
