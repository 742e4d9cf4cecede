"""molgen.io: atomic files and folders, writability checks, strict JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from molgen import io


def test_a_failed_write_keeps_the_previous_file_and_leaves_nothing_else(tmp_path: Path):
    path = tmp_path / "out.csv"
    io.write_text(path, "old\n")
    with pytest.raises(RuntimeError), io.atomic_path(path) as tmp:
        tmp.write_text("half a fi")
        raise RuntimeError("disk full")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    io.write_text(path, "new\n")
    assert path.read_text() == "new\n" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_folder_is_replaced_whole_or_not_at_all(tmp_path: Path):
    target = tmp_path / "model"
    with io.atomic_dir(target) as tmp:
        (tmp / "a").write_text("1")
    with pytest.raises(RuntimeError), io.atomic_dir(target) as tmp:
        (tmp / "a").write_text("2")
        raise RuntimeError("killed")
    assert (target / "a").read_text() == "1"
    with io.atomic_dir(target) as tmp:
        (tmp / "b").write_text("3")
    assert sorted(p.name for p in target.iterdir()) == ["b"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_check_writable_fails_before_any_work(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError):
        io.check_writable(blocker / "out.csv")
    with pytest.raises(IsADirectoryError):
        io.check_writable(tmp_path)
    assert io.check_writable(tmp_path / "new" / "out.csv").parent.is_dir()
    assert list((tmp_path / "new").iterdir()) == []  # the probe file is gone


def test_write_json_is_strict_json(tmp_path: Path):
    io.write_json(tmp_path / "m.json", {"a": np.float32("nan"), "b": [np.float64(1.5), float("-inf")], "c": "x"})
    text = (tmp_path / "m.json").read_text()
    assert json.loads(text) == {"a": None, "b": [1.5, None], "c": "x"} and "NaN" not in text
