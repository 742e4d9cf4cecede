"""A run folder nothing can corrupt, probed with real `molgen train` processes: concurrent writers, reruns,
copied folders, changed settings on resume, kill -9, runs that fail their checks, reproducibility."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

MOLGEN = str(Path(sys.executable).parent / "molgen")
ENV = {**os.environ, "PYTHONWARNINGS": "ignore"}


def args(csv: Path, out: Path, *extra: str) -> list[str]:
    return [
        MOLGEN,
        "train",
        "--data",
        str(csv),
        "--target-columns",
        "logp",
        "--hidden-dim",
        "16",
        "--batch-size",
        "16",
        "--featurize-jobs",
        "1",
        "--accelerator",
        "cpu",
        "--output",
        str(out),
        *extra,
    ]


def train(csv: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(args(csv, out, *extra), capture_output=True, text=True, env=ENV, timeout=600)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


def files(path: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(path)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in path.rglob("*")
        if p.is_file() and p.name != ".lock"
    }


def last_epoch(path: Path) -> int | None:
    try:
        return int(torch.load(path, map_location="cpu", weights_only=True)["epoch"])
    except Exception:  # not written yet
        return None


@pytest.mark.slow
def test_two_trains_on_one_folder_one_runs_the_other_is_refused_naming_it(regression_csv: Path, tmp_path: Path):
    out = tmp_path / "run"
    command = args(regression_csv, out, "--max-epochs", "100000", "--patience", "0")
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        deadline = time.monotonic() + 600  # process start-up on a loaded machine, not a speed check
        while not (out / "config.yaml").exists():  # written once the first run holds the lock
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first run never opened its folder"
            time.sleep(0.1)
        second = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=600)
        assert first.poll() is None  # the first run is still training while the second is refused
    finally:
        first.kill()
        first.communicate()
    assert second.returncode == 2, second
    refused = second.stderr
    assert f"is in use by another molgen process (pid {first.pid}" in refused and "molgen train" in refused


@pytest.mark.slow
def test_a_rerun_into_a_finished_run_is_refused_and_overwrite_starts_clean(regression_csv: Path, tmp_path: Path):
    out = tmp_path / "run"
    ok(train(regression_csv, out, "--max-epochs", "2"))
    before = files(out)
    again = train(regression_csv, out, "--max-epochs", "1")
    assert again.returncode == 2 and "pass --resume to continue that run, --overwrite to replace it" in again.stderr
    assert files(out) == before  # a 1-epoch run never replaces the 2-epoch model
    ok(train(regression_csv, out, "--max-epochs", "1", "--overwrite"))
    events = list((out / "logs").rglob("events.out.tfevents.*"))  # events.out.tfevents.<time>.<host>.<pid>.<n>
    assert events and len({e.name.split(".")[-2] for e in events}) == 1, events  # one run's, not two mixed
    assert last_epoch(out / "checkpoints" / "last.ckpt") == 0


@pytest.mark.slow
def test_a_copied_folder_resumes_its_own_weights(regression_csv: Path, tmp_path: Path):
    original, copy = tmp_path / "X", tmp_path / "Xcopy"
    ok(train(regression_csv, original, "--max-epochs", "2", "--patience", "0"))
    shutil.copytree(original, copy)
    exported = (copy / "model" / "model.safetensors").read_bytes()
    shutil.rmtree(original)  # retrain X: other weights in X/checkpoints/best.ckpt
    ok(train(regression_csv, original, "--max-epochs", "2", "--patience", "0", "--lr", "0.01"))
    # nothing left to train: the copy's best checkpoint must be exported again, not X's
    ok(train(regression_csv, copy, "--max-epochs", "2", "--patience", "0", "--resume"))
    assert (copy / "model" / "model.safetensors").read_bytes() == exported
    assert (original / "model" / "model.safetensors").read_bytes() != exported


@pytest.mark.slow
def test_resume_with_another_seed_is_refused_and_nothing_is_rewritten(regression_csv: Path, tmp_path: Path):
    out = tmp_path / "run"
    ok(train(regression_csv, out, "--max-epochs", "2"))
    before = files(out)
    resumed = train(regression_csv, out, "--max-epochs", "3", "--seed", "5", "--resume")
    assert resumed.returncode == 2, resumed.stderr
    assert "trainer.seed: was 0, now 5" in resumed.stderr and "max_epochs" not in resumed.stderr
    assert files(out) == before


@pytest.mark.slow
def test_kill_after_a_non_improving_epoch_then_resume_continues_from_the_latest_epoch(
    regression_csv: Path, tmp_path: Path
):
    out = tmp_path / "run"
    last = out / "checkpoints" / "last.ckpt"
    frozen = ("--lr", "0", "--patience", "0")  # val/rmse never improves after epoch 0
    proc = subprocess.Popen(
        args(regression_csv, out, "--max-epochs", "500", *frozen),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    try:
        deadline = time.monotonic() + 300
        while (last_epoch(last) or 0) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    killed_at = last_epoch(last)
    assert killed_at is not None and killed_at >= 2, killed_at
    best = torch.load(out / "checkpoints" / "best.ckpt", map_location="cpu", weights_only=True)["epoch"]
    assert best == 0  # the epochs after it did not improve
    resumed = ok(train(regression_csv, out, "--max-epochs", str(killed_at + 2), *frozen, "--resume"))
    assert f"resuming from {last} (after epoch {killed_at})" in resumed.stderr
    assert "taking over the lock left by a run that stopped" in resumed.stderr
    saved = torch.load(last, map_location="cpu", weights_only=True)
    assert saved["epoch"] == killed_at + 1


@pytest.mark.slow
@pytest.mark.parametrize(
    "extra, message",
    [
        (("--model", "dmpn"), "invalid choice: 'dmpn'"),
        (("--metrics", "nosuch"), "unknown regression metric 'nosuch'"),
        (("--target-columns", "nosuch"), "nosuch"),
    ],
)
def test_a_run_failing_its_checks_leaves_no_folder(regression_csv: Path, tmp_path: Path, extra, message):
    out = tmp_path / "new" / "run"
    result = train(regression_csv, out, "--max-epochs", "1", *extra)
    assert result.returncode == 2 and message in result.stderr
    assert not out.exists()


@pytest.mark.slow
def test_deterministic_runs_give_identical_metrics(regression_csv: Path, tmp_path: Path):
    metrics = []
    for name in ("a", "b"):
        ok(train(regression_csv, tmp_path / name, "--max-epochs", "2", "--deterministic", "--dropout", "0.2"))
        metrics.append(json.loads((tmp_path / name / "metrics.json").read_text()))
    assert metrics[0] == metrics[1]
