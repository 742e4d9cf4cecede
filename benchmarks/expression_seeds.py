"""DNA → expression: five regression datasets × {cnn, dilated, transformer, kmer} × 3 seeds, on a CPU budget.

Usage: python benchmarks/expression_seeds.py [--datasets …] [--models …] [--seeds 0 1 2] [--max-epochs 3]
                                             [--hidden-dim 64] [--threads 1]
                                             [--output benchmarks/results/expression_seeds.md]
Each cell is one `fit(cfg)` (the same code path as `molgen train`) with the catalog's columns, default split
and headline metric (test Pearson r). Prints mean ± std over seeds, wall time per run, and training
throughput (training sequences per second of training-loop time; kmer: counting + fitting), and the
one-hot encoding rate at 1 kb.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from molgen import __version__
from molgen.config import RunConfig
from molgen.genomics.encoding import encode_indices, one_hot
from molgen.recipes import fit

DATASETS = (
    "ecoli_promoters_165",
    "ecoli_promoters_50",
    "yeast_regulatory_1000",
    "yeast_random_promoters",
    "pombe_utr3_halflife",
)
MODELS = ("cnn", "dilated", "transformer", "kmer")
SEQ_LENGTH = {"pombe_utr3_halflife": 512}  # 6-5,162 nt (median 223, 90th percentile 621): centre-cropped


def encoding_rate(n: int = 20_000, length: int = 1000) -> tuple[float, float]:
    """(indices, one-hot) sequences/s at ``length`` nt, in batches of 512 (best of 3)."""
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), length)) for _ in range(500)] * (n // 500)
    rates = []
    for encode in (encode_indices, one_hot):
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for i in range(0, n, 512):
                encode(seqs[i : i + 512])
            best = min(best, time.perf_counter() - start)
        rates.append(n / best)
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--max-epochs", type=int, default=3)
    parser.add_argument("--hidden-dim", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads (1 is fastest on a busy 2-core box)"
    )
    parser.add_argument("--output", type=Path, help="also write the table (Markdown) and raw results (JSON) here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    indices_rate, onehot_rate = encoding_rate()
    print(f"encoding at 1 kb: indices {indices_rate:,.0f} seq/s, one-hot {onehot_rate:,.0f} seq/s", flush=True)
    work = Path(tempfile.mkdtemp(prefix="molgen-expression-"))
    rows, raw, started = [], [], time.perf_counter()
    for dataset in args.datasets:
        for model in args.models:
            values, times, speeds = [], [], []
            for seed in args.seeds:
                values_cfg = {
                    "data.name": dataset,
                    "model.name": model,
                    "trainer.seed": seed,
                    "output": str(work / f"{dataset}-{model}-{seed}"),
                    "trainer.max_epochs": args.max_epochs,
                    "trainer.patience": 0,
                    "trainer.progress_bar": False,
                    "data.batch_size": args.batch_size,
                    "optim.warmup_epochs": 1.0,
                }
                if model != "kmer":  # the k-mer baseline has no network sizes
                    values_cfg |= {
                        "model.hidden_dim": args.hidden_dim,
                        "model.ffn_hidden_dim": args.hidden_dim,
                        "model.depth": 2 if model == "transformer" else 3,
                    }
                if dataset in SEQ_LENGTH:
                    values_cfg["data.seq_length"] = SEQ_LENGTH[dataset]
                start = time.perf_counter()
                result = fit(RunConfig().with_values(values_cfg))
                times.append(time.perf_counter() - start)
                values.append(result.metrics["test"]["pearson"])
                speeds.append(result.details["train_sequences_per_s"])
                raw.append(
                    {
                        "dataset": dataset,
                        "model": model,
                        "seed": seed,
                        "test": result.metrics["test"],
                        "val": result.metrics["val"],
                        "seconds": times[-1],
                        "train_sequences_per_s": speeds[-1],
                        "epochs": result.details["epochs"],
                        "seq_length": result.details["seq_length"],
                    }
                )
                print(
                    f"{dataset} {model} seed {seed}: test pearson {values[-1]:.4f} ({times[-1]:.0f} s, "
                    f"{speeds[-1]:,.0f} train seq/s)",
                    flush=True,
                )
            rows.append(
                (
                    dataset,
                    result.details["seq_length"],
                    model,
                    statistics.mean(values),
                    statistics.stdev(values) if len(values) > 1 else 0.0,
                    statistics.mean(times),
                    statistics.mean(speeds),
                )
            )
    total = time.perf_counter() - started
    header = (
        f"molgen {__version__}, torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{args.threads} torch thread(s) on a shared 2-core CPU; seeds {args.seeds}. CPU budget: {args.max_epochs} epochs "
        f"(best validation-Pearson epoch kept, no early stopping), hidden {args.hidden_dim} (cnn/dilated depth 3, "
        f"transformer depth 2), FFN 2×{args.hidden_dim}, batch {args.batch_size}, Adam 1e-3 noam; pombe cropped to "
        f"{SEQ_LENGTH['pombe_utr3_halflife']} nt; kmer = ridge on 1..5-mer counts (penalty picked on validation). "
        f"Catalog default splits (ecoli_promoters_165: DeepSEED test set). Whole run {total / 60:.1f} min. "
        f"Encoding at 1 kb: {indices_rate:,.0f} seq/s (uint8 indices), {onehot_rate:,.0f} seq/s (float one-hot)."
    )
    lines = [
        header,
        "",
        "| dataset | length | model | test Pearson r (mean ± std) | wall s / run | train seq/s |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {d} | {n} | {m} | {v:.3f} ± {sd:.3f} | {t:.0f} | {s:,.0f} |" for d, n, m, v, sd, t, s in rows]
    table = "\n".join(lines)
    print(table)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(table + "\n")
        args.output.with_suffix(".json").write_text(json.dumps(raw, indent=2))


if __name__ == "__main__":
    main()
