"""Renders the CPU-budget MOSES table of molgen's CharRNN and VAE next to the MOSES paper's baselines.

    python benchmarks/generation_moses_cpu.py --run charrnn=RUN_DIR:EVAL_DIR:GEN_LOG --run vae=… \
        --note "…" > benchmarks/results/generation_moses_cpu.md

RUN_DIR is a ``molgen train`` run folder (config.yaml, metrics.json, logs/metrics.csv), EVAL_DIR the output of
``molgen evaluate-generation`` on its samples, GEN_LOG the stdout of ``molgen generate`` (molecules/s).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
from pathlib import Path

import yaml

# MOSES paper (Polykovskiy et al., Front. Pharmacol. 2020), as quoted in molgen issue 3.
PAPER = {
    "CharRNN": {"valid": 0.975, "FCD/Test": 0.073},
    "VAE": {"valid": 0.977, "FCD/Test": 0.099},
    "LatentGAN": {"valid": 0.897, "FCD/Test": 0.297},
}
ORDER = [
    "valid",
    "unique@1000",
    "unique@10000",
    "FCD/Test",
    "FCD/TestSF",
    "SNN/Test",
    "SNN/TestSF",
    "Frag/Test",
    "Frag/TestSF",
    "Scaf/Test",
    "Scaf/TestSF",
    "IntDiv",
    "IntDiv2",
    "Filters",
    "Novelty",
]


def _fmt(value: object) -> str:
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        return f"{value:.3f}"
    return "–"


def describe_run(name: str, run_dir: Path, eval_dir: Path, gen_log: Path) -> dict:
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    metrics = json.loads((eval_dir / "metrics.json").read_text())
    rows = list(csv.DictReader((run_dir / "logs" / "metrics.csv").open()))
    train_rows = [r for r in rows if r.get("train/loss")]  # one per (possibly cut) training epoch
    steps = max(int(r["step"]) for r in train_rows)
    epochs = steps / int(train_rows[0]["step"])
    match = re.search(r"([\d.]+) molecules/s", gen_log.read_text())
    return {
        "name": name,
        "cfg": cfg,
        "metrics": metrics,
        "epochs": epochs,
        "steps": steps,
        "val_loss": json.loads((run_dir / "metrics.json").read_text())["val"]["loss"],
        "samples_per_s": float(match.group(1)) if match else math.nan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="append", required=True, metavar="NAME=RUN_DIR:EVAL_DIR:GEN_LOG")
    parser.add_argument("--note", action="append", default=[])
    args = parser.parse_args()
    runs = []
    for item in args.run:
        name, _, paths = item.partition("=")
        run_dir, eval_dir, gen_log = (Path(p) for p in paths.split(":"))
        runs.append(describe_run(name, run_dir, eval_dir, gen_log))
    keys = [k for k in ORDER if any(k in r["metrics"] for r in runs)]
    header = (
        "| metric | " + " | ".join(r["name"] for r in runs) + " | " + " | ".join(f"MOSES {m}" for m in PAPER) + " |"
    )
    lines = [header, "|---" * (1 + len(runs) + len(PAPER)) + "|"]
    for key in keys:
        cells = [_fmt(r["metrics"].get(key)) for r in runs] + [_fmt(PAPER[m].get(key)) for m in PAPER]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    print("\n".join(lines))
    print()
    print("| run | data | model | optimizer steps (epochs) | best val/loss (nats/token) | sampling (molecules/s) |")
    print("|---|---|---|---|---|---|")
    for r in runs:
        cfg = r["cfg"]
        model = f"{cfg['model']['name']} {cfg['model']['depth']}×{cfg['model']['hidden_dim']}"
        if cfg["model"]["name"] == "vae":
            model += f", z {cfg['generation']['latent_dim']}"
        data = f"first {cfg['data']['max_rows']} MOSES train molecules, batch {cfg['data']['batch_size']}"
        print(
            f"| {r['name']} | {data} | {model} | {r['steps']} ({r['epochs']:.1f}) | {r['val_loss']:.3f} | {r['samples_per_s']:.0f} |"
        )
    for note in args.note:
        print(f"\n{note}")


if __name__ == "__main__":
    main()
