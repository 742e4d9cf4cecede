"""Featurization speed, side by side: RDKit parse-only vs molgen (1 and 2 processes) vs PyG.

Run on demand (not a test)::

    python benchmarks/speed/featurization.py [--n 50000] [--data-dir DIR] [--block 10000]

Reads the first N SMILES of MOSES test (``<data dir>/moses/test.csv.gz``). The data folder is
``--data-dir`` when given, else ``$MOLGEN_DATA_DIR``; without either the script stops with a
message. Timings are whole calls (molgen: parse, features, one-hot, worker hand-off). Methods
take turns on blocks of molecules and ratios are against RDKit's parse-only rate from the same
turns, because absolute rates drift with machine load. The 2-process cold start (first call,
worker start-up included) is one call on all N. torch is imported and has run an op before
molgen is timed, as in a training process.

Module level imports only the standard library: with the forkserver start method this file
is imported once by the server process, so it must stay cheap to import.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import sys
import time
from pathlib import Path


def resolve_data_dir(cli_value: str | None) -> Path:
    """``--data-dir`` if given, else ``$MOLGEN_DATA_DIR``; exits with a message otherwise."""
    value = cli_value or os.environ.get("MOLGEN_DATA_DIR")
    if not value:
        sys.exit(
            "no data folder: pass --data-dir DIR or set MOLGEN_DATA_DIR to a folder holding "
            "moses/test.csv.gz (e.g. /work/shared/data)"
        )
    path = Path(value) / "moses" / "test.csv.gz"
    if not path.is_file():
        sys.exit(f"MOSES test set not found at {path}")
    return Path(value)


def read_moses_test(data_dir: Path, n: int) -> list[str]:
    """First ``n`` SMILES of MOSES test."""
    with gzip.open(data_dir / "moses" / "test.csv.gz", "rt", newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        column = header.index("SMILES")
        smiles = []
        for row in rows:
            if len(smiles) == n:
                break
            smiles.append(row[column])
    return smiles


def timed(function) -> tuple[float, float]:
    """(wall-clock, this process's CPU) seconds of one ``function()`` call, result freed inside.

    CPU time does not count waiting for a core, so for single-process methods it gives rates
    that hold up on a loaded machine; it leaves out worker processes, so it is not shown for
    the 2-process rows.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=50_000, help="molecules (default 50000)")
    parser.add_argument("--data-dir", help="folder with moses/test.csv.gz")
    parser.add_argument("--pyg-n", type=int, default=5_000, help="molecules for PyG (default 5000)")
    parser.add_argument("--block", type=int, default=10_000, help="interleaving block (10000)")
    args = parser.parse_args(argv)

    import torch  # as in a training process: torch loaded, its thread pool started
    from rdkit import Chem, rdBase
    from torch_geometric.utils import from_smiles

    from molgen.chem.featurize.atom_bond_tables import fast_path_verified
    from molgen.chem.featurize.graphs import featurize_smiles

    torch.ones(64, 64) @ torch.ones(64, 64)
    smiles = read_moses_test(resolve_data_dir(args.data_dir), args.n)
    n = len(smiles)
    blocks = [smiles[start : start + args.block] for start in range(0, n, args.block)]
    pyg_per_block = -(-min(args.pyg_n, n) // len(blocks))
    print(
        f"{n} MOSES test molecules | RDKit {rdBase.rdkitVersion} | torch {torch.__version__} | "
        f"{os.cpu_count()} CPUs | load average {os.getloadavg()[0]:.2f} | "
        f"pickle fast path: {fast_path_verified()}"
    )

    def parse_only(block: list[str]) -> None:  # streaming: each molecule freed at once
        for text in block:
            Chem.MolFromSmiles(text)

    # First multi-process call: starts the worker (a fresh interpreter); later calls reuse it.
    cold_seconds, _ = timed(lambda: featurize_smiles(smiles, n_jobs=2))
    # Methods take turns block by block, so load from other processes hits them alike.
    methods = {
        "RDKit MolFromSmiles (parse only)": (1, lambda block: parse_only(block)),
        "molgen featurize_smiles": (1, lambda block: featurize_smiles(block, n_jobs=1)),
        "molgen featurize_smiles, warm workers": (2, lambda block: featurize_smiles(block, n_jobs=2)),
        "PyG utils.from_smiles": (1, lambda block: [from_smiles(s) for s in block[:pyg_per_block]]),
    }
    wall = dict.fromkeys(methods, 0.0)
    cpu = dict.fromkeys(methods, 0.0)
    counts = dict.fromkeys(methods, 0)
    for block in blocks:
        for name, (_, run) in methods.items():
            block_wall, block_cpu = timed(lambda run=run, block=block: run(block))
            wall[name] += block_wall
            cpu[name] += block_cpu
            counts[name] += min(len(block), pyg_per_block) if name.startswith("PyG") else len(block)
    rows = [(name, counts[name], methods[name][0], wall[name], cpu[name]) for name in methods]
    rows.insert(3, ("molgen featurize_smiles, cold start", n, 2, cold_seconds, None))

    parse_rate, parse_cpu_rate = rows[0][1] / rows[0][3], rows[0][1] / rows[0][4]
    molgen_rate = rows[1][1] / rows[1][3]
    print(
        f"\n| {'method':37} | {'mols':>6} | procs | wall s |   mol/s | vs parse | vs molgen 1p "
        "| mol/CPU-s | vs parse (CPU) |"
    )
    print(f"|{'-' * 39}|--------|-------|--------|---------|----------|--------------|-----------|----------------|")
    for method, count, processes, elapsed, cpu_seconds in rows:
        rate = count / elapsed
        cpu_columns = "         - |              - |"
        if processes == 1:
            cpu_rate = count / cpu_seconds
            cpu_columns = f"{cpu_rate:10.0f} | {cpu_rate / parse_cpu_rate:13.2f}x |"
        print(
            f"| {method:37} | {count:6d} | {processes:5d} | {elapsed:6.2f} | {rate:7.0f} | "
            f"{rate / parse_rate:7.2f}x | {rate / molgen_rate:11.2f}x | {cpu_columns}"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
