"""Five graph models × ESOL (random split) and BBBP (scaffold split) × 3 seeds, next to Chemprop.

Usage: python benchmarks/property_seeds.py [--models dmpnn gin …] [--seeds 0 1 2] [--max-epochs 50]
                                           [--output benchmarks/results/property_seeds.md]
Each cell is one `fit(cfg)` (the same code path as `molgen train`) with the catalog's default columns,
split and headline metric. Prints mean ± std over seeds and the wall time per run, next to the published
references stored in the catalog.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from molgen import __version__
from molgen.config import RunConfig
from molgen.data.catalog import get_dataset
from molgen.recipes import fit

CELLS = (("esol", "random"), ("bbbp", "scaffold"))
MODELS = ("dmpnn", "gin", "gcn", "gat", "attentivefp")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--datasets", nargs="+", default=[d for d, _ in CELLS])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--max-epochs", type=int, default=50)
    parser.add_argument("--output", type=Path, help="also write the table (Markdown) and raw results (JSON) here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="molgen-seeds-"))
    rows, raw = [], []
    for dataset, split in CELLS:
        if dataset not in args.datasets:
            continue
        spec = get_dataset(dataset)
        for model in args.models:
            values, times = [], []
            for seed in args.seeds:
                cfg = RunConfig().with_values(
                    {
                        "data.name": dataset,
                        "data.split": split,
                        "model.name": model,
                        "trainer.seed": seed,
                        "data.on_invalid": "skip",  # BBBP has 11 SMILES RDKit cannot sanitize (Chemprop drops them too)
                        "trainer.max_epochs": args.max_epochs,
                        "trainer.progress_bar": False,
                        "output": str(work / f"{dataset}-{model}-{seed}"),
                    }
                )
                start = time.perf_counter()
                result = fit(cfg)
                times.append(time.perf_counter() - start)
                values.append(result.metrics["test"][spec.metric])
                raw.append(
                    {
                        "dataset": dataset,
                        "split": split,
                        "model": model,
                        "seed": seed,
                        "metric": spec.metric,
                        "test": result.metrics["test"],
                        "val": result.metrics["val"],
                        "seconds": times[-1],
                        "epochs": result.details["epochs"],
                    }
                )
                print(
                    f"{dataset} {model} seed {seed}: test {spec.metric} {values[-1]:.4f} ({times[-1]:.0f} s)",
                    flush=True,
                )
            chemprop = next((r for r in spec.references if r.model.startswith("Chemprop")), None)
            rows.append(
                (
                    dataset,
                    split,
                    model,
                    spec.metric,
                    statistics.mean(values),
                    statistics.stdev(values) if len(values) > 1 else 0.0,
                    f"{chemprop.value:.3f}" if chemprop else "n/a",
                    statistics.mean(times),
                )
            )
    header = (
        f"molgen {__version__}, torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads; seeds {args.seeds}; max_epochs {args.max_epochs} "
        f"(early stopping, patience 10); Chemprop D-MPNN reference from the catalog"
    )
    lines = [
        header,
        "",
        "| dataset | split | model | metric | molgen (mean ± std) | Chemprop | wall s / run |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {d} | {s} | {m} | {k} | {v:.3f} ± {sd:.3f} | {c} | {t:.0f} |" for d, s, m, k, v, sd, c, t in rows]
    table = "\n".join(lines)
    print(table)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(table + "\n")
        args.output.with_suffix(".json").write_text(json.dumps(raw, indent=2))


if __name__ == "__main__":
    main()
