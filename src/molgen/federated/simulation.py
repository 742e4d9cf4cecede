"""A federation on one machine: the server and every site as local processes talking gRPC on loopback.

The run folder ``output`` gets ``config.yaml`` (the training options every site uses), ``federation.yaml``
(the federation's options), ``sites.yaml`` (name → file), ``metrics.json`` (written by the server),
``sites/<name>/`` (each site's own run folder and model), ``logs/<process>.log`` and ``model/``: the sites'
models (global trunk + each site's head) as the members of one exported model, when every site has the same
targets and task state (else only the per-site models are exported, and this is logged).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from molgen.config import RunConfig, load_config, replace
from molgen.errors import ConfigError, InvalidInputError
from molgen.federated.settings import FederationSettings
from molgen.federated.site_folder import federation_card
from molgen.federated.worker import FEDERATION_FILE

log = logging.getLogger("molgen")

__all__ = ["export_federation", "simulate", "site_names"]


def site_names(files: list[Path]) -> list[str]:
    """One name per site file: its stem (``a.csv`` → ``a``), ``_2``, ``_3`` … added to repeated stems."""
    names: list[str] = []
    for path in files:
        stem = path.name.split(".")[0] or "site"
        name, n = stem, 1
        while name in names:
            n += 1
            name = f"{stem}_{n}"
        names.append(name)
    return names


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def simulate(
    cfg: RunConfig,
    files: list[str | Path],
    settings: FederationSettings,
    output: str | Path,
    *,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Runs the federation of ``files`` (one site each) with the server and sites as local processes.

    Returns:
        the federation's ``metrics.json`` record.

    Raises:
        InvalidInputError: a site file that does not exist, or a site that failed while too few sites remained
            (the message names the site and its file).
        ConfigError: contradictory options or a non-empty ``output`` without ``overwrite``.
    """
    paths = [Path(f) for f in files]
    for path in paths:
        if not path.is_file():
            raise InvalidInputError(f"--site {path}: no such file")
    if len(paths) < 2:
        raise ConfigError("a federation needs at least two --site files")
    run_dir = Path(output)
    if run_dir.exists() and any(run_dir.iterdir()):
        if not overwrite:
            raise ConfigError(f"--output {run_dir} already holds files; pass --overwrite or choose another --output")
        shutil.rmtree(run_dir)
    names = site_names(paths)
    settings = settings.model_copy(
        update={"server_address": f"127.0.0.1:{_free_port()}", "expected_sites": len(paths), "certificates": None}
    ).check()
    (run_dir / "logs").mkdir(parents=True)
    replace(cfg, output=str(run_dir)).save(run_dir / "config.yaml")
    (run_dir / FEDERATION_FILE).write_text(yaml.safe_dump(settings.model_dump(), sort_keys=False))
    (run_dir / "sites.yaml").write_text(yaml.safe_dump({n: str(p.resolve()) for n, p in zip(names, paths)}))
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // len(paths))))
    worker = [sys.executable, "-m", "molgen.federated.worker"]
    processes: dict[str, subprocess.Popen] = {}
    try:
        processes["server"] = _start([*worker, "serve", str(run_dir)], run_dir / "logs" / "server.log", env)
        for name, path in zip(names, paths):
            processes[name] = _start(
                [*worker, "site", str(run_dir), name, str(path.resolve())], _log(run_dir, name), env
            )
        _watch(processes, names, paths, settings.min_sites, run_dir)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    export_federation(run_dir, names)
    return dict(json.loads((run_dir / "metrics.json").read_text()))


def _log(run_dir: Path, name: str) -> Path:
    return run_dir / "logs" / f"site_{name}.log"


def _start(command: list[str], log_file: Path, env: dict[str, str]) -> subprocess.Popen:
    with open(log_file, "wb") as stream:
        return subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT, env=env)


def _last_line(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    return (errors or lines or ["(no output)"])[-1].removeprefix("error: ")


def _watch(
    processes: dict[str, subprocess.Popen], names: list[str], paths: list[Path], min_sites: int, run_dir: Path
) -> None:
    """Waits for the server; a site that fails is logged, and when fewer than ``min_sites`` remain the
    federation stops with the failed site's message."""
    failed: set[str] = set()
    server = processes["server"]
    while server.poll() is None:
        for name, path in zip(names, paths):
            code = processes[name].poll()
            if code not in (None, 0) and name not in failed:
                failed.add(name)
                log.warning("site %s (%s) stopped (status %s): %s", name, path, code, _last_line(_log(run_dir, name)))
                if len(names) - len(failed) < min_sites:
                    raise InvalidInputError(
                        f"site {name} ({path}) failed: {_last_line(_log(run_dir, name))}; "
                        f"{len(names) - len(failed)} site(s) left, fewer than --min-sites {min_sites} "
                        f"(logs: {run_dir / 'logs'})"
                    )
        time.sleep(0.2)
    if server.returncode != 0:
        raise InvalidInputError(
            f"the federation's server failed: {_last_line(run_dir / 'logs' / 'server.log')} (logs: {run_dir / 'logs'})"
        )
    deadline = time.monotonic() + 120
    for name in names:
        try:
            processes[name].wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("site %s did not stop after the last round; stopping it", name)


def export_federation(run_dir: Path, names: list[str]) -> Path | None:
    """``run_dir/model/``: the sites' exported models (global trunk + local head) as one model's members, when
    every site's ``model.yaml`` has the same task (targets and state); None (logged) otherwise."""
    from molgen.families import FAMILIES
    from molgen.training.artifacts import export_model, read_model

    metrics = json.loads((run_dir / "metrics.json").read_text())
    present = [n for n in names if (run_dir / "sites" / n / "model" / "model.yaml").is_file()]
    if not present:
        log.warning("no site finished the federation; no model/ exported")
        return None
    specs, members = [], []
    for name in present:
        spec, states = read_model(run_dir / "sites" / name / "model")
        specs.append(spec)
        members += FAMILIES.get(spec.family).load_predictors(spec, states)
    tasks = {yaml.safe_dump(s.section("task").model_dump()) for s in specs}
    if len(tasks) > 1:
        log.warning(
            "the sites' tasks differ (targets or target scaling): the federation's model is exported per site only "
            "(sites/<name>/model/), not as one model/"
        )
        return None
    federation = metrics["federation"]
    scores = {part: metrics[part] for part in ("val", "test") if part in metrics}
    spec = specs[0].model_copy(deep=True)
    spec.metrics = scores
    spec.trained_on = {**spec.trained_on, "data": f"federation of {', '.join(present)}", "federation": federation}
    cfg = load_config(run_dir / "sites" / present[0] / "config.yaml")
    cfg = replace(cfg, output=str(run_dir))
    members_line = (
        f"- **Members**: the {len(present)} site models (global trunk + each site's head); predictions are their "
        "mean, with `<target>_std` across them"
    )
    card = FAMILIES.get(spec.family).model_card(spec, cfg, scores)  # type: ignore[attr-defined]
    card = "\n".join(members_line if line.startswith("- **Members**") else line for line in card.split("\n"))
    card += federation_card(federation)
    return export_model(run_dir / "model", members, spec, card)
