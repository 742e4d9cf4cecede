"""Load test of `molgen serve` on loopback with a D-MPNN trained briefly on ESOL.

Usage: python benchmarks/serving_load.py [--soak-s 120] [--output benchmarks/results/serving_load]

Bounded: every scenario sends a fixed number of requests (molecules per request × concurrent clients, from
an asyncio client on the same machine). Reports throughput (molecules/s), p50/p99 latency, errors and the
server's peak RSS; compares the batch throughput with `predict_frame` in-process (what `molgen predict`
runs) on the same molecules; measures the gain of dynamic batching (a server started with --max-batch 1
cannot merge requests); and ends with a memory soak (RSS sampled every 5 s). The client shares the CPU
with the server, so these are conservative figures for the server alone.
"""

from __future__ import annotations

import argparse
import asyncio
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
from pathlib import Path

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

    def rss_mb(self) -> float:
        proc = psutil.Process(self.process.pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20

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
    """``requests`` predict requests of ``size`` molecules from ``clients`` concurrent connections."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(http: httpx.AsyncClient) -> None:
        for i in counter:
            start = (i * size) % max(len(smiles) - size, 1)
            body = {"smiles": smiles[start : start + size]}
            t0 = time.perf_counter()
            try:
                response = await http.post(f"{url}/v1/models/esol/predict", json=body)
                status = str(response.status_code)
            except httpx.HTTPError as err:
                status = type(err).__name__
            latencies.append(time.perf_counter() - t0)
            if status != "200":
                errors[status] = errors.get(status, 0) + 1

    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        await http.get(f"{url}/healthz")
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


def in_process_rate(model_dir: Path, smiles: list[str], repeats: int = 3, threads: int = 0) -> float:
    """Molecules/s of ``predict_frame`` (what ``molgen predict`` runs) on 1,024-molecule chunks, with
    ``threads`` torch threads (0: torch's default, as ``molgen predict``)."""
    import torch

    from molgen.analysis.prediction import load_model, predict_frame

    default = torch.get_num_threads()
    torch.set_num_threads(threads or default)

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


def soak(server: Server, smiles: list[str], seconds: float) -> list[tuple[float, float]]:
    """Mixed load (8 clients, 1- and 32-molecule requests) for ``seconds``; RSS every 5 s."""
    samples = [(0.0, round(server.rss_mb(), 1))]
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        asyncio.run(load(server.url, smiles, 1, 8, 200))
        asyncio.run(load(server.url, smiles, 32, 8, 40))
        if time.monotonic() - t0 - samples[-1][0] >= 5:
            samples.append((round(time.monotonic() - t0, 1), round(server.rss_mb(), 1)))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--soak-s", type=float, default=120)
    parser.add_argument("--output", type=Path, help="write <output>.json and <output>.md")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    model = train_model()
    smiles = esol_smiles()
    rates = {t: in_process_rate(model / "model", smiles, threads=t) for t in (0, 1)}
    rate = max(rates.values())  # the faster of torch's default threads and one thread (the server's default)
    print(f"in-process predict_frame: {rates} mol/s (default threads, 1 thread)")
    results: dict = {"in_process_mol_per_s": rate, "in_process_by_threads": rates, "scenarios": [], "no_batching": []}

    server = Server(model, "--max-batch", "1024")
    try:
        for size, clients, requests in SCENARIOS:
            with PeakRss(server) as rss:
                row = asyncio.run(load(server.url, smiles, size, clients, requests))
            row["peak_rss_mb"] = round(rss.peak, 1)
            results["scenarios"].append(row)
            print(row)
        results["paired"] = paired_batch_ratio(server, model / "model", smiles)
        results["soak"] = soak(server, smiles, args.soak_s)
        print("soak RSS (s, MB):", results["soak"])
    finally:
        server.stop()
    natural = Server(model, "--batch-wait-ms", "0")  # batches only what queued during the previous call
    try:
        results["no_wait"] = [
            asyncio.run(load(natural.url, smiles, 1, c, n)) for c, n in [(1, 200), (8, 400), (64, 640)]
        ]
        print("batch wait 0:", results["no_wait"])
    finally:
        natural.stop()
    plain = Server(model, "--max-batch", "1", "--batch-wait-ms", "0")  # every request its own model call
    try:
        for size, clients, requests in [(1, 8, 400), (1, 64, 640)]:
            row = asyncio.run(load(plain.url, smiles, size, clients, requests))
            results["no_batching"].append(row)
            print("no batching:", row)
    finally:
        plain.stop()
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()}
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
        args.output.with_suffix(".md").write_text(markdown(results, args.soak_s))
        print(f"wrote {args.output.with_suffix('.md')}")


def markdown(results: dict, soak_s: float) -> str:
    rate = results["in_process_mol_per_s"]
    lines = [
        "# molgen serve: loopback load test (D-MPNN, ESOL, 5 epochs)",
        "",
        f"Machine: {results['machine']['cpus']} CPUs shared with other jobs (load average at the end "
        f"{results['machine']['load_avg'][0]:.1f}); client and server on the same cores; one worker, default "
        "limits, `--max-batch 1024`, `--batch-wait-ms 2`. Command: `python benchmarks/serving_load.py "
        f"--soak-s {soak_s:g} --output benchmarks/results/serving_load_<date>`.",
        "",
        f"In-process `predict_frame` (what `molgen predict` runs), 1,024-molecule chunks: **{rate} mol/s** (the "
        f"faster of torch's default threads, {results['in_process_by_threads'][0]}, and one thread, "
        f"{results['in_process_by_threads'][1]}; the server runs one torch thread per worker).",
        "",
        "| molecules/request | clients | requests | mol/s | % of in-process | p50 ms | p99 ms | errors | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["scenarios"]:
        share = 100 * r["mol_per_s"] / rate
        lines.append(
            f"| {r['molecules_per_request']} | {r['clients']} | {r['requests']} | {r['mol_per_s']} | {share:.0f}% "
            f"| {r['p50_ms']} | {r['p99_ms']} | {sum(r['errors'].values())} | {r['peak_rss_mb']} |"
        )
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
        "Single molecules with `--batch-wait-ms 0` (batches form only from requests queued during a call):",
        "",
    ]
    lines += ["| clients | mol/s | p50 ms | p99 ms | errors |", "|---|---|---|---|---|"]
    for r in results.get("no_wait", []):
        lines.append(
            f"| {r['clients']} | {r['mol_per_s']} | {r['p50_ms']} | {r['p99_ms']} | {sum(r['errors'].values())} |"
        )
    soak = results["soak"]
    lines += [
        "",
        f"Memory soak ({soak[-1][0]:.0f} s of mixed 1- and 32-molecule requests from 8 clients): RSS "
        f"{soak[0][1]} MB at start, {soak[-1][1]} MB at the end, max {max(m for _, m in soak)} MB.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
