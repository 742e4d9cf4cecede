"""Whole-process `molgen predict` throughput on MOSES test molecules, next to RDKit's parse-only rate.

Usage: python benchmarks/speed/predict.py [--n 50000] [--model RUN_DIR]
Without --model, trains a small D-MPNN on ESOL first (hidden 300, depth 3: Chemprop's default size).
Prints molecules/s for: RDKit MolFromSmiles alone (1 process), and `molgen predict` measured as a
subprocess from start to exit (imports, reading, featurization on all cores, inference, writing).
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from rdkit import Chem, RDLogger


def moses_test(n: int) -> list[str]:
    data_dir = os.environ.get("MOLGEN_DATA_DIR")
    if not data_dir:
        sys.exit("set MOLGEN_DATA_DIR to the data mirror (it holds moses/test.csv.gz)")
    with gzip.open(Path(data_dir) / "moses" / "test.csv.gz", "rt") as handle:
        return pd.read_csv(handle, nrows=n)["SMILES"].tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--model", help="run folder of a trained property model")
    args = parser.parse_args()
    molgen = str(Path(sys.executable).parent / "molgen")
    smiles = moses_test(args.n)
    work = Path(tempfile.mkdtemp(prefix="molgen-predict-bench-"))
    input_csv = work / "moses_test.csv"
    pd.DataFrame({"smiles": smiles}).to_csv(input_csv, index=False)

    RDLogger.DisableLog("rdApp.*")
    start = time.perf_counter()
    for s in smiles:
        Chem.MolFromSmiles(s)
    parse_rate = len(smiles) / (time.perf_counter() - start)

    model = args.model
    if model is None:
        model = str(work / "esol-dmpnn")
        subprocess.run(
            [molgen, "train", "--data", "esol", "--model", "dmpnn", "--max-epochs", "5", "--output", model],
            check=True,
            capture_output=True,
        )
    start = time.perf_counter()
    subprocess.run(
        [molgen, "predict", "--model", model, "--input", str(input_csv), "--output", str(work / "out.csv")],
        check=True,
        capture_output=True,
    )
    predict_s = time.perf_counter() - start
    rows = len(pd.read_csv(work / "out.csv"))
    assert rows == len(smiles), f"{rows} output rows for {len(smiles)} inputs"

    print(f"molecules: {len(smiles)} (MOSES test), cores: {os.cpu_count()}")
    print(f"{'what':44s} {'mol/s':>10s} {'seconds':>9s} {'vs parse':>9s}")
    print(f"{'RDKit MolFromSmiles only, 1 process':44s} {parse_rate:10.0f} {len(smiles) / parse_rate:9.1f} {1.0:9.2f}")
    rate = len(smiles) / predict_s
    print(f"{'molgen predict, whole process (dmpnn 300x3)':44s} {rate:10.0f} {predict_s:9.1f} {rate / parse_rate:9.2f}")


if __name__ == "__main__":
    main()
