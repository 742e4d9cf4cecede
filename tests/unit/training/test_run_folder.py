"""open_run_folder: one writer, non-empty folders refused, exact resume, no trace of a run that never started."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from molgen.config import RunConfig
from molgen.errors import ConfigError, DataSourceError, InvalidInputError, ModelFormatError
from molgen.locking import LOCK_FILE, FolderLock
from molgen.training.run_folder import open_run_folder
from molgen.training.trainer import check_resumable, relocate_state

SPLITS = {"type": "random", "seed": 0, "folds": [{"train": [0, 1], "val": [2], "test": [3]}]}


def config(path: Path, **values) -> RunConfig:
    return RunConfig(output=str(path)).with_values(values)


def finished_run(path: Path) -> Path:
    """A run folder as a finished run leaves it (config, splits, a checkpoint, TensorBoard logs)."""
    with open_run_folder(config(path), SPLITS):
        (path / "checkpoints").mkdir()
        (path / "checkpoints" / "last.ckpt").write_bytes(b"old")
        (path / "logs" / "tensorboard").mkdir(parents=True)
        (path / "logs" / "tensorboard" / "events.out.tfevents.1").write_bytes(b"old")
    return path


def snapshot(path: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(path)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in path.rglob("*")
        if p.is_file() and p.name != LOCK_FILE
    }


def test_a_new_folder_gets_config_and_splits_and_an_empty_lock_after(tmp_path):
    out = tmp_path / "run"
    with open_run_folder(config(out), SPLITS) as run_dir:
        assert run_dir == out
        holder = json.loads((out / LOCK_FILE).read_text())
        assert holder["pid"] == os.getpid()
        (out / "checkpoints").mkdir()
        (out / "checkpoints" / "best.ckpt").write_bytes(b"x")
    assert RunConfig.from_dict(__import__("yaml").safe_load((out / "config.yaml").read_text())).output == str(out)
    assert json.loads((out / "splits.json").read_text()) == SPLITS
    assert (out / LOCK_FILE).read_text() == ""  # released cleanly


def test_a_folder_holding_a_run_is_refused_without_resume_or_overwrite(tmp_path):
    out = finished_run(tmp_path / "run")
    before = snapshot(out)
    with pytest.raises(ConfigError, match="--resume.*--overwrite"), open_run_folder(config(out), SPLITS):
        pass
    assert snapshot(out) == before


def test_overwrite_deletes_the_previous_run_and_its_tensorboard_logs(tmp_path):
    out = finished_run(tmp_path / "run")
    with open_run_folder(config(out, **{"trainer.seed": 3}), SPLITS, overwrite=True):
        assert not (out / "logs").exists() and not (out / "checkpoints").exists()
        (out / "checkpoints").mkdir()
        (out / "checkpoints" / "last.ckpt").write_bytes(b"new")
    assert "seed: 3" in (out / "config.yaml").read_text()


def test_overwrite_refuses_a_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with (
        pytest.raises(InvalidInputError, match="not look like a molgen run"),
        open_run_folder(config(tmp_path), SPLITS, overwrite=True),
    ):
        pass
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    busy = rf"in use by another molgen process \(pid {os.getpid()}"
    with (
        FolderLock(out, busy="busy"),
        pytest.raises(InvalidInputError, match=busy),
        open_run_folder(config(out), SPLITS),
    ):
        pass
    assert not (out / "config.yaml").exists()


def test_a_lock_left_by_a_dead_process_is_taken_over_with_a_warning(tmp_path, caplog):
    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK_FILE).write_text(json.dumps({"pid": 999999, "host": "gone", "command": "molgen train"}) + "\n")
    with caplog.at_level("WARNING", logger="molgen"), open_run_folder(config(out), SPLITS):
        pass
    assert "taking over the lock" in caplog.text and "pid 999999 on gone" in caplog.text


def test_resume_with_another_seed_is_refused_and_nothing_is_rewritten(tmp_path):
    out = finished_run(tmp_path / "run")
    before = snapshot(out)
    changed = config(out, **{"trainer.seed": 5, "model.hidden_dim": 100, "trainer.max_epochs": 7})
    with pytest.raises(ConfigError) as err, open_run_folder(changed, SPLITS, resume=True):
        pass
    assert "trainer.seed: was 0, now 5" in str(err.value) and "model.hidden_dim" in str(err.value)
    assert "max_epochs" not in str(err.value)  # a budget field may change
    assert snapshot(out) == before


def test_resume_with_a_new_budget_is_accepted_and_recorded(tmp_path):
    out = finished_run(tmp_path / "run")
    (out / "checkpoints" / "last.ckpt").unlink()  # (check_resumable reads real checkpoints; none here)
    with open_run_folder(config(out, **{"trainer.max_epochs": 7, "trainer.patience": 0}), SPLITS, resume=True):
        pass
    assert "max_epochs: 7" in (out / "config.yaml").read_text()


def test_resume_with_another_split_is_refused(tmp_path):
    out = finished_run(tmp_path / "run")
    other = {**SPLITS, "folds": [{"train": [0, 3], "val": [2], "test": [1]}]}
    with pytest.raises(ConfigError, match="split differs"), open_run_folder(config(out), other, resume=True):
        pass


def test_resume_without_checkpoints_creates_nothing(tmp_path):
    with (
        pytest.raises(DataSourceError, match="no checkpoints/"),
        open_run_folder(config(tmp_path / "run"), SPLITS, resume=True),
    ):
        pass
    assert not (tmp_path / "run").exists()


def test_a_run_failing_before_its_first_checkpoint_leaves_no_folder(tmp_path):
    out = tmp_path / "new" / "run"
    with pytest.raises(ConfigError, match="unknown metric"), open_run_folder(config(out), SPLITS):
        raise ConfigError("unknown metric")
    assert not out.exists()


def test_a_run_failing_in_an_empty_folder_leaves_it_empty(tmp_path):
    with pytest.raises(ConfigError), open_run_folder(config(tmp_path), SPLITS):
        raise ConfigError("bad value")
    assert [p.name for p in tmp_path.iterdir()] == [LOCK_FILE]


def test_a_run_failing_after_a_checkpoint_keeps_it_for_resume(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt), open_run_folder(config(out), SPLITS):
        (out / "checkpoints").mkdir()
        (out / "checkpoints" / "last.ckpt").write_bytes(b"x")
        raise KeyboardInterrupt
    assert (out / "checkpoints" / "last.ckpt").is_file() and (out / "config.yaml").is_file()


def _checkpoint(path: Path, dirpath: str, best: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"dirpath": dirpath, "best_model_path": best, "best_k_models": {best: torch.tensor(1.0)}}
    torch.save({"epoch": 1, "callbacks": {"ModelCheckpoint{'monitor': 'val/rmse'}": state}}, path)


def test_a_copied_folder_resolves_its_checkpoints_inside_itself(tmp_path):
    original, copy = tmp_path / "X" / "checkpoints", tmp_path / "Xcopy" / "checkpoints"
    _checkpoint(copy / "last.ckpt", str(original), str(original / "best.ckpt"))
    (copy / "best.ckpt").write_bytes(b"x")
    assert check_resumable(copy) == [copy / "last.ckpt"]
    state = relocate_state(torch.load(copy / "last.ckpt", weights_only=True)["callbacks"].popitem()[1], copy, where="")
    assert state["best_model_path"] == str(copy / "best.ckpt") and list(state["best_k_models"]) == [
        str(copy / "best.ckpt")
    ]


def test_a_checkpoint_pointing_outside_its_folder_is_refused(tmp_path):
    folder = tmp_path / "run" / "checkpoints"
    _checkpoint(folder / "last.ckpt", str(folder), str(tmp_path / "elsewhere" / "best.ckpt"))
    with pytest.raises(ModelFormatError, match="outside the checkpoint folder"):
        check_resumable(folder)
    _checkpoint(folder / "last.ckpt", str(folder), str(folder / "best.ckpt"))  # inside, but missing
    with pytest.raises(ModelFormatError, match="is missing"):
        check_resumable(folder)
