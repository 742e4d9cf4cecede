"""molgen vs Chemprop 2.3.1, side by side in one run: featurization, training and prediction throughput.

Run on demand (not a test)::

    python benchmarks/speed/compare_chemprop.py [--chemprop-venv PATH] [--n 10000] [--epochs 4] [--rounds 2]
        [--threads 1] [--data-dir DIR] [--dna] [--output benchmarks/results/speed_chemprop.md]

Same molecules and the same model size on both sides: D-MPNN hidden 300, depth 3, mean readout, FFN
with one hidden layer of 300, batch 64, Adam with the noam schedule, standardized targets, one process,
``--threads`` torch threads. Featurization and prediction use the first ``--n`` MOSES test molecules
(prediction includes featurization, as ``molgen predict`` / ``chemprop predict`` do); training uses
Lipophilicity (4,200 drug-like molecules; the same 90/10 train/val rows for both) for ``--epochs``
epochs, and the rate is training molecules per second of training-batch time over the epochs after the
first (validation excluded). RDKit's parse-only rate, measured in each process, is the floor of any
featurizer. Chemprop runs in its own venv (``--chemprop-venv``, default: the one ``molgen benchmark
--baseline chemprop`` uses); when that holds no chemprop 2.3.1 it is created, with this environment's torch
release installed first so pip never swaps in another build.
``--dna`` adds molgen's DNA training throughput (sequences/s) on ecoli_promoters_165.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from molgen.benchmarking.baselines import chemprop_python, default_venv

HERE = Path(__file__).resolve().parent


def moses_smiles(data_dir: Path, n: int) -> list[str]:
    import pandas as pd

    return pd.read_csv(data_dir / "moses" / "test.csv.gz", usecols=["SMILES"], nrows=n)["SMILES"].tolist()


def parse_rate(smiles: list[str]) -> float:
    from rdkit import Chem

    start = time.perf_counter()
    for s in smiles:
        Chem.MolFromSmiles(s)
    return len(smiles) / (time.perf_counter() - start)


def run_molgen(
    smiles: list[str], train_csv: Path, target: str, epochs: int, work: Path, also: tuple[str, ...] = ()
) -> dict:
    """molgen's side: featurize, fit() with the epoch timer, then load the export and predict; ``also``: trainer
    precisions (e.g. bf16-mixed) whose fit is timed as well, as ``train@<precision>_per_s``."""
    import pandas as pd
    from epoch_timer import EpochTimer

    from molgen.analysis.prediction import load_model, predict_frame
    from molgen.chem.featurize.graphs import featurize_smiles
    from molgen.config import RunConfig
    from molgen.recipes import fit

    out = {"parse_per_s": parse_rate(smiles)}
    start = time.perf_counter()
    featurize_smiles(smiles, n_jobs=1)
    out["featurize_per_s"] = len(smiles) / (time.perf_counter() - start)
    timer = EpochTimer()
    cfg = RunConfig().with_values(
        {
            "data.name": str(train_csv),
            "data.smiles_column": "smiles",
            "data.target_columns": [target],
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
            "trainer.max_epochs": epochs,
            "trainer.patience": 0,
            "trainer.progress_bar": False,
            "trainer.seed": 0,
            "output": str(work / "molgen-run"),
        }
    )
    start = time.perf_counter()
    result = fit(cfg, extra_callbacks=[timer], test=False)
    out["fit_s"] = time.perf_counter() - start
    out["epoch_s"], out["epoch_samples"] = timer.seconds, timer.samples
    out["train_per_s"] = timer.steady_rate()
    out["train_cpu_per_s"] = timer.steady_cpu_rate()
    model = load_model(result.run_dir)
    for precision in also:
        timer = EpochTimer()
        extra = cfg.with_values({"trainer.precision": precision, "output": str(work / f"molgen-run-{precision}")})
        fit(extra, extra_callbacks=[timer], test=False)
        out[f"train@{precision}_per_s"] = timer.steady_rate()
        out[f"train_cpu@{precision}_per_s"] = timer.steady_cpu_rate()
    out["n_params"] = sum(p.numel() for m in model.members for p in m.encoder.parameters()) + sum(
        p.numel() for m in model.members for p in m.head.parameters()
    )
    frame = pd.DataFrame({"smiles": smiles})
    start, cpu_start = time.perf_counter(), time.process_time()
    predictions = predict_frame(model, frame, input_column="smiles", n_jobs=1)
    out["predict_per_s"] = len(smiles) / (time.perf_counter() - start)
    out["predict_cpu_per_s"] = len(smiles) / (time.process_time() - cpu_start)
    out["n_predicted"] = int(predictions["valid"].sum())
    return out


def run_dna(work: Path, epochs: int) -> list[dict]:
    """molgen DNA training throughput (sequences/s) on ecoli_promoters_165, the expression ci sizes."""
    from epoch_timer import EpochTimer

    from molgen.config import RunConfig
    from molgen.recipes import fit

    rows = []
    for model in ("cnn", "dilated", "transformer"):
        timer = EpochTimer()
        cfg = RunConfig().with_values(
            {
                "data.name": "ecoli_promoters_165",
                "model.name": model,
                "model.hidden_dim": 64,
                "model.ffn_hidden_dim": 64,
                "model.depth": 2 if model == "transformer" else 3,
                "data.batch_size": 128,
                "trainer.max_epochs": epochs,
                "trainer.patience": 0,
                "trainer.progress_bar": False,
                "output": str(work / f"dna-{model}"),
            }
        )
        fit(cfg, extra_callbacks=[timer], test=False, export=False)
        rows.append({"model": model, "length": 165, "train_seq_per_s": timer.steady_rate(), "epoch_s": timer.seconds})
    return rows


def best_of(results: list[dict]) -> dict:
    """The last round's record with every ``*_per_s`` rate replaced by its best over the rounds (the least
    disturbed by other processes); ``rounds`` keeps every round's rates."""
    best = dict(results[-1])
    for key in [k for k in best if k.endswith("per_s")]:
        best[key] = max(r[key] for r in results)
    best["rounds"] = [{k: v for k, v in r.items() if k.endswith("per_s")} for r in results]
    return best


def table(molgen: dict, chemprop: dict, args: argparse.Namespace, load: tuple, dna: list[dict]) -> str:
    def row(name: str, key: str, unit: str) -> str:
        m, c = molgen[key], chemprop[key.split("@")[0] + "_per_s" if "@" in key else key]
        normalized = (m / molgen["parse_per_s"]) / (c / chemprop["parse_per_s"])
        return f"| {name} | {m:,.0f} | {c:,.0f} | {m / c:.2f}× | {normalized:.2f}× | {unit} |"

    lines = [
        (
            f"molgen {molgen['version']} (torch {molgen['torch']}) vs Chemprop {chemprop['chemprop']} "
            f"(torch {chemprop['torch']}), {platform.machine()} {os.cpu_count()} cores, {args.threads} torch thread(s) "
            f"each, one process each, {args.rounds} round(s) per side taking turns (rates: best round); load average "
            f"{load[0]:.2f} before, {load[1]:.2f} after. "
            f"Featurization and prediction: first {args.n:,} MOSES test molecules; training: Lipophilicity "
            f"(4,200; 90/10 train/val), D-MPNN hidden 300 depth 3, mean readout, FFN 300, batch 64, "
            f"{args.epochs} epochs, rate over epochs 2..{args.epochs}. Parameters: molgen {molgen['n_params']:,}, "
            f"Chemprop {chemprop['n_params']:,}."
        ),
        "",
        (
            "The two sides run one after the other, so load from other processes can differ between them; the "
            "last ratio divides each side by its best RDKit parse-only rate, measured in its own processes. The "
            "per-CPU-second rows divide by the process's CPU time over the same span instead of wall time (one "
            "torch thread: the work done), which other processes on a shared machine disturb much less."
        ),
        "",
        "| measure | molgen | Chemprop 2.3.1 | molgen / Chemprop | same, per own parse rate | unit |",
        "|---|---|---|---|---|---|",
        row("RDKit MolFromSmiles, parse only (floor, each process)", "parse_per_s", "mol/s"),
        row("featurization (parse + atom/bond features)", "featurize_per_s", "mol/s"),
        row("training, D-MPNN 300×3", "train_per_s", "mol/s per epoch"),
        row("prediction incl. featurization", "predict_per_s", "mol/s"),
        row("training, per CPU second of the process", "train_cpu_per_s", "mol/CPU-s per epoch"),
        *[
            row(f"training, molgen {p}{label} (Chemprop 32-bit)", f"train{cpu}@{p}_per_s", f"mol/{unit} per epoch")
            for p in args.also_precision
            for cpu, unit, label in (("", "s", ""), ("_cpu", "CPU-s", ", per CPU second"))
        ],
        row("prediction incl. featurization, per CPU second", "predict_cpu_per_s", "mol/CPU-s"),
        (
            f"| featurization as a share of the parse-only floor | {molgen['featurize_per_s'] / molgen['parse_per_s']:.0%} "
            f"| {chemprop['featurize_per_s'] / chemprop['parse_per_s']:.0%} | | | |"
        ),
    ]
    if dna:
        lines += [
            "",
            "molgen DNA training (ecoli_promoters_165, 165 bp, hidden 64, batch 128, steady epochs):",
            "",
            "| model | train seq/s |",
            "|---|---|",
        ]
        lines += [f"| {r['model']} | {r['train_seq_per_s']:,.0f} |" for r in dna]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chemprop-venv", type=Path, default=default_venv())
    parser.add_argument("--n", type=int, default=10_000, help="MOSES molecules to featurize and predict")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="rounds per side, alternating which side goes first; each rate is the best round",
    )
    parser.add_argument("--data-dir", type=Path, default=os.environ.get("MOLGEN_DATA_DIR"))
    parser.add_argument("--dna", action="store_true", help="also time molgen's DNA models")
    parser.add_argument(
        "--also-precision",
        nargs="*",
        default=[],
        metavar="PRECISION",
        help="also time molgen's training at these trainer precisions (e.g. bf16-mixed on a CPU with AVX512-BF16)",
    )
    parser.add_argument("--output", type=Path, help="write the table (Markdown) and raw numbers (JSON) here")
    args = parser.parse_args(argv)
    if args.data_dir is None or not (args.data_dir / "moses" / "test.csv.gz").is_file():
        sys.exit("pass --data-dir (or set MOLGEN_DATA_DIR) to a folder holding moses/test.csv.gz")
    os.environ.setdefault("MOLGEN_DATA_DIR", str(args.data_dir))
    sys.path.insert(0, str(HERE))
    python = chemprop_python(args.chemprop_venv)

    import numpy as np
    import pandas as pd
    import torch

    import molgen
    from molgen.data.catalog import get_dataset
    from molgen.data.sources import resolve

    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="molgen-vs-chemprop-"))
    smiles = moses_smiles(args.data_dir, args.n)
    (work / "smiles.txt").write_text("\n".join(smiles) + "\n")
    spec = get_dataset("lipophilicity")
    lipo = pd.read_csv(resolve(spec.remote))[[spec.input_column, spec.target_columns[0]]]
    lipo.columns = ["smiles", "target"]
    lipo["split"] = np.where(np.random.default_rng(0).random(len(lipo)) < 0.9, "train", "val")
    lipo.to_csv(work / "train.csv", index=False)

    load_before = os.getloadavg()[0]
    print(f"work folder {work}; load average {load_before:.2f}", flush=True)
    job = {
        "featurize_smiles": str(work / "smiles.txt"),
        "predict_smiles": str(work / "smiles.txt"),
        "train_csv": str(work / "train.csv"),
        "target": "target",
        "epochs": args.epochs,
        "threads": args.threads,
    }
    (work / "job.json").write_text(json.dumps(job))

    def molgen_side(r: int) -> dict:
        return run_molgen(
            smiles, work / "train.csv", "target", args.epochs, work / f"round{r}", tuple(args.also_precision)
        )

    def chemprop_side(r: int) -> dict:
        result = work / f"chemprop{r}.json"
        subprocess.run(
            [str(python), str(HERE / "chemprop_worker.py"), str(work / "job.json"), str(result)],
            check=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        return json.loads(result.read_text())

    rounds: dict[str, list[dict]] = {"molgen": [], "chemprop": []}
    for r in range(args.rounds):  # alternate who goes first, so a trend in the load hits both sides alike
        order = [("molgen", molgen_side), ("chemprop", chemprop_side)]
        for name, side in order if r % 2 == 0 else order[::-1]:
            rounds[name].append(side(r))
            print(
                f"round {r + 1} {name}:",
                json.dumps({k: round(v) for k, v in rounds[name][-1].items() if k.endswith("per_s")}),
                flush=True,
            )
    mg, cp = best_of(rounds["molgen"]), best_of(rounds["chemprop"])
    mg.update(version=molgen.__version__, torch=torch.__version__)
    dna = run_dna(work, epochs=2) if args.dna else []
    load_after = os.getloadavg()[0]
    text = table(mg, cp, args, (load_before, load_after), dna)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(
            f"# molgen vs Chemprop speed ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n\n"
            f"Command: `python benchmarks/speed/compare_chemprop.py {' '.join(argv or sys.argv[1:])}`\n\n" + text + "\n"
        )
        args.output.with_suffix(".json").write_text(
            json.dumps(
                {
                    "molgen": mg,
                    "chemprop": cp,
                    "dna": dna,
                    "load_average": [load_before, load_after],
                    "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
                    "args": {k: str(v) for k, v in vars(args).items()},
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
