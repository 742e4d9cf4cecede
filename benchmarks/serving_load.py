"""Load test of `molgen serve` on loopback with a D-MPNN trained briefly on ESOL.

Usage:
    python benchmarks/serving_load.py [--soak-minutes 10] [--output benchmarks/results/serving_load_<date>]
    python benchmarks/serving_load.py --only latency --output benchmarks/results/serving_latency_<date>

Bounded: every scenario sends a fixed number of requests (molecules per request × concurrent clients, from
an asyncio client on the same machine: aiohttp, whose C parser costs ~0.25 ms of CPU per request against
~1.7 ms for httpx, so the client takes little of the server's cores). Reports throughput (molecules/s),
p50/p99 latency, errors, the server's CPU time per request, its peak RSS and the load average of the
machine before each scenario; compares the batch throughput with `predict_frame` in-process (what
`molgen predict` runs) on the same molecules; measures the gain of dynamic batching (a server started with
--max-batch 1 cannot merge requests); and ends with a memory soak (RSS of the server and its workers sampled
every few seconds: start, end, peak and the slope in MB/min). `--only latency` runs the single-molecule
scenarios alone (a few minutes), for a rerun on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import httpx
import pandas as pd
import psutil

MOLGEN = str(Path(sys.executable).parent / "molgen")
WORK = Path(os.environ.get("MOLGEN_BENCH_DIR", "/tmp/molgen-serving-bench"))
SCENARIOS = [  # (molecules per request, concurrent clients, requests)
    (1, 1, 200),
    (1, 8, 400),
    (1, 64, 640),
    (32, 1, 60),
    (32, 8, 120),
    (32, 64, 192),
    (1024, 1, 6),
    (1024, 4, 8),
]
LATENCY = [(1, 1, 300), (1, 8, 800), (1, 64, 1280)]  # --only latency: single molecules, more requests


def train_model() -> Path:
    run = WORK / "esol_dmpnn"
    if not (run / "model" / "model.yaml").is_file():
        subprocess.run(
            [MOLGEN, "train", "--data", "esol", "--model", "dmpnn", "--max-epochs", "5", "--output", str(run)],
            check=True,
        )
    return run


def esol_smiles() -> list[str]:
    from molgen.data.catalog import get_dataset
    from molgen.data.sources import resolve

    spec = get_dataset("esol")
    frame = pd.read_csv(resolve(spec.remote))
    return frame[spec.input_column].astype(str).tolist()


class Server:
    def __init__(self, model: Path, *args: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._processes: list[psutil.Process] = []
        self._listed = -1e9
        self.process = subprocess.Popen(
            [MOLGEN, "serve", "--model", f"esol={model}", "--port", str(self.port), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server not ready")

    def processes(self) -> list[psutil.Process]:
        """The server and its worker processes; the list is refreshed every 5 s (listing children scans every
        process of the machine, ~5 ms that would stall the load client's event loop at each RSS sample)."""
        if time.monotonic() - self._listed > 5:
            proc = psutil.Process(self.process.pid)
            self._processes, self._listed = [proc, *proc.children(recursive=True)], time.monotonic()
        return self._processes

    def _sum(self, value: Callable[[psutil.Process], float]) -> float:
        total = 0.0
        for proc in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess):  # a worker that just exited
                total += value(proc)
        return total

    def rss_mb(self) -> float:
        """RSS of the server and its worker processes (MB)."""
        return self._sum(lambda p: p.memory_info().rss) / 2**20

    def cpu_s(self) -> float:
        """CPU time (user + system) of the server and its worker processes so far (s)."""
        return self._sum(lambda p: sum(p.cpu_times()[:2]))

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


class PeakRss:
    """Samples the server's RSS every 50 ms in a thread."""

    def __init__(self, server: Server) -> None:
        self.server, self.peak, self._stop = server, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.rss_mb())
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def load(url: str, smiles: list[str], size: int, clients: int, requests: int) -> dict:
    """``requests`` predict requests of ``size`` molecules from ``clients`` concurrent keep-alive connections."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = iter(range(requests))

    async def client(http: aiohttp.ClientSession) -> None:
        for i in counter:
            start = (i * size) % max(len(smiles) - size, 1)
            body = {"smiles": smiles[start : start + size]}
            t0 = time.perf_counter()
            try:
                async with http.post(f"{url}/v1/models/esol/predict", json=body) as response:
                    await response.read()
                    status = str(response.status)
            except (aiohttp.ClientError, asyncio.TimeoutError) as err:
                status = type(err).__name__
            latencies.append(time.perf_counter() - t0)
            if status != "200":
                errors[status] = errors.get(status, 0) + 1

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as http:
        async with http.get(f"{url}/healthz") as response:
            await response.read()
        t0 = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        wall = time.perf_counter() - t0
    latencies.sort()
    return {
        "molecules_per_request": size,
        "clients": clients,
        "requests": requests,
        "mol_per_s": round(requests * size / wall, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1),
        "errors": errors,
        "wall_s": round(wall, 2),
    }


def scenario(server: Server, smiles: list[str], size: int, clients: int, requests: int) -> dict:
    """One bounded load with the server's peak RSS, its CPU time per request and the load average before it."""
    load_avg = os.getloadavg()[0]
    cpu = server.cpu_s()
    with PeakRss(server) as rss:
        row = asyncio.run(load(server.url, smiles, size, clients, requests))
    row["server_cpu_ms_per_request"] = round(1000 * (server.cpu_s() - cpu) / requests, 2)
    row["peak_rss_mb"] = round(rss.peak, 1)
    row["load_avg_1min"] = round(load_avg, 2)
    return row


def in_process_rate(model_dir: Path, smiles: list[str], repeats: int = 3, threads: int = 0) -> float:
    """Molecules/s of ``predict_frame`` (what ``molgen predict`` runs) on 1,024-molecule chunks, with
    ``threads`` torch threads (0: one per CPU, as torch's default without ``$OMP_NUM_THREADS``)."""
    import torch

    from molgen.analysis.prediction import load_model, predict_frame

    default = torch.get_num_threads()
    torch.set_num_threads(threads or os.cpu_count() or 1)

    model = load_model(model_dir)
    chunks = [smiles[i : i + 1024] for i in range(0, 1024 * 2, 1024)]
    predict_frame(model, pd.DataFrame({"smiles": chunks[0]}), n_jobs=1)  # warm up
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        for chunk in chunks:
            predict_frame(model, pd.DataFrame({"smiles": chunk}), n_jobs=1, batch_size=256)
        best = max(best, sum(map(len, chunks)) / (time.perf_counter() - t0))
    torch.set_num_threads(default)
    return round(best, 1)


def paired_batch_ratio(server: Server, model_dir: Path, smiles: list[str], pairs: int = 3) -> list[dict]:
    """In-process and served rates on the same two 1,024-molecule chunks, measured back to back ``pairs``
    times (the machine is shared, so only neighbouring measurements compare)."""
    chunks = [smiles[i : i + 1024] for i in range(0, 2048, 1024)]
    out = []
    for _ in range(pairs):
        local = in_process_rate(model_dir, smiles, repeats=1, threads=1)
        t0 = time.perf_counter()
        for chunk in chunks:
            response = httpx.post(f"{server.url}/v1/models/esol/predict", json={"smiles": chunk}, timeout=120)
            response.raise_for_status()
        served = round(2048 / (time.perf_counter() - t0), 1)
        out.append({"in_process_mol_per_s": local, "served_mol_per_s": served, "ratio": round(served / local, 3)})
        print("paired 1,024-molecule batches:", out[-1])
    return out


def soak(server: Server, smiles: list[str], minutes: float, every_s: float = 5.0) -> dict:
    """Mixed load (8 clients, 1- and 32-molecule requests) for ``minutes``; the RSS of the server and its workers
    sampled every ``every_s`` seconds in a thread. Slopes are least-squares fits (MB/min) over all samples and
    over the second half (past the allocator's warm-up)."""
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    t0 = time.monotonic()

    def sample() -> None:
        while not stop.is_set():
            samples.append((round(time.monotonic() - t0, 1), round(server.rss_mb(), 1)))
            stop.wait(every_s)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    requests, errors, loads = 0, 0, []
    try:
        while time.monotonic() - t0 < 60 * minutes:
            for size, n in ((1, 200), (32, 40)):
                row = asyncio.run(load(server.url, smiles, size, 8, n))
                requests, errors = requests + n, errors + sum(row["errors"].values())
            loads.append(os.getloadavg()[0])
    finally:
        stop.set()
        sampler.join()
    samples.append((round(time.monotonic() - t0, 1), round(server.rss_mb(), 1)))
    rss = [m for _, m in samples]
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    first = [m for t, m in samples if t <= 60]
    last = [m for t, m in samples if t >= samples[-1][0] - 60]
    return {
        "minutes": round(samples[-1][0] / 60, 2),
        "requests": requests,
        "errors": errors,
        "start_mb": rss[0],
        "end_mb": rss[-1],
        "peak_mb": max(rss),
        "first_minute_mean_mb": round(statistics.mean(first), 1),
        "last_minute_mean_mb": round(statistics.mean(last), 1),
        "slope_mb_per_min": slope(samples),
        "slope_second_half_mb_per_min": slope(half),
        "load_avg_1min": [round(min(loads), 2), round(max(loads), 2)] if loads else None,
        "samples": samples,
    }


def slope(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per minute."""
    if len(samples) < 2:
        return 0.0
    return round(60 * statistics.linear_regression([t for t, _ in samples], [m for _, m in samples]).slope, 3)


LATENCY_COMMAND = "python benchmarks/serving_load.py --only latency --output benchmarks/results/serving_latency_<date>"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--soak-minutes", type=float, default=10, help="length of the memory soak (0: none)")
    parser.add_argument("--only", choices=["all", "latency"], default="all", help="latency: single molecules only")
    parser.add_argument("--output", type=Path, help="write <output>.json and <output>.md")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    model = train_model()
    smiles = esol_smiles()
    results: dict = {"only": args.only, "scenarios": [], "no_batching": []}
    if args.only == "all":
        rates = {t: in_process_rate(model / "model", smiles, threads=t) for t in (0, 1)}
        print(f"in-process predict_frame: {rates} mol/s (one thread per CPU, one thread)")
        results.update(in_process_mol_per_s=max(rates.values()), in_process_by_threads=rates)

    server = Server(model, "--max-batch", "1024")
    try:
        for size, clients, requests in SCENARIOS if args.only == "all" else LATENCY:
            results["scenarios"].append(scenario(server, smiles, size, clients, requests))
            print(results["scenarios"][-1])
        if args.only == "all":
            results["paired"] = paired_batch_ratio(server, model / "model", smiles)
            if args.soak_minutes > 0:
                results["soak"] = soak(server, smiles, args.soak_minutes)
                print("soak:", {k: v for k, v in results["soak"].items() if k != "samples"})
    finally:
        server.stop()
    natural = Server(model, "--batch-wait-ms", "0")  # never waits: batches only what queued during a call
    try:
        results["no_wait"] = [scenario(natural, smiles, *row) for row in LATENCY]
        print("batch wait 0:", results["no_wait"])
    finally:
        natural.stop()
    if args.only == "all":
        plain = Server(model, "--max-batch", "1", "--batch-wait-ms", "0")  # every request its own model call
        try:
            for size, clients, requests in [(1, 8, 400), (1, 64, 640)]:
                results["no_batching"].append(scenario(plain, smiles, size, clients, requests))
                print("no batching:", results["no_batching"][-1])
        finally:
            plain.stop()
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()}
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
        args.output.with_suffix(".md").write_text(markdown(results, args))
        print(f"wrote {args.output.with_suffix('.md')}")


def table(rows: list[dict], rate: float | None = None) -> list[str]:
    share = "| % of in-process " if rate else ""
    lines = [
        f"| molecules/request | clients | requests | mol/s {share}| p50 ms | p99 ms | errors | server CPU ms/request "
        "| peak RSS MB | load avg (1 min) before |",
        "|---" * (11 if rate else 10) + "|",
    ]
    for r in rows:
        cell = f"| {100 * r['mol_per_s'] / rate:.0f}% " if rate else ""
        lines.append(
            f"| {r['molecules_per_request']} | {r['clients']} | {r['requests']} | {r['mol_per_s']} {cell}"
            f"| {r['p50_ms']} | {r['p99_ms']} | {sum(r['errors'].values())} | {r['server_cpu_ms_per_request']} "
            f"| {r['peak_rss_mb']} | {r['load_avg_1min']} |"
        )
    return lines


def markdown(results: dict, args: argparse.Namespace) -> str:
    rate = results.get("in_process_mol_per_s")
    command = f"python benchmarks/serving_load.py --soak-minutes {args.soak_minutes:g} --output {args.output}"
    if args.only == "latency":
        command = f"python benchmarks/serving_load.py --only latency --output {args.output}"
    lines = [
        "# molgen serve: loopback load test (D-MPNN, ESOL, 5 epochs)",
        "",
        f"Machine: {results['machine']['cpus']} CPUs shared with other jobs (load average at the end "
        f"{results['machine']['load_avg'][0]:.1f}; before each scenario in the tables); client (aiohttp) and server "
        "on the same cores; one worker, default limits (`--max-batch 1024`, `--batch-wait-ms 2`, one torch thread). "
        f"Command: `{command}`.",
        "",
        f"Latency alone, for a rerun on a quiet machine (single molecules; a few minutes): `{LATENCY_COMMAND}`.",
        "",
    ]
    if rate:
        lines += [
            f"In-process `predict_frame` (what `molgen predict` runs), 1,024-molecule chunks: **{rate} mol/s** (the "
            f"faster of one torch thread per CPU, {results['in_process_by_threads'][0]}, and one thread, "
            f"{results['in_process_by_threads'][1]}; the server runs one torch thread per worker).",
            "",
        ]
    lines += table(results["scenarios"], rate)
    paired = results.get("paired", [])
    if paired:
        ratios = sorted(p["ratio"] for p in paired)
        lines += [
            "",
            "Batch throughput against in-process, measured back to back on the same two 1,024-molecule chunks "
            f"({len(paired)} pairs, one torch thread each): served / in-process = "
            + ", ".join(f"{p['served_mol_per_s']} / {p['in_process_mol_per_s']} mol/s" for p in paired)
            + f"; median ratio **{ratios[len(ratios) // 2]:.0%}**.",
        ]
    if results["no_batching"]:
        lines += ["", "Dynamic batching (same load, a server started with `--max-batch 1 --batch-wait-ms 0`):", ""]
        lines += ["| clients | batched mol/s | unbatched mol/s | gain |", "|---|---|---|---|"]
        batched = {(r["molecules_per_request"], r["clients"]): r for r in results["scenarios"]}
        for r in results["no_batching"]:
            b = batched[(1, r["clients"])]
            lines.append(
                f"| {r['clients']} | {b['mol_per_s']} | {r['mol_per_s']} | {b['mol_per_s'] / r['mol_per_s']:.1f}× |"
            )
    lines += [
        "",
        "Single molecules with `--batch-wait-ms 0` (never waits; batches form from requests queued during a call):",
        "",
    ]
    lines += table(results.get("no_wait", []))
    soak = results.get("soak")
    if soak:
        lines += [
            "",
            f"Memory soak ({soak['minutes']:.1f} min of mixed 1- and 32-molecule requests from 8 clients, "
            f"{soak['requests']} requests, {soak['errors']} errors, load average {soak['load_avg_1min'][0]}–"
            f"{soak['load_avg_1min'][1]}; RSS of the server and its worker sampled every 5 s): start "
            f"**{soak['start_mb']} MB**, end **{soak['end_mb']} MB**, peak **{soak['peak_mb']} MB**; slope "
            f"**{soak['slope_mb_per_min']} MB/min** over all samples, {soak['slope_second_half_mb_per_min']} MB/min "
            f"over the second half; mean {soak['first_minute_mean_mb']} MB in the first minute, "
            f"{soak['last_minute_mean_mb']} MB in the last.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
