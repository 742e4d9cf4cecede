"""Several `molgen tune` workers on one study: real processes, real SQLite and PostgreSQL storage.

PostgreSQL comes from Debian's `postgresql` package (binaries in /usr/lib/postgresql/<version>/bin); the
fixture starts a throwaway server on a free loopback port (as the `postgres` user when run as root) and
removes it afterwards. Without PostgreSQL the test skips locally and fails in CI (`CI` set).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState

MOLGEN = str(Path(sys.executable).parent / "molgen")
SMALL = ["--hidden-dim", "16", "--max-epochs", "2", "--featurize-jobs", "1", "--batch-size", "16", "--patience", "0"]
DONE = (TrialState.COMPLETE, TrialState.PRUNED)


@pytest.fixture
def space(tmp_path: Path) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "params": {
                    "optim.lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
                    "model.depth": {"type": "int", "low": 1, "high": 3},
                }
            }
        )
    )
    return path


def tune_command(csv: Path, space: Path, output: Path, n_trials: int, *extra: str) -> list[str]:
    return [
        MOLGEN,
        "tune",
        "--data",
        str(csv),
        "--target-columns",
        "logp",
        "--space",
        str(space),
        "--n-trials",
        str(n_trials),
        "--output",
        str(output),
        "--study-name",
        "tiny",
        "--heartbeat",
        "2",
        *SMALL,
        *extra,
    ]


def start(command: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, text=True)


def finish(process: subprocess.Popen, log: Path, timeout: float = 300) -> str:
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    text = log.read_text()
    assert process.returncode == 0, f"molgen tune exited {process.returncode}:\n{text[-4000:]}"
    return text


def run_workers(commands: list[list[str]], tmp_path: Path) -> list[str]:
    logs = [tmp_path / f"worker_{i}.log" for i in range(len(commands))]
    processes = [start(command, log) for command, log in zip(commands, logs, strict=True)]
    return [finish(p, log) for p, log in zip(processes, logs, strict=True)]


def load(url: str) -> optuna.Study:
    return optuna.load_study(study_name="tiny", storage=url)


def assert_exactly(study: optuna.Study, n: int) -> None:
    done = study.get_trials(states=DONE)
    assert len(done) == n, [(t.number, t.state.name, t.user_attrs) for t in study.trials]
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))


# --- SQLite ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_sqlite_workers_finish_exactly_n_trials_then_a_third_resumes(regression_csv, space, tmp_path):
    out = tmp_path / "tune"
    command = tune_command(regression_csv, space, out, 4)
    logs = run_workers([command, command], tmp_path)
    url = f"sqlite:///{out / 'study.db'}"
    study = load(url)
    assert_exactly(study, 4)
    assert len({t.user_attrs["worker"] for t in study.get_trials(states=DONE)}) == 2, "both workers ran trials"
    for text in logs:
        assert "optuna-dashboard sqlite:///" in text and "best_config" in text
    for trial in study.get_trials(states=DONE):
        assert (out / "trials" / f"trial_{trial.number}" / "config.yaml").is_file()
    best = yaml.safe_load((out / "best_config.yaml").read_text())
    assert best["optim"]["lr"] == study.best_trial.params["optim.lr"]
    assert best["model"]["depth"] == study.best_trial.params["model.depth"]

    # Resume: the same command with a larger total continues the study (no duplicate-creation error).
    text = run_workers([tune_command(regression_csv, space, out, 6)], tmp_path)[0]
    assert "Using an existing study" in text
    assert_exactly(load(url), 6)


CREATE = """
import sys, time
import optuna
from molgen.tuning.storage import create_or_load_study, open_storage
url, at = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, at - time.time()))  # every process is released at the same instant
storage = open_storage(url, heartbeat_interval=5)
create_or_load_study(storage, "race", direction="minimize", sampler=optuna.samplers.RandomSampler(),
                     pruner=optuna.pruners.NopPruner(), attrs={"metric": "val/rmse"})
"""


def create_concurrently(url: str, n: int = 4) -> None:
    """n processes released at one instant create the same study on a fresh storage."""
    at = time.time() + 5  # after their imports (about 1 s)
    processes = [
        subprocess.Popen([sys.executable, "-c", CREATE, url, str(at)], stderr=subprocess.PIPE, text=True)
        for _ in range(n)
    ]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0] * n, "\n".join(errors)
    assert optuna.study.get_all_study_names(url) == ["race"]


@pytest.mark.slow
def test_simultaneous_study_creation_on_a_fresh_sqlite_file(tmp_path):
    create_concurrently(f"sqlite:///{tmp_path / 'fresh' / 'study.db'}")


# --- a worker killed mid-trial -----------------------------------------------------------------------


@pytest.mark.slow
def test_killed_worker_trial_is_failed_by_heartbeat_and_retried(regression_csv, space, tmp_path):
    out = tmp_path / "tune"
    # Longer trials (40 epochs) so the kill lands mid-training. The median pruner reports every epoch (how the
    # test sees training under way) but prunes nothing before its 5 startup trials.
    command = tune_command(regression_csv, space, out, 3, "--max-epochs", "40", "--pruner", "median")
    victim_log, survivor_log = tmp_path / "victim.log", tmp_path / "survivor.log"
    victim, survivor = start(command, victim_log), start(command, survivor_log)
    url = f"sqlite:///{out / 'study.db'}"
    victim_trial = _wait_for_running_trial(url, victim, victim_log)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    finish(survivor, survivor_log)

    study = load(url)
    assert_exactly(study, 3)
    killed = study.trials[victim_trial]
    assert killed.state == TrialState.FAIL
    retries = [t for t in study.trials if t.system_attrs.get("failed_trial") == victim_trial]
    assert len(retries) == 1, [(t.number, t.state.name, t.system_attrs) for t in study.trials]
    (retry,) = retries
    assert retry.state in DONE and retry.params == killed.params
    assert retry.user_attrs["worker"].endswith(f":{survivor.pid}")


def _wait_for_running_trial(url: str, victim: subprocess.Popen, log: Path, timeout: float = 180) -> int:
    """The number of a trial the victim is training (it has reported at least one epoch)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert victim.poll() is None, f"victim exited early:\n{log.read_text()[-3000:]}"
        try:
            for trial in load(url).get_trials(states=(TrialState.RUNNING,)):
                if trial.user_attrs.get("worker", "").endswith(f":{victim.pid}") and trial.intermediate_values:
                    return trial.number
        except Exception:  # the study or its tables do not exist yet
            pass
        time.sleep(0.2)
    raise AssertionError(f"the victim never trained a trial:\n{log.read_text()[-3000:]}")


# --- PostgreSQL --------------------------------------------------------------------------------------


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} — CI must provide it (apt-get install -y postgresql; pip install -e '.[dev]')")
    pytest.skip(reason)


def _postgres_bin() -> Path | None:
    candidates = [Path(os.environ["MOLGEN_PG_BIN"])] if os.environ.get("MOLGEN_PG_BIN") else []
    versions = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
    candidates += sorted(versions, key=lambda p: int(p.parent.name), reverse=True)  # newest first
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).parent)
    return next((c for c in candidates if (c / "initdb").is_file() and (c / "postgres").is_file()), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[tuple[str, int]]:
    """A throwaway PostgreSQL on 127.0.0.1:<free port>, trust auth; yields (host, port)."""
    bindir = _postgres_bin()
    if bindir is None:
        _skip_or_fail("PostgreSQL server binaries not found (Debian: apt-get install -y postgresql)")
    try:
        import psycopg2
    except ImportError:
        _skip_or_fail("psycopg2 not installed (pip install -e '.[tune]')")
    root = Path(tempfile.mkdtemp(prefix="molgen-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    subprocess.run(
        [
            *as_user,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-locale",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    log = (root / "server.log").open("w")
    server = subprocess.Popen(
        [
            *as_user,
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-k",
            str(root),
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=50",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres").close()
                break
            except psycopg2.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not start:\n{(root / 'server.log').read_text()}") from None
                time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        pid_file = data / "postmaster.pid"
        if pid_file.is_file():
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)  # fast shutdown
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def new_database(server: tuple[str, int], name: str) -> str:
    import psycopg2

    host, port = server
    connection = psycopg2.connect(host=host, port=port, user="postgres", dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    connection.close()
    return f"postgresql+psycopg2://postgres@{host}:{port}/{name}"


@pytest.mark.slow
def test_two_postgres_workers_finish_exactly_n_trials(postgres_server, regression_csv, space, tmp_path):
    url = new_database(postgres_server, "tune_workers")
    # Each worker has its own output folder, as on two machines; only the storage is shared.
    commands = [tune_command(regression_csv, space, tmp_path / f"machine_{i}", 4, "--storage", url) for i in range(2)]
    logs = run_workers(commands, tmp_path)
    study = load(url)
    assert_exactly(study, 4)
    assert len({t.user_attrs["worker"] for t in study.get_trials(states=DONE)}) == 2
    for i, text in enumerate(logs):
        assert "optuna-dashboard postgresql+psycopg2://postgres@" in text
        assert (tmp_path / f"machine_{i}" / "best_config.yaml").is_file()
        assert not (tmp_path / f"machine_{i}" / "study.db").exists()


@pytest.mark.slow
def test_simultaneous_study_creation_on_a_fresh_postgres_database(postgres_server):
    create_concurrently(new_database(postgres_server, "tune_race"))
