"""Expected faults end `molgen` with one line and a distinct exit status: real processes, real signals, real limits.

Exit statuses: 2 a user error, 3 the environment (I/O, permissions, disk full, memory), 130 an interrupt.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from molgen.cli.main import expected_failure

MOLGEN = str(Path(sys.executable).parent / "molgen")
FAST = ["--hidden-dim", "32", "--batch-size", "16", "--featurize-jobs", "1"]
FORMAT1_MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "models_format1" / "property"
ENV = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONDONTWRITEBYTECODE": "1"}


def molgen(*args: str, limit_bytes: int | None = None) -> subprocess.CompletedProcess:
    def limit_file_size() -> None:  # a full disk: writes past the limit fail with EFBIG (SIGXFSZ ignored)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run(
        [MOLGEN, *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
        preexec_fn=limit_file_size if limit_bytes is not None else None,
    )


@contextlib.contextmanager
def running(args: list[str], log: Path) -> Iterator[subprocess.Popen]:
    """A background `molgen` whose output goes to ``log`` (a pipe could fill and block it); killed on exit."""
    with open(log, "w") as handle:
        process = subprocess.Popen([MOLGEN, *args], stdout=handle, stderr=subprocess.STDOUT, env=ENV)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=60)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("molgen ") and ": error: " in line]


def assert_one_line(result: subprocess.CompletedProcess, status: int, *needles: str) -> str:
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    (line,) = error_lines(result.stderr)
    for needle in needles:
        assert needle in line, line
    return line


@pytest.fixture
def molecules_csv(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    pd.DataFrame({"smiles": ["CCO", "c1ccccc1", "CC(=O)O", "CCN(CC)CC"] * 100}).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_sigint_during_train_exits_130_with_one_line(regression_csv: Path, tmp_path: Path):
    out = tmp_path / "run"
    args = ["train", "--data", str(regression_csv), "--target-columns", "logp", *FAST, "--max-epochs", "100000"]
    log = tmp_path / "log.txt"
    with running([*args, "--patience", "0", "--output", str(out)], log) as process:
        deadline = time.monotonic() + 300
        while not (out / "checkpoints" / "last.ckpt").exists():  # training is under way
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "training did not start"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)
    stderr = log.read_text()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert error_lines(stderr) == ["molgen train: error: interrupted"]
    lines = [line for line in stderr.splitlines() if not line.startswith("molgen: epoch ")]  # progress lines
    assert len(lines) < 10, stderr


@pytest.mark.parametrize("command", ["predict", "generate", "variant-effect"])
def test_an_output_that_cannot_be_written_fails_first_with_exit_3(molecules_csv: Path, tmp_path: Path, command: str):
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o500)
        output = folder / "out.csv"
    else:  # root writes through permissions: put the output below a regular file instead
        output = molecules_csv / "out.csv"
    extra = {"predict": ["--input", str(molecules_csv)], "generate": ["-n", "10"], "variant-effect": []}[command]
    # the model does not exist: the output is checked before the model is even read
    result = molgen(command, "--model", str(tmp_path / "nope"), *extra, "--output", str(output))
    assert_one_line(result, 3, str(output.parent))
    assert not output.exists()


def test_predict_on_a_full_disk_exits_3_and_leaves_no_partial_file(molecules_csv: Path, tmp_path: Path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    output = out_dir / "pred.csv"
    args = ["predict", "--model", str(FORMAT1_MODEL), "--input", str(molecules_csv), "--output", str(output)]
    result = molgen(*args, "--n-jobs", "1", limit_bytes=4096)  # the 400-row output needs more
    assert_one_line(result, 3, "File too large", "disk is full")
    assert list(out_dir.iterdir()) == []  # neither pred.csv nor a temporary file
    assert molgen(*args, "--n-jobs", "1").returncode == 0  # the same command without the limit works
    assert len(pd.read_csv(output)) == 400


@pytest.mark.slow
def test_train_on_a_full_disk_leaves_no_truncated_checkpoint(regression_csv: Path, tmp_path: Path):
    out = tmp_path / "run"
    args = ["train", "--data", str(regression_csv), "--target-columns", "logp", *FAST, "--max-epochs", "2"]
    result = molgen(*args, "--output", str(out), limit_bytes=16_000)  # a checkpoint of this model is ~100 kB
    assert_one_line(result, 3, "File too large")
    leftovers = [p.name for p in (out / "checkpoints").rglob("*") if p.is_file()]
    assert leftovers == [], leftovers  # no best.ckpt / last.ckpt cut short, no temporary file


def test_user_errors_exit_2_without_traceback(tmp_path: Path):
    (tmp_path / "in.csv").write_text("smiles\nCCO\n")
    model = tmp_path / "model"
    model.mkdir()
    args = ["predict", "--model", str(model), "--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "o.csv")]
    assert_one_line(molgen(*args), 2, "not a molgen model folder")
    assert_one_line(molgen(*args, "--threads", "0"), 2, "--threads '0': pass a positive number of threads or 'auto'")


def test_debug_shows_the_traceback(tmp_path: Path):
    (tmp_path / "in.csv").write_text("smiles\nCCO\n")
    output = tmp_path / "in.csv" / "out.csv"
    result = molgen("--debug", "predict", "--model", "x", "--input", str(tmp_path / "in.csv"), "--output", str(output))
    assert result.returncode == 1 and "Traceback" in result.stderr


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (KeyboardInterrupt(), 130, "interrupted"),
        (
            OSError(errno.EROFS, "Read-only file system", "/data/run/metrics.json"),
            3,
            "/data/run/metrics.json: Read-only",
        ),
        (PermissionError(errno.EACCES, "Permission denied", "/x"), 3, "/x: Permission denied"),
        (OSError(errno.ENOSPC, "No space left on device", "/x/best.ckpt"), 3, "/x/best.ckpt: No space left on device"),
        (MemoryError(), 3, "out of memory"),
        (RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory"), 3, "out of"),
    ],
)
def test_expected_faults_map_to_their_exit_status(error: BaseException, status: int, message: str):
    text, code = expected_failure(error)
    assert code == status and text.startswith(message) and "\n" not in text


@pytest.mark.parametrize("error", [IndexError("list index out of range"), KeyError("task"), RuntimeError("bug")])
def test_bugs_keep_their_traceback(error: BaseException):
    assert expected_failure(error) is None
    assert expected_failure(SystemExit(1)) is None  # a plain exit that is not an interrupt
    assert expected_failure(SystemExit(1), interrupted=True) == ("interrupted", 130)


@pytest.mark.slow
def test_a_killed_screen_run_manifest_shows_what_was_computed(tmp_path: Path):
    library = tmp_path / "library.csv"
    pd.DataFrame({"smiles": ["CCO", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O", "CCN(CC)CC"] * 6000}).to_csv(library)
    out = tmp_path / "out"
    args = ["screen", "--model", str(FORMAT1_MODEL), "--library", str(library), "--output", str(out)]
    log = tmp_path / "log.txt"
    with running([*args, "--chunk-size", "300", "--workers", "1"], log) as process:
        deadline, first_shard = time.monotonic() + 300, None
        while True:  # kill -9 once shards have been finishing for a while (fewer than the 80 planned)
            done = list((out / "shards").glob("*.parquet")) if (out / "shards").is_dir() else []
            if done and first_shard is None:
                first_shard = time.monotonic()
            if first_shard is not None and time.monotonic() - first_shard > 1.5 and len(done) >= 3:
                break
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no shard was written"
            time.sleep(0.05)
        process.kill()
        process.wait(timeout=60)
    done = {p.stem for p in (out / "shards").glob("*.parquet")}
    (run,) = json.loads((out / "manifest.json").read_text())["runs"]
    assert run["finished"] is None
    assert run["computed"], "the manifest of a killed run lists no computed shard"
    assert set(run["computed"]) <= done  # every shard it lists is on disk


@pytest.mark.slow
def test_metrics_json_says_why_a_single_class_test_target_was_skipped(tmp_path: Path):
    from tests.conftest import MOLECULES

    frame = pd.DataFrame({"smiles": MOLECULES, "split": ["train"] * 28 + ["val"] * 6 + ["test"] * 6})
    frame["y"] = [float(i % 2) for i in range(34)] + [1.0] * 6  # only class 1 in the test rows
    data = tmp_path / "cls.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "run"
    args = ["train", "--data", str(data), "--target-columns", "y", "--task-type", "binary", *FAST]
    split = ["--split", "predefined", "--split-column", "split", "--max-epochs", "1", "--metrics", "roc_auc"]
    result = molgen(*args, *split, "--output", str(out))
    assert result.returncode == 0, result.stderr
    text = (out / "metrics.json").read_text()
    assert "NaN" not in text  # strict JSON: the missing metric is null
    metrics = json.loads(text)
    assert metrics["test"]["roc_auc"] is None
    assert metrics["skipped"]["test"] == ["roc_auc for target 'y': only class 1 present"]


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 64 kB tmpfs: a real full disk (ENOSPC). Needs root (mount); skipped elsewhere."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the RLIMIT_FSIZE tests cover the rest")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


@pytest.mark.slow
def test_train_on_a_full_disk_leaves_no_truncated_checkpoint_tmpfs(regression_csv: Path, small_disk: Path):
    # Lightning's own writer saved to the system temp folder and then copied the file over: on a full disk
    # the copy left a truncated best.ckpt. molgen writes next to the target and renames.
    out = small_disk / "run"
    args = ["train", "--data", str(regression_csv), "--target-columns", "logp", *FAST, "--max-epochs", "2"]
    result = molgen(*args, "--output", str(out))
    assert_one_line(result, 3, "No space left on device")
    leftovers = [p.name for p in (out / "checkpoints").rglob("*") if p.is_file()]
    assert leftovers == [], leftovers
