"""Utility vs privacy of DP-SGD (``--dp-epsilon``): test metric at ε ∈ {1, 3, 8, ∞} × seeds, and DP's time overhead.

Usage: python benchmarks/privacy.py [--epsilons 1 3 8 inf] [--seeds 0 1 2] [--sets lipophilicity ecoli_promoters_165]
           [--output benchmarks/results/privacy-<date>.md]

Each cell is one ``fit(cfg)`` (the path of ``molgen train``): Lipophilicity (random split) with ``fpmlp`` on Morgan
counts, and ``ecoli_promoters_165`` with the DNA ``cnn`` (a random split of its first ``--dna-rows`` rows, so that it
fits the CPU budget). ε = ∞ is the same model trained without DP (same epochs, batch size and learning rate); the
overhead is the mean wall time of a DP fit over the mean of the non-DP fits of the same set (after one untimed
warm-up fit per set that fills the featurization cache). Data come from
``$MOLGEN_DATA_DIR`` through the dataset catalog.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from molgen import __version__
from molgen.config import RunConfig
from molgen.recipes import fit

SETS: dict[str, dict[str, Any]] = {
    "lipophilicity": {
        "metric": "rmse",
        "values": {
            "data.name": "lipophilicity",
            "data.split": "random",
            "model.name": "fpmlp",
            "model.hidden_dims": [32],
            "model.dropout": 0.0,
        },
    },
    "ecoli_promoters_165": {
        "metric": "pearson",
        "values": {
            "data.name": "ecoli_promoters_165",
            "data.split": "random",
            "model.name": "cnn",
            "model.hidden_dim": 32,
            "model.depth": 2,
            "model.ffn_hidden_dim": 32,
        },
    },
}


def run_cell(name: str, epsilon: float, seed: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    values = {
        **SETS[name]["values"],
        "data.featurize_jobs": 1,
        "data.batch_size": args.batch_size,
        "trainer.max_epochs": args.epochs,
        "trainer.patience": 0,
        "trainer.seed": seed,
        "trainer.progress_bar": False,
        "trainer.accelerator": "cpu",
        "trainer.devices": 1,
        "optim.lr": args.lr,
        "output": str(work / f"{name}-{epsilon}-{seed}"),
    }
    if name == "ecoli_promoters_165":
        values["data.max_rows"] = args.dna_rows
    if math.isfinite(epsilon):
        values["privacy.epsilon"] = epsilon
    start = time.perf_counter()
    result = fit(RunConfig().with_values(values))
    seconds = time.perf_counter() - start
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    privacy = metrics.get("privacy") or {}
    return {
        "set": name,
        "epsilon": epsilon,
        "seed": seed,
        "metric": SETS[name]["metric"],
        "value": result.metrics["test"][SETS[name]["metric"]],
        "spent": privacy.get("epsilon"),
        "delta": privacy.get("delta"),
        "noise": privacy.get("noise_multiplier"),
        "steps": privacy.get("steps"),
        "seconds": seconds,
    }


def table(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"# DP-SGD utility vs privacy ({datetime.date.today()})",
        "",
        f"molgen {__version__}, torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch thread(s). Command: `python benchmarks/privacy.py "
        f"--epochs {args.epochs} --batch-size {args.batch_size} --lr {args.lr} --dna-rows {args.dna_rows} "
        f"--seeds {' '.join(map(str, args.seeds))}`.",
        "",
    ]
    for name in args.sets:
        lines += [
            "| set | model | ε target | test metric (mean ± sd over seeds) | ε spent | δ | noise σ | steps | fit s |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        base = [r["seconds"] for r in rows if r["set"] == name and not math.isfinite(r["epsilon"])]
        for epsilon in args.epsilons:
            cell = [r for r in rows if r["set"] == name and r["epsilon"] == epsilon]
            if not cell:
                continue
            vals = [r["value"] for r in cell]
            sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
            first = cell[0]
            spent = "–" if first["spent"] is None else f"{statistics.mean(r['spent'] for r in cell):.3f}"
            delta = "–" if first["delta"] is None else f"{first['delta']:.2g}"
            noise = "–" if first["noise"] is None else f"{first['noise']:.3f}"
            steps = "–" if first["steps"] is None else str(first["steps"])
            model = SETS[name]["values"]["model.name"]
            lines.append(
                f"| {name} | {model} | {'∞ (no DP)' if not math.isfinite(epsilon) else epsilon} | "
                f"{first['metric']} {statistics.mean(vals):.3f} ± {sd:.3f} | {spent} | {delta} | {noise} | {steps} | "
                f"{statistics.mean(r['seconds'] for r in cell):.1f} |"
            )
        dp = [r["seconds"] for r in rows if r["set"] == name and math.isfinite(r["epsilon"])]
        if base and dp:
            lines.append("")
            lines.append(
                f"{name}: DP-SGD fit time {statistics.mean(dp):.1f} s vs {statistics.mean(base):.1f} s without DP "
                f"(overhead ×{statistics.mean(dp) / statistics.mean(base):.2f}; whole fit incl. data loading)."
            )
            lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilons", type=float, nargs="+", default=[1.0, 3.0, 8.0, math.inf])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--dna-rows", type=int, default=3000)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--from-json", type=Path, default=None, help="re-render the table of a previous run's .json")
    args = parser.parse_args()
    if args.from_json is not None:
        text = table(json.loads(args.from_json.read_text()), args)
        print(text)
        if args.output is not None:
            args.output.write_text(text)
        return
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in args.sets:  # a warm-up fit (not timed) fills the featurization cache and imports
            run_cell(name, math.inf, 0, argparse.Namespace(**{**vars(args), "epochs": 1}), Path(work) / "warmup")
            for seed in args.seeds:
                for epsilon in args.epsilons:
                    row = run_cell(name, epsilon, seed, args, Path(work))
                    print(json.dumps(row), flush=True)
                    rows.append(row)
    text = table(rows, args)
    print(text)
    if args.output is not None:
        args.output.write_text(text)
        args.output.with_suffix(".json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
