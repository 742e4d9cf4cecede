"""Pretraining vs supervised training throughput of the same D-MPNN (Chemprop's size), side by side.

Pretraining streams the first ``--rows`` MOSES training molecules (chunk 0 validates), featurizing each chunk in
``--workers`` DataLoader workers (with descriptor regression, also computing the 109 RDKit descriptors); supervised
training fits the same encoder on the same molecules, featurized once up front, with a cheap label (heavy atoms).
Molecules/s counts the molecules of training batches over the seconds spent in training batches, data waits
included and validation excluded, for both. Writes a markdown table (stdout and ``--output``).

Usage: python benchmarks/speed/pretraining_throughput.py --rows 4000 --output benchmarks/results/pretraining_throughput_DATE.md
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import tempfile
import time
from pathlib import Path

import lightning.pytorch as L

from molgen.config import RunConfig
from molgen.recipes import fit

MOSES = Path(os.environ.get("MOLGEN_DATA_DIR", "../shared/data")) / "moses" / "train.csv.gz"


class Throughput(L.Callback):
    """Molecules of training batches / seconds between training-batch ends (validation excluded)."""

    def __init__(self) -> None:
        self.molecules, self.seconds, self.clock = 0, 0.0, None

    def on_train_epoch_start(self, trainer, module) -> None:  # type: ignore[no-untyped-def]
        self.clock = time.perf_counter()

    def on_validation_end(self, trainer, module) -> None:  # type: ignore[no-untyped-def]
        self.clock = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:  # type: ignore[no-untyped-def]
        now = time.perf_counter()
        self.seconds += now - (self.clock or now)
        self.clock = now
        self.molecules += int(batch.num_graphs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--output")
    args = parser.parse_args()
    from rdkit import Chem

    work = Path(tempfile.mkdtemp(prefix="pretrain-speed-"))
    smiles: list[str] = []
    with gzip.open(MOSES, "rt") as handle:
        next(handle)  # the header
        for line in handle:  # the file's lines are separated by blank ones
            if line.strip() and len(smiles) < args.rows:
                smiles.append(line.split(",")[0].strip())
    corpus = work / "corpus.smi"
    corpus.write_text("".join(s + "\n" for s in smiles))
    labelled = work / "labelled.csv"
    labelled.write_text("smiles,heavy\n" + "".join(f"{s},{Chem.MolFromSmiles(s).GetNumHeavyAtoms()}\n" for s in smiles))
    common = {"model.hidden_dim": 300, "model.depth": 3, "data.batch_size": 64, "trainer.max_epochs": 1,
              "trainer.progress_bar": False, "trainer.patience": 0}  # fmt: skip
    rows = []
    for objectives in (["masking=1"], ["descriptors=1"], ["descriptors=1", "masking=1"]):
        cfg = RunConfig().with_values({
            **common, "family": "pretrain", "data.name": str(corpus), "output": str(work / "-".join(objectives)),
            "pretrain.objectives": objectives, "pretrain.chunk_size": args.chunk_size, "pretrain.workers": args.workers,
        })  # fmt: skip
        result = fit(cfg)
        t = result.details["pretraining"]
        rows.append(
            (
                f"pretrain {' + '.join(o.split('=')[0] for o in objectives)}",
                t["molecules"],
                t["train_seconds"],
                t["molecules_per_s"],
            )
        )
    meter = Throughput()
    cfg = RunConfig().with_values({
        **common, "data.name": str(labelled), "data.target_columns": ["heavy"], "data.split_sizes": [0.875, 0.0625, 0.0625],
        "output": str(work / "supervised"), "trainer.max_epochs": 2,
    })  # fmt: skip
    fit(cfg, extra_callbacks=[meter])
    rows.append(("supervised regression (featurized up front)", meter.molecules, round(meter.seconds, 2),
                 round(meter.molecules / meter.seconds, 1)))  # fmt: skip
    table = [
        f"# Pretraining vs supervised throughput, D-MPNN 300×3, batch 64 ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared with other work); OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}; first {args.rows} MOSES molecules, chunk {args.chunk_size} "
        f"(chunk 0 validates), {args.workers} featurizing worker(s).",
        "",
        "| run | molecules | train s | molecules/s |",
        "|---|---|---|---|",
        *[f"| {name} | {n} | {s:.1f} | {rate:.0f} |" for name, n, s, rate in rows],
        "",
        "Command: `python benchmarks/speed/pretraining_throughput.py "
        f"--rows {args.rows} --chunk-size {args.chunk_size} --workers {args.workers}`",
    ]
    text = "\n".join(table) + "\n"
    print(text)
    if args.output:
        Path(args.output).write_text(text)


if __name__ == "__main__":
    main()
