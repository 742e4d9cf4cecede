"""Training throughput (real tokens/s) of the token generators on MOSES, and the padding that length bucketing saves.

    MOLGEN_DATA_DIR=../shared/data python benchmarks/speed/generation.py --molecules 3200 --hidden-dim 512 --depth 3

Times optimizer steps (forward + backward + Adam) of CharRNN (LSTM) and the VAE (GRU decoder) with the same batches
molgen trains on: length-bucketed (molgen's default) and plain random batches. Tokens are real (non-padding)
predicted tokens. The first ``--warmup`` steps are not timed.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
import torch

from molgen.chem.tokens import TokenCodec
from molgen.data.catalog import get_dataset
from molgen.data.sources import resolve
from molgen.models.generative.charrnn import CharRNN
from molgen.models.generative.smiles_vae import SmilesVAE, kl_divergence
from molgen.training.generative import TokenBatches, token_nll


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecules", type=int, default=3200)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden-dim", type=int, default=512)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=["charrnn", "vae"])
    args = parser.parse_args()
    smiles = pd.read_csv(resolve(get_dataset("moses").remote), nrows=args.molecules)["SMILES"].tolist()
    codec = TokenCodec.fit("smiles", smiles)
    sequences = [np.asarray(codec.encode(s), dtype=np.int64) for s in smiles]
    results = []
    for name in args.models:
        for bucket in (True, False):
            torch.manual_seed(0)
            model = (
                CharRNN(len(codec), 64, args.hidden_dim, args.depth)
                if name == "charrnn"
                else SmilesVAE(len(codec), 64, 256, 1, 128, args.hidden_dim, args.depth)
            )
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            batches = TokenBatches(sequences, args.batch_size, seed=0, bucket=bucket)
            order = np.random.default_rng(0).permutation(len(batches))
            tokens, seconds = 0, 0.0
            for step in range(args.warmup + args.steps):
                ids, lengths = batches[int(order[step % len(order)])]
                start = time.perf_counter()
                if name == "charrnn":
                    total, count = token_nll(model(ids[:, :-1], lengths - 1), ids[:, 1:])
                    loss = total / count
                else:
                    logits, mu, logvar = model(ids, lengths)
                    total, count = token_nll(logits, ids[:, 1:])
                    loss = total / count + 0.05 * kl_divergence(mu, logvar)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if step >= args.warmup:
                    seconds += time.perf_counter() - start
                    tokens += int(count)
            results.append(
                {
                    "model": name,
                    "hidden_dim": args.hidden_dim,
                    "depth": args.depth,
                    "batch_size": args.batch_size,
                    "bucketed": bucket,
                    "padding_fraction": round(batches.padding_fraction, 3),
                    "tokens_per_s": round(tokens / seconds),
                    "threads": torch.get_num_threads(),
                }
            )
            print(json.dumps(results[-1]), flush=True)


if __name__ == "__main__":
    main()
