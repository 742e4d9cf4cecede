"""Where one training epoch of molgen's D-MPNN goes: the breakdown behind the Chemprop speed table.

Run on demand (not a test)::

    MOLGEN_DATA_DIR=... python benchmarks/speed/profile_train.py [--epochs 3] [--threads 1] [--cprofile]

Same run as ``compare_chemprop.py``'s training side (Lipophilicity 90/10, D-MPNN 300×3, mean readout, FFN 300,
batch 64, noam Adam, one thread). It prints

1. the steady epoch rate of ``fit()`` (Lightning, the real loop; molecules per CPU second of training batches);
2. a plain-torch replay of one epoch on the very module and loader ``fit()`` trained, timed stage by stage
   (all times are this process's CPU time, one torch thread: robust to other processes on a shared machine):
   collate only, + forward, + loss and backward, + optimizer and schedule step: the difference between (1) and
   the full replay is what Lightning's loop adds per batch;
3. with ``--cprofile``, the top Python functions of the last Lightning epoch; with ``--ops``, torch.profiler's
   operator table (self CPU time) of the same epoch instead.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def lipophilicity_csv(work: Path) -> Path:
    import numpy as np
    import pandas as pd

    from molgen.data.catalog import get_dataset
    from molgen.data.sources import resolve

    spec = get_dataset("lipophilicity")
    lipo = pd.read_csv(resolve(spec.remote))[[spec.input_column, spec.target_columns[0]]]
    lipo.columns = ["smiles", "target"]
    lipo["split"] = np.where(np.random.default_rng(0).random(len(lipo)) < 0.9, "train", "val")
    path = work / "train.csv"
    lipo.to_csv(path, index=False)
    return path


class Capture:
    """Lightning callback keeping the module, trainer and (optionally) a cProfile of epoch ``profile_epoch``."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from lightning.pytorch.callbacks import Callback

        class _Capture(Callback):
            def __init__(self, profile_epoch: int | None, ops: bool = False) -> None:
                self.profile_epoch, self.profile, self.ops = profile_epoch, None, ops
                self.module: Any = None
                self.trainer: Any = None

            def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
                self.module, self.trainer = pl_module, trainer
                if trainer.current_epoch == self.profile_epoch:
                    if self.ops:
                        from torch.profiler import ProfilerActivity, profile

                        self.profile = profile(activities=[ProfilerActivity.CPU])
                        self.profile.__enter__()
                    else:
                        self.profile = cProfile.Profile()
                        self.profile.enable()

            def on_train_batch_end(self, trainer: Any, pl_module: Any, *args: Any) -> None:
                last = trainer.fit_loop.epoch_loop.batch_progress.is_last_batch  # validation comes next
                if self.profile is not None and trainer.current_epoch == self.profile_epoch and last:
                    if self.ops:
                        self.profile.__exit__(None, None, None)
                    else:
                        self.profile.disable()

        return _Capture(*args, **kwargs)


def replay(module: Any, loader: Any) -> dict[str, float]:
    """Seconds per epoch of each cumulative stage over ``loader`` in plain torch (no Lightning)."""
    import torch

    batches = list(loader)
    n = sum(b.y.shape[0] for b in batches)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-4)
    out: dict[str, float] = {"molecules": n}
    start = time.process_time()
    for _ in loader:
        pass
    out["collate"] = time.process_time() - start
    module.train()
    with torch.no_grad():
        start = time.process_time()
        for b in batches:
            module(b)
        out["forward"] = time.process_time() - start
    start = time.process_time()
    for b in batches:
        loss = module.task.loss(module(b), b.y)
        loss.backward()
    out["forward+backward"] = time.process_time() - start
    start = time.process_time()
    for _ in batches:  # the gradients of the last backward, kept: each step updates every parameter
        optimizer.step()
    optimizer.zero_grad()
    out["optimizer step"] = time.process_time() - start
    start = time.process_time()
    for b in loader:
        optimizer.zero_grad()
        loss = module.task.loss(module(b), b.y)
        loss.backward()
        optimizer.step()
    out["full plain-torch epoch"] = time.process_time() - start
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cprofile", action="store_true", help="cProfile the last Lightning epoch")
    parser.add_argument("--ops", action="store_true", help="torch.profiler's operator table of the last epoch")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import torch
    from epoch_timer import EpochTimer

    from molgen.config import RunConfig
    from molgen.recipes import fit

    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="molgen-profile-"))
    train_csv = lipophilicity_csv(work)
    timer = EpochTimer()
    capture = Capture(args.epochs - 1 if args.cprofile or args.ops else None, ops=args.ops)
    cfg = RunConfig().with_values(
        {
            "data.name": str(train_csv),
            "data.smiles_column": "smiles",
            "data.target_columns": ["target"],
            "data.split": "predefined",
            "data.split_column": "split",
            "data.featurize_jobs": 1,
            "data.cache": False,
            "data.batch_size": 64,
            "model.name": "dmpnn",
            "model.hidden_dim": 300,
            "model.depth": 3,
            "model.readout": "mean",
            "model.ffn_hidden_dim": 300,
            "model.ffn_layers": 2,
            "trainer.max_epochs": args.epochs,
            "trainer.patience": 0,
            "trainer.progress_bar": False,
            "trainer.seed": 0,
            "output": str(work / "run"),
        }
    )
    fit(cfg, extra_callbacks=[timer, capture], test=False, export=False)
    print(f"load average {os.getloadavg()[0]:.2f}; torch threads {torch.get_num_threads()}")
    print("fit() epochs (wall s):", [round(s, 2) for s in timer.seconds], "samples:", timer.samples)
    print("fit() epochs (CPU s):", [round(s, 2) for s in timer.cpu_seconds])
    # a profiled epoch is slowed by cProfile: report the steady rate over the epochs before it
    profiled = (args.cprofile or args.ops) and len(timer.seconds) > 2
    seconds = timer.cpu_seconds[1:-1] if profiled else timer.cpu_seconds[1:]
    samples = timer.samples[1:-1] if profiled else timer.samples[1:]
    lightning_epoch = sum(seconds) / len(seconds)
    print(f"fit() steady rate: {sum(samples) / sum(seconds):,.0f} mol/CPU-s ({lightning_epoch:.2f} CPU-s/epoch)")
    stages = replay(capture.module, capture.trainer.datamodule.train_dataloader())
    n = stages.pop("molecules")
    print(f"plain-torch replay of one epoch ({n:,.0f} molecules):")
    print("| stage (CPU time of this process) | s/epoch | ms/batch |")
    print("|---|---|---|")
    batches = -(-n // 64)
    for name, seconds_ in stages.items():
        print(f"| {name} | {seconds_:.2f} | {1000 * seconds_ / batches:.1f} |")
    print(f"| Lightning fit() epoch | {lightning_epoch:.2f} | {1000 * lightning_epoch / batches:.1f} |")
    if capture.profile is not None and args.ops:
        print(capture.profile.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.top))
    elif capture.profile is not None:
        stream = io.StringIO()
        pstats.Stats(capture.profile, stream=stream).sort_stats("cumulative").print_stats(args.top)
        print(stream.getvalue())
        stream = io.StringIO()
        pstats.Stats(capture.profile, stream=stream).sort_stats("tottime").print_stats(args.top)
        print(stream.getvalue())


if __name__ == "__main__":
    main()
