"""Storage helpers: default SQLite location, masked URLs, joining a study only with matching settings."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from molgen.tuning.storage import create_or_load_study, default_storage_url, display_url, open_storage, sqlite_path


def test_default_storage_is_an_sqlite_file_in_the_output(tmp_path):
    url = default_storage_url(tmp_path / "out")
    assert url == f"sqlite:///{(tmp_path / 'out' / 'study.db').resolve()}"
    assert sqlite_path(url) == (tmp_path / "out" / "study.db").resolve()
    assert sqlite_path("postgresql://u@h/db") is None and sqlite_path("sqlite:///:memory:") is None


def test_display_url_masks_the_password():
    shown = display_url("postgresql+psycopg2://tuner:s3cret@db.example.org:5432/molgen")
    assert "s3cret" not in shown and "tuner:***@db.example.org:5432/molgen" in shown


def _study(url: str, direction: str = "minimize", space: str = "A") -> optuna.Study:
    return create_or_load_study(
        open_storage(url, heartbeat_interval=5),
        "s",
        direction=direction,
        sampler=optuna.samplers.RandomSampler(),
        pruner=optuna.pruners.NopPruner(),
        attrs={"space": {"optim.lr": space}, "metric": "val/rmse"},
    )


def test_joining_needs_the_same_space_and_direction(tmp_path: Path):
    url = default_storage_url(tmp_path)
    first = _study(url)
    first.add_trial(optuna.trial.create_trial(value=1.0))
    again = _study(url)  # load_if_exists: same study, its trials kept
    assert again._study_id == first._study_id and len(again.trials) == 1
    assert again.user_attrs["metric"] == "val/rmse"
    with pytest.raises(ValueError, match="different space"):
        _study(url, space="B")
    with pytest.raises(ValueError, match="created to minimize, not maximize"):
        _study(url, direction="maximize")
