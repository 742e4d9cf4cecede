"""What `molgen serve --precision bf16-mixed` gains on one served predict call: the worker's model call
(:func:`molgen.serving.models.predict_items`: featurization, domain search, inference, items) in float32 and in
bf16, alternating, with one torch thread (the server's default per worker). HTTP and batching are left out:
they are the same for both precisions.

Usage:
    python benchmarks/speed/serve_precision.py --model RUN_DIR --input molecules.csv [--request 1024] [--n 8192]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import torch

from molgen.serving.models import load_served, predict_items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="run folder of a SMILES property model")
    parser.add_argument("--input", required=True, help="CSV whose first column holds SMILES")
    parser.add_argument("--request", type=int, default=1024, help="molecules per call")
    parser.add_argument("--n", type=int, default=8192, help="molecules per timed pass")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    smiles = pd.read_csv(args.input).iloc[: args.n, 0].tolist()
    models = [load_served("model", args.model, precision) for precision in ("32", "bf16-mixed")]
    for model in models:  # first calls build kernels and caches
        predict_items(model, smiles[: args.request])
    rates: dict[str, list[float]] = {model.precision: [] for model in models}
    for _ in range(args.repeat):
        for model in models:
            start = time.perf_counter()
            for first in range(0, len(smiles), args.request):
                predict_items(model, smiles[first : first + args.request])
            rates[model.precision].append(len(smiles) / (time.perf_counter() - start))
    for precision, values in rates.items():
        print(f"{precision:>10}: {', '.join(f'{v:,.0f}' for v in values)} mol/s ({args.request}-molecule calls)")


if __name__ == "__main__":
    main()
