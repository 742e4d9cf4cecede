"""Cost of the applicability domain: `molgen predict` and `molgen screen` with it on and off (`--no-domain`).

Usage:
    MOLGEN_DATA_DIR=../shared/data python benchmarks/applicability_domain.py [--n 50000] [--repeats 2]
        [--work /tmp/molgen-ad-bench] [--output benchmarks/results/applicability_domain.md]

1. Trains three D-MPNNs of Chemprop's default size (hidden 300, depth 3; 1 epoch: epochs do not change the
   speed) whose training sets grow: ESOL (902 training molecules), Lipophilicity (3,360) and 20,000 MOSES
   train molecules labelled with RDKit's Crippen logP (16,000).
2. Times, as whole processes from start to exit, `molgen predict` (all cores) and `molgen screen --workers 1`
   (in-process, one shard) on the first --n MOSES test molecules, after one untimed warm-up run, AD on and off
   alternately, --repeats times each; reports the median wall time and the median CPU time (user + sys of the process tree), since other
   jobs on a shared machine skew wall time.
3. The kernel alone: CPU µs per query molecule of the nearest-neighbour search against each training set.

Writes a Markdown table to --output (and JSON next to it); everything else goes under --work.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

MOLGEN = [sys.executable, "-m", "molgen"]
SIZE = ["--model", "dmpnn", "--hidden-dim", "300", "--depth", "3", "--max-epochs", "1"]


def moses(name: str, n: int) -> list[str]:
    data_dir = os.environ.get("MOLGEN_DATA_DIR")
    if not data_dir:
        sys.exit("set MOLGEN_DATA_DIR to the data mirror (it holds moses/test.csv.gz)")
    with gzip.open(Path(data_dir) / "moses" / f"{name}.csv.gz", "rt") as handle:
        return pd.read_csv(handle, nrows=n)["SMILES"].tolist()


def timed(args: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child tree) of one whole command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def train_models(work: Path) -> dict[str, Path]:
    from rdkit import Chem
    from rdkit.Chem import Crippen

    smiles = moses("train", 20_000)
    logp = [Crippen.MolLogP(Chem.MolFromSmiles(s)) for s in smiles]
    moses_csv = work / "moses20k_logp.csv"
    pd.DataFrame({"smiles": smiles, "logp": logp}).to_csv(moses_csv, index=False)
    runs = {
        "ESOL": ["--data", "esol"],
        "Lipophilicity": ["--data", "lipophilicity"],
        "MOSES 20k (Crippen logP)": ["--data", str(moses_csv), "--target-columns", "logp"],
    }
    models = {}
    for name, data in runs.items():
        out = work / name.split()[0].lower()
        if not (out / "model" / "model.yaml").is_file():
            shutil.rmtree(out, ignore_errors=True)
            subprocess.run([*MOLGEN, "train", *data, *SIZE, "--output", str(out)], check=True, capture_output=True)
        models[name] = out
    return models


def kernel_cost(model: Path, queries: list[str]) -> float:
    """CPU µs per query molecule of the nearest-training search (fingerprints given)."""
    from molgen.analysis.prediction import load_domain
    from molgen.chem.fingerprints import morgan_packed
    from molgen.chem.molecules import parse_smiles
    from molgen.training.artifacts import read_spec

    domain = load_domain(read_spec(model / "model"))
    assert domain is not None
    packed = morgan_packed([parse_smiles(s)[0] for s in queries], radius=2, n_bits=2048)
    domain.reference.nearest(packed[:10])  # imports scipy.sparse outside the timing
    start = time.process_time()
    domain.reference.nearest(packed)
    return (time.process_time() - start) / len(queries) * 1e6


def commands(command: str, model: Path, library: Path, work: Path, *, domain: bool) -> list[str]:
    """The `molgen predict` (all cores) or `molgen screen` (in-process) command line."""
    flag = [] if domain else ["--no-domain"]
    if command == "predict":
        return [
            *MOLGEN,
            "predict",
            "--model",
            str(model),
            "--input",
            str(library),
            "--output",
            str(work / "out.csv"),
            *flag,
        ]
    shutil.rmtree(work / "screen", ignore_errors=True)
    cmd = [*MOLGEN, "screen", "--model", str(model), "--library", str(library), "--output", str(work / "screen")]
    return [*cmd, "--workers", "1", *flag]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--work", default="/tmp/molgen-ad-bench")
    parser.add_argument("--output", default="benchmarks/results/applicability_domain.md")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    smiles = moses("test", args.n)
    library = work / "moses_test.csv"
    pd.DataFrame({"smiles": smiles}).to_csv(library, index=False)
    models = train_models(work)

    rows = []
    for name, model in models.items():
        spec = yaml.safe_load((model / "model" / "model.yaml").read_text(encoding="utf-8"))
        n_train = spec["applicability_domain"]["n_train"]
        kernel_us = kernel_cost(model, smiles[:5000])
        for command in ("predict", "screen"):
            times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
            timed(commands(command, model, library, work, domain=False))  # warm-up: file cache, loky workers
            for repeat in range(args.repeats):
                for domain in (True, False) if repeat % 2 == 0 else (False, True):
                    times[domain].append(timed(commands(command, model, library, work, domain=domain)))
                    print(name, command, "AD on" if domain else "AD off", *(f"{t:.1f}" for t in times[domain][-1]))
            wall = {d: statistics.median(t[0] for t in times[d]) for d in times}
            cpu = {d: statistics.median(t[1] for t in times[d]) for d in times}
            rows.append(
                {
                    "model": name,
                    "n_train": n_train,
                    "command": command,
                    "wall_off_s": wall[False],
                    "wall_on_s": wall[True],
                    "wall_overhead": wall[True] / wall[False] - 1,
                    "cpu_off_s": cpu[False],
                    "cpu_on_s": cpu[True],
                    "cpu_overhead": cpu[True] / cpu[False] - 1,
                    "mol_per_s_on": args.n / wall[True],
                    "kernel_us_per_query": kernel_us,
                }
            )
    load = os.getloadavg()
    lines = [
        f"# Applicability-domain cost: `molgen predict` / `molgen screen` on {args.n:,} MOSES test molecules",
        "",
        f"Command: `MOLGEN_DATA_DIR=../shared/data python benchmarks/applicability_domain.py --n {args.n} "
        f"--repeats {args.repeats}` ({os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}; load average at the end {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}).",
        "Models: D-MPNN hidden 300, depth 3. Times: median of the whole process (start to exit) over "
        f"{args.repeats} alternated runs after a warm-up run; CPU = user + sys of the process tree. Overhead = AD on / AD off - 1.",
        "",
        "| training set | n_train | command | wall off (s) | wall on (s) | wall overhead | CPU off (s) | CPU on (s) "
        "| CPU overhead | mol/s (AD on) | kernel CPU µs/query |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['n_train']:,} | {r['command']} | {r['wall_off_s']:.1f} | {r['wall_on_s']:.1f} "
            f"| {r['wall_overhead']:+.1%} | {r['cpu_off_s']:.1f} | {r['cpu_on_s']:.1f} | {r['cpu_overhead']:+.1%} "
            f"| {r['mol_per_s_on']:,.0f} | {r['kernel_us_per_query']:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    output.with_suffix(".json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
