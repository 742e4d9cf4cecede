"""Whole `molgen predict` processes side by side: a baseline source tree against this one, and this tree's
featurize-while-predicting path against featurize-then-predict at several input sizes (its threshold), and
float32 inference against bfloat16 (`--precision bf16-mixed`).

Usage:
    python benchmarks/speed/predict_overlap.py --model RUN_DIR --input moses50k.csv --baseline-src /tmp/base/src
    python benchmarks/speed/predict_overlap.py --model RUN_DIR --input moses50k.csv --baseline-src /tmp/base/src \
        --precision bf16-mixed
    python benchmarks/speed/predict_overlap.py --model RUN_DIR --input moses50k.csv --sizes 1000,2000,4000,8000
    python benchmarks/speed/predict_overlap.py --model RUN_DIR --input moses50k.csv --precisions

Each run is one process (`/usr/bin/time -v python -c 'molgen.cli.main.main(...)'`, PYTHONPATH = the source
tree) with the default --n-jobs and --threads; runs alternate between the variants. Reported per variant:
the wall times, the peak RSS of the largest process (`/usr/bin/time`) and of all its processes together
(psutil, sampled every 50 ms). Outputs are compared with the first variant's: same columns, rows, validity and
reasons, largest absolute difference of the numeric columns.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

REPO_SRC = Path(__file__).resolve().parents[2] / "src"
RUNNER = """
import sys
if sys.argv[1] != "-":  # force the overlap threshold (rows) of this tree
    import molgen.chem.featurize.chunks as chunks
    chunks.OVERLAP_MIN_ROWS = int(sys.argv[1])
from molgen.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


@dataclass
class Variant:
    name: str
    src: Path
    min_rows: str = "-"  # "-": the tree's own threshold
    options: list[str] = field(default_factory=list)  # extra `molgen predict` options
    walls: list[float] = field(default_factory=list)
    rss_max: list[float] = field(default_factory=list)
    rss_tree: list[float] = field(default_factory=list)


def run_once(variant: Variant, args: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(variant.src), "PYTHONWARNINGS": "ignore"}
    command = ["/usr/bin/time", "-v", sys.executable, "-c", RUNNER, variant.min_rows, *args]
    process = psutil.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    _, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"{variant.name} failed ({process.returncode}):\n{err[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", err)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    assert wall and rss, err[-2000:]
    hours, minutes, seconds = wall.groups()
    variant.walls.append(int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds))
    variant.rss_max.append(int(rss.group(1)) / 1024**2)
    variant.rss_tree.append(peak / 1024**3)


def compare(expected: Path, got: Path) -> str:
    a, b = pd.read_csv(expected), pd.read_csv(got)
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return f"DIFFERENT columns/rows: {list(a.columns)} {len(a)} vs {list(b.columns)} {len(b)}"
    same = a.select_dtypes(exclude="number").fillna("").equals(b.select_dtypes(exclude="number").fillna(""))
    numeric = a.select_dtypes("number").columns
    diff = np.nanmax(np.abs(a[numeric].to_numpy(float) - b[numeric].to_numpy(float))) if len(numeric) else 0.0
    nan_same = (a[numeric].isna().to_numpy() == b[numeric].isna().to_numpy()).all()
    return f"text columns equal: {same}, NaN cells equal: {nan_same}, max |numeric difference|: {diff:.3g}"


def side_by_side(variants: list[Variant], model: str, input_csv: Path, runs: int, work: Path) -> None:
    outputs = {v.name: work / f"{v.name}.csv" for v in variants}
    for _ in range(runs):
        for v in variants:
            output = ["--output", str(outputs[v.name])]
            run_once(v, ["predict", "--model", model, "--input", str(input_csv), *output, *v.options])
    rows = len(pd.read_csv(input_csv))
    print(f"\n{input_csv.name}: {rows} rows, {runs} runs each, alternating; load before: {os.getloadavg()[0]:.2f}")
    print("| variant | wall s (each) | median s | mol/s | peak RSS, largest process | peak RSS, all processes |")
    print("|---|---|---|---|---|---|")
    for v in variants:
        median = statistics.median(v.walls)
        each = ", ".join(f"{w:.2f}" for w in v.walls)
        print(
            f"| {v.name} | {each} | {median:.2f} | {rows / median:,.0f} | {max(v.rss_max):.2f} GB | "
            f"{max(v.rss_tree):.2f} GB |"
        )
    for v in variants[1:]:
        print(f"- {v.name} vs {variants[0].name}: {compare(outputs[variants[0].name], outputs[v.name])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--input", required=True, help="CSV with a smiles column")
    parser.add_argument("--baseline-src", help="src/ of the baseline tree (e.g. git archive of main)")
    parser.add_argument("--sizes", help="comma-separated row counts: overlapped vs featurize-then-predict")
    parser.add_argument("--precisions", action="store_true", help="this tree: float32 against bf16-mixed")
    parser.add_argument(
        "--precision", choices=["32", "bf16-mixed"], default="32", help="of both sides with --baseline-src"
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="molgen-predict-overlap-"))
    if args.baseline_src:
        options = ["--precision", args.precision]
        variants = [
            Variant("baseline", Path(args.baseline_src), options=options),
            Variant("this tree", REPO_SRC, options=options),
        ]
        side_by_side(variants, args.model, Path(args.input), args.runs, work)
    if args.precisions:
        variants = [
            Variant("float32", REPO_SRC),
            Variant("bf16-mixed", REPO_SRC, options=["--precision", "bf16-mixed"]),
        ]
        side_by_side(variants, args.model, Path(args.input), args.runs, work)
    if args.sizes:
        frame = pd.read_csv(args.input)
        for size in map(int, args.sizes.split(",")):
            part = work / f"rows{size}.csv"
            frame.head(size).to_csv(part, index=False)
            variants = [
                Variant("featurize, then predict", REPO_SRC, str(10**12)),
                Variant("featurize while predicting", REPO_SRC, "0"),
            ]
            side_by_side(variants, args.model, part, args.runs, work)


if __name__ == "__main__":
    main()
