"""`molgen screen` throughput and memory on MOSES molecules, as whole processes.

Usage:
    python benchmarks/speed/screening.py [--n 1000000] [--workers default 1 2] [--rss-rows 10000000]
        [--rss-minutes 8] [--model RUN_DIR] [--work /tmp/molgen-screen-bench] [--chemprop PATH --chemprop-n 50000]
        [--skip-throughput] [--options '' '--precision bf16-mixed'] [--repeat 2]

1. Without --model, trains a D-MPNN of Chemprop's default size (hidden 300, depth 3) on ESOL for 3 epochs.
2. Throughput: the first --n rows of MOSES train as one Parquet file; `molgen screen` timed from start to
   exit (imports, Dask start-up, reading, featurization, inference, writing) for each --workers value.
3. Memory: a --rss-rows library made by repeating MOSES train, as a folder of 1M-row Parquet files, screened
   with the last --workers value; peak RSS summed over the whole process tree (parent, Dask workers) is
   sampled every 0.5 s. The run is stopped after --rss-minutes (0: run to the end); the report says how far
   it got.
4. With --chemprop (a `chemprop` executable from a separate venv), `chemprop predict` on the first
   --chemprop-n molecules with a same-size model trained for 1 epoch on ESOL, timed the same way.

Everything is written under --work (never into the repository). Prints one table; the load average of the
machine before and after each run is part of it, since other processes skew every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq


def moses_train() -> list[str]:
    data_dir = os.environ.get("MOLGEN_DATA_DIR")
    if not data_dir:
        sys.exit("set MOLGEN_DATA_DIR to the data mirror (it holds moses/train.csv.gz)")
    with gzip.open(Path(data_dir) / "moses" / "train.csv.gz", "rt") as handle:
        return pd.read_csv(handle)["SMILES"].tolist()


def write_parquet(path: Path, smiles: list[str], start: int, n: int) -> None:
    rows = [smiles[(start + i) % len(smiles)] for i in range(n)]
    ids = [f"M{start + i:08d}" for i in range(n)]
    pq.write_table(pa.table({"SMILES": rows, "id": ids}), path, row_group_size=50_000)


class TreeMemory:
    """Samples the summed RSS of a process and all its descendants until stopped."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.root, self.every, self.peak, self.peak_processes = psutil.Process(pid), every, 0, 0
        self.samples: list[tuple[float, int]] = []  # (seconds since start, summed RSS in bytes)
        self._start = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for proc in procs:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += proc.memory_info().rss
            self.samples.append((time.perf_counter() - self._start, total))
            if total > self.peak:
                self.peak, self.peak_processes = total, len(procs)
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def quarter_peaks_gb(self) -> tuple[float, float]:
        """Peak RSS (GB) in the first and in the last quarter of the run: equal when memory does not grow."""
        if not self.samples:
            return 0.0, 0.0
        end = self.samples[-1][0]
        first = max((m for t, m in self.samples if t <= end / 4), default=0)
        last = max((m for t, m in self.samples if t >= 3 * end / 4), default=0)
        return first / 2**30, last / 2**30


def timed(command: list[str], limit_s: float | None = None) -> dict:
    """Runs ``command`` in its own process group; wall time, peak tree RSS, whether it was stopped."""
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    memory = TreeMemory(proc.pid)
    stopped = False
    try:
        output, _ = proc.communicate(timeout=limit_s)
    except subprocess.TimeoutExpired:
        stopped = True
        proc.send_signal(signal.SIGINT)  # the screen stops; finished shards stay on disk
        try:
            output, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the group this script started
            output, _ = proc.communicate()
    wall = time.perf_counter() - start
    memory.stop()
    if proc.returncode != 0 and not stopped:
        sys.exit(f"{' '.join(command)} failed ({proc.returncode}):\n{output[-3000:]}")
    return {
        "seconds": wall,
        "peak_rss_gb": memory.peak / 2**30,
        "processes": memory.peak_processes,
        "quarter_peaks_gb": memory.quarter_peaks_gb(),
        "stopped": stopped,
        "load": (load_before, os.getloadavg()[0]),
        "output": output,
    }


def screen_command(molgen: str, model: str, library: Path, output: Path, workers: str, chunk: int) -> list[str]:
    """``workers``: a ``--workers`` value, or ``default`` (the option left out)."""
    return [
        molgen,
        "screen",
        "--model",
        model,
        "--library",
        str(library),
        "--output",
        str(output),
        *([] if workers == "default" else ["--workers", workers]),
        "--chunk-size",
        str(chunk),
        "--top-k",
        "1000",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument(
        "--workers", nargs="+", default=["default", "1", "2"], help="--workers values; default: the option left out"
    )
    parser.add_argument(
        "--options",
        nargs="+",
        default=[""],
        help="sets of molgen screen options to compare, e.g. '' '--precision bf16-mixed' (each with each --workers)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="throughput runs of each variant, alternating")
    parser.add_argument(
        "--skip-throughput",
        action="store_true",
        help="only the memory run (with the last --workers) and the chemprop run",
    )
    parser.add_argument("--rss-rows", type=int, default=10_000_000, help="0 skips the memory run")
    parser.add_argument("--rss-minutes", type=float, default=8.0)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--model", help="run folder of a trained property model")
    parser.add_argument("--work", default="/tmp/molgen-screen-bench")
    parser.add_argument("--chemprop", help="path of a `chemprop` executable (its own venv)")
    parser.add_argument("--chemprop-n", type=int, default=50_000)
    args = parser.parse_args()
    molgen = str(Path(sys.executable).parent / "molgen")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    smiles = moses_train()
    rows: list[tuple[str, str, str, str, str, str]] = []

    model = args.model
    if model is None:
        model = str(work / "esol-dmpnn-300x3")
        if not (Path(model) / "model").is_dir():
            subprocess.run(
                [
                    molgen,
                    "train",
                    "--data",
                    "esol",
                    "--model",
                    "dmpnn",
                    "--hidden-dim",
                    "300",
                    "--depth",
                    "3",
                    "--max-epochs",
                    "3",
                    "--output",
                    model,
                ],
                check=True,
                capture_output=True,
            )

    library = work / f"moses_{args.n}.parquet"
    if not library.exists():
        write_parquet(library, smiles, 0, args.n)
    runs = [(w, o) for _ in range(args.repeat) for o in args.options for w in args.workers]
    for workers, options in [] if args.skip_throughput else runs:
        output = work / f"out-{args.n}-w{workers}"
        subprocess.run(["rm", "-rf", str(output)], check=True)
        r = timed(screen_command(molgen, model, library, output, workers, args.chunk_size) + options.split())
        rows.append(
            (
                f"molgen screen {options}, {args.n:,} MOSES, --workers {workers}".replace("screen ,", "screen,"),
                f"{args.n / r['seconds']:.0f}",
                f"{r['seconds']:.0f}",
                f"{r['peak_rss_gb']:.2f} ({r['processes']} procs)",
                f"{r['load'][0]:.1f} → {r['load'][1]:.1f}",
                "complete",
            )
        )

    if args.rss_rows:
        folder = work / f"library_{args.rss_rows}"
        if not folder.is_dir():
            folder.mkdir()
            for i, start in enumerate(range(0, args.rss_rows, 1_000_000)):
                write_parquet(folder / f"part{i:03d}.parquet", smiles, start, min(1_000_000, args.rss_rows - start))
        output = work / f"out-{args.rss_rows}"
        subprocess.run(["rm", "-rf", str(output)], check=True)
        workers = args.workers[-1]
        limit = args.rss_minutes * 60 or None
        r = timed(screen_command(molgen, model, folder, output, workers, args.chunk_size), limit)
        done = list((output / "shards").glob("*.parquet"))
        n_done = sum(pq.ParquetFile(p).metadata.num_rows for p in done)
        status = f"stopped after {len(done)} shards, {n_done:,} rows" if r["stopped"] else "complete"
        first, last = r["quarter_peaks_gb"]
        status += f"; peak RSS {first:.2f} GB in the first quarter, {last:.2f} GB in the last"
        rows.append(
            (
                f"molgen screen, {args.rss_rows:,}-row library, --workers {workers}",
                f"{n_done / r['seconds']:.0f}",
                f"{r['seconds']:.0f}",
                f"{r['peak_rss_gb']:.2f} ({r['processes']} procs)",
                f"{r['load'][0]:.1f} → {r['load'][1]:.1f}",
                status,
            )
        )

    if args.chemprop:
        chemprop_model = work / "chemprop-esol"
        if not chemprop_model.is_dir():
            esol = Path(os.environ["MOLGEN_DATA_DIR"]) / "moleculenet" / "esol.csv"
            target = next(c for c in pd.read_csv(esol, nrows=1).columns if "measured" in c.lower())
            subprocess.run(
                [
                    args.chemprop,
                    "train",
                    "--data-path",
                    str(esol),
                    "--smiles-columns",
                    "smiles",
                    "--target-columns",
                    target,
                    "--epochs",
                    "1",
                    "--warmup-epochs",
                    "0",
                    "--message-hidden-dim",
                    "300",
                    "--depth",
                    "3",
                    "--save-dir",
                    str(chemprop_model),
                ],
                check=True,
                capture_output=True,
            )
        checkpoint = next(chemprop_model.rglob("best*.pt"))
        subset = work / f"moses_{args.chemprop_n}.csv"
        pd.DataFrame({"smiles": smiles[: args.chemprop_n]}).to_csv(subset, index=False)
        r = timed(
            [
                args.chemprop,
                "predict",
                "--test-path",
                str(subset),
                "--model-paths",
                str(checkpoint),
                "--preds-path",
                str(work / "chemprop_preds.csv"),
            ]
        )
        rows.append(
            (
                f"chemprop predict, {args.chemprop_n:,} MOSES",
                f"{args.chemprop_n / r['seconds']:.0f}",
                f"{r['seconds']:.0f}",
                f"{r['peak_rss_gb']:.2f} ({r['processes']} procs)",
                f"{r['load'][0]:.1f} → {r['load'][1]:.1f}",
                "complete",
            )
        )

    print(f"model: {model}; chunk size {args.chunk_size}; cores: {os.cpu_count()}")
    header = ("what", "mol/s", "seconds", "peak RSS GB (tree)", "load avg", "status")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)))


if __name__ == "__main__":
    main()
