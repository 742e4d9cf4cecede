"""Federated vs each site alone vs pooled data on Tox21, sites split by scaffold clusters or by task, over seeds.

Usage:
    MOLGEN_DATA_DIR=../shared/data python benchmarks/federated.py [--split-by scaffold|task] [--seeds 0 1 2]
        [--strategies fedavg fedprox] [--proximal-mu 0.01] [--sites 4] [--rounds 10] [--local-epochs 2]
        [--model fpmlp] [--site-seed 0] [--work /tmp/molgen-fed-bench] [--output benchmarks/results/federated-DATE.md]

1. Tox21 (12 binary tasks, valid molecules) into --sites site files, fixed by --site-seed (the same sites for
   every seed):
   - ``scaffold`` (non-IID chemistry): the Bemis-Murcko scaffolds' Morgan fingerprints (radius 2, 1024 bits) in
     k-means clusters; each cluster's molecules are one site, labelled on all 12 tasks;
   - ``task`` (MELLODDY's setting): the molecules shuffled into equal parts and the 12 tasks into contiguous
     blocks (3 each for 4 sites); a site's file holds only its own task columns.
2. Per seed, each site splits its own file (random 0.8/0.1/0.1, ``--seed``); the arms train the same model for the
   same epochs (rounds × local epochs), every process with one CPU thread:
   - each strategy of --strategies: ``molgen federate`` (trunk averaged, heads local; the best validation
     round's trunk, heads fitted to it);
   - alone: ``molgen train`` on the site's file (best validation epoch);
   - pooled: ``molgen train`` on all sites' rows (a label a site does not hold is missing: masked in the loss) with
     each site's own split (``--split predefined``).
3. Each arm's model predicts each site's test rows; the score is the mean ROC-AUC over the site's own tasks (those
   with both classes among its test rows); per site and arm: mean ± sd over the seeds.
   (--reuse-baselines keeps the alone and pooled runs already in --work and reruns the federations only.)

Training runs in this process (``molgen.cli.main.main``; the federation starts its own server and site
processes), so a run pays no interpreter start. Writes Markdown to --output and JSON next to it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

os.environ["OMP_NUM_THREADS"] = "1"  # every arm and every site process alike (before torch loads)

import numpy as np
import pandas as pd

TASKS = [
    "NR-AR",
    "NR-AR-LBD",
    "NR-AhR",
    "NR-Aromatase",
    "NR-ER",
    "NR-ER-LBD",
    "NR-PPAR-gamma",
    "SR-ARE",
    "SR-ATAD5",
    "SR-HSE",
    "SR-MMP",
    "SR-p53",
]


def tox21() -> pd.DataFrame:
    """Tox21's rows whose SMILES RDKit parses (smiles + the 12 tasks)."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    data_dir = os.environ.get("MOLGEN_DATA_DIR")
    if not data_dir:
        sys.exit("set MOLGEN_DATA_DIR to the data mirror (it holds moleculenet/tox21.csv)")
    frame = pd.read_csv(Path(data_dir) / "moleculenet" / "tox21.csv")
    keep = [Chem.MolFromSmiles(s) is not None for s in frame.smiles]
    return frame[keep][["smiles", *TASKS]].reset_index(drop=True)


def scaffold_sites(frame: pd.DataFrame, n_sites: int, seed: int) -> list[pd.DataFrame]:
    """Sites of scaffold clusters (k-means on the scaffolds' Morgan bits), every task labelled."""
    from rdkit import Chem
    from rdkit.Chem import rdFingerprintGenerator
    from rdkit.Chem.Scaffolds import MurckoScaffold
    from sklearn.cluster import KMeans

    scaffolds = [MurckoScaffold.MurckoScaffoldSmiles(smiles=s) for s in frame.smiles]
    unique = sorted(set(scaffolds))
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    fps = np.array([generator.GetFingerprintAsNumPy(Chem.MolFromSmiles(s) or Chem.MolFromSmiles("C")) for s in unique])
    labels = KMeans(n_clusters=n_sites, n_init=10, random_state=seed).fit_predict(fps)
    cluster = dict(zip(unique, labels))
    site = np.array([int(cluster[s]) for s in scaffolds])
    return [frame[site == k].reset_index(drop=True) for k in range(n_sites)]


def task_sites(frame: pd.DataFrame, n_sites: int, seed: int) -> list[pd.DataFrame]:
    """Sites of random equal parts of the molecules, each labelling only its own block of tasks."""
    order = np.random.default_rng(seed).permutation(len(frame))
    blocks = np.array_split(np.array(TASKS), n_sites)
    parts = np.array_split(order, n_sites)
    return [frame.iloc[np.sort(rows)][["smiles", *tasks]].reset_index(drop=True) for rows, tasks in zip(parts, blocks)]


def site_files(work: Path, split_by: str, n_sites: int, seed: int) -> list[Path]:
    """One CSV per site under ``work`` (smiles + the site's task columns)."""
    make = scaffold_sites if split_by == "scaffold" else task_sites
    paths = []
    for k, table in enumerate(make(tox21(), n_sites, seed)):
        path = work / f"site{k}.csv"
        table.to_csv(path, index=False)
        paths.append(path)
    return paths


def site_tasks(path: Path) -> list[str]:
    return [c for c in pd.read_csv(path, nrows=0).columns if c in TASKS]


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run(args: list[str], log: Path, reuse: Path | None = None) -> dict[str, float]:
    """``molgen ARGS`` in this process (its printed output to ``log``); wall and CPU seconds (0 when ``reuse``,
    a run folder, already holds its metrics.json)."""
    from molgen.cli.main import main

    if reuse is not None and (reuse / "metrics.json").is_file():
        return {"wall": 0.0, "cpu": 0.0}
    wall, cpu = time.perf_counter(), cpu_seconds()
    with open(log, "a") as stream, contextlib.redirect_stdout(stream):
        code = main([*args, "--threads", "1"])
    if code != 0:
        sys.exit(f"molgen {' '.join(args)} failed with status {code} (log: {log})")
    return {"wall": time.perf_counter() - wall, "cpu": cpu_seconds() - cpu}


def split_rows(run_dir: Path) -> dict[str, list[int]]:
    """``{train, val, test: 0-based data rows}`` of a run folder's one split (``splits.json``)."""
    return dict(json.loads((run_dir / "splits.json").read_text())["folds"][0])


def roc_auc(model: Path, rows: pd.DataFrame, tasks: list[str]) -> float:
    """Mean over ``tasks`` (those with both classes in ``rows``) of the ROC-AUC of ``model`` on ``rows``."""
    from sklearn.metrics import roc_auc_score

    from molgen.analysis.prediction import load_model, predict_frame

    predictions = predict_frame(load_model(model), rows[["smiles"]], domain=False)
    scores = []
    for task in tasks:
        known = rows[task].notna().to_numpy()
        truth = rows[task].to_numpy()[known]
        if len(set(truth)) == 2:
            scores.append(roc_auc_score(truth, predictions[task].to_numpy()[known]))
    return float(np.mean(scores))


def one_seed(args: argparse.Namespace, sites: list[Path], seed: int, log: Path) -> dict[str, Any]:
    """Every arm for one seed: per site and arm the test ROC-AUC; wall/CPU seconds; the federations' bytes."""
    work = args.work / f"seed{seed}"
    names = [p.stem for p in sites]
    tasks = {name: site_tasks(p) for name, p in zip(names, sites)}
    model = ["--model", args.model, "--task-type", "multilabel", "--seed", str(seed), "--on-invalid", "error"]
    epochs = args.rounds * args.local_epochs
    times: dict[str, dict[str, float]] = {}
    feds: dict[str, Path] = {}
    site_args = [a for p in sites for a in ("--site", str(p))]
    for strategy in args.strategies:
        feds[strategy] = work / strategy
        shutil.rmtree(feds[strategy], ignore_errors=True)
        mu = args.proximal_mu if strategy == "fedprox" else 0.0
        times[strategy] = run(
            ["federate", *site_args, "--rounds", str(args.rounds), "--max-epochs", str(args.local_epochs)]
            + ["--strategy", strategy, "--proximal-mu", str(mu), *model, "--output", str(feds[strategy])],
            log,
        )
    first = feds[args.strategies[0]]
    splits = {name: split_rows(first / "sites" / name) for name in names}
    tables = {name: pd.read_csv(p) for name, p in zip(names, sites)}

    times["alone"] = {"wall": 0.0, "cpu": 0.0}
    for name, path in zip(names, sites):
        out = work / f"alone_{name}"
        spent = run(
            ["train", "--data", str(path), *model, "--target-columns", *tasks[name], "--max-epochs", str(epochs)]
            + ["--output", str(out), "--overwrite", "--no-report"],
            log,
            reuse=out if args.reuse_baselines else None,
        )
        times["alone"] = {k: times["alone"][k] + spent[k] for k in spent}
        assert split_rows(out) == splits[name], f"{name}: the alone split differs from the federation's"

    pooled_file, pooled = work / "pooled.csv", work / "pooled"
    parts = [tables[n].iloc[splits[n][part]].assign(split=part) for n in names for part in ("train", "val", "test")]
    pd.concat(parts)[["smiles", *TASKS, "split"]].to_csv(pooled_file, index=False)  # absent labels: empty
    times["pooled"] = run(
        ["train", "--data", str(pooled_file), *model, "--target-columns", *TASKS]
        + ["--split", "predefined", "--split-column", "split", "--max-epochs", str(epochs)]
        + ["--output", str(pooled), "--overwrite", "--no-report"],
        log,
        reuse=pooled if args.reuse_baselines else None,
    )

    scores: dict[str, dict[str, float]] = {}
    for name in names:
        test = tables[name].iloc[splits[name]["test"]].reset_index(drop=True)
        models = {"alone": work / f"alone_{name}" / "model", "pooled": pooled / "model"}
        models |= {s: feds[s] / "sites" / name / "model" for s in args.strategies}
        scores[name] = {arm: roc_auc(path, test, tasks[name]) for arm, path in models.items()}
    federations = {}
    for strategy, fed in feds.items():
        metrics = json.loads((fed / "metrics.json").read_text())
        federations[strategy] = {"selected_round": metrics["selected_round"], **metrics["communication"]}
    return {"seed": seed, "scores": scores, "seconds": times, "federations": federations}


def summarize(results: list[dict[str, Any]], names: list[str], arms: list[str]) -> pd.DataFrame:
    """Per site and arm: mean and sd (ddof 1) of the test ROC-AUC over the seeds."""
    rows = []
    for name in names:
        row: dict[str, Any] = {"site": name}
        for arm in arms:
            values = [r["scores"][name][arm] for r in results]
            row[arm] = float(np.mean(values))
            row[f"{arm}_sd"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        rows.append(row)
    return pd.DataFrame(rows)


def report(args: argparse.Namespace, sites: list[Path], results: list[dict[str, Any]]) -> str:
    names = [p.stem for p in sites]
    arms = ["alone", *args.strategies, "pooled"]
    table = summarize(results, names, arms)
    seeds = " ".join(str(s) for s in args.seeds)
    command = (
        f"`python benchmarks/federated.py --split-by {args.split_by} --seeds {seeds} --strategies "
        f"{' '.join(args.strategies)} --proximal-mu {args.proximal_mu} --sites {args.sites} --rounds {args.rounds} "
        f"--local-epochs {args.local_epochs} --model {args.model} --site-seed {args.site_seed}`"
    )
    head = "| site | molecules | tasks | " + " | ".join(arms) + " |\n|" + "---|" * (3 + len(arms))
    body = []
    for name, path in zip(names, sites):
        row = table[table.site == name].iloc[0]
        cells = [f"{row[a]:.3f} ± {row[f'{a}_sd']:.3f}" for a in arms]
        tasks = site_tasks(path)
        body.append(
            f"| {name} | {len(pd.read_csv(path))} | {len(tasks) if len(tasks) == len(TASKS) else ', '.join(tasks)} | "
            + " | ".join(cells)
            + " |"
        )
    per_seed_mean = {a: [float(np.mean([r["scores"][n][a] for n in names])) for r in results] for a in arms}
    body.append(
        "| mean over sites | | | "
        + " | ".join(
            f"{np.mean(v):.3f} ± {np.std(v, ddof=1) if len(v) > 1 else 0.0:.3f}" for v in per_seed_mean.values()
        )
        + " |"
    )
    lines = [
        f"# Federated learning on Tox21: {args.sites} sites split by {args.split_by}, seeds {seeds} "
        f"({datetime.date.today().isoformat()})",
        "",
        command,
        "",
        f"Model {args.model}, multilabel; each site's own random split 0.8/0.1/0.1 (seed); every arm trains "
        f"{args.rounds * args.local_epochs} epochs (federations: {args.rounds} rounds × {args.local_epochs} local "
        f"epochs; FedProx μ = {args.proximal_mu}); one CPU thread per process. Test ROC-AUC on each site's own test "
        "rows and own tasks, mean ± sd over the seeds:",
        "",
        head,
        *body,
        "",
    ]
    for strategy in args.strategies:
        beats = [n for n in names if table.set_index("site").loc[n, strategy] > table.set_index("site").loc[n, "alone"]]
        within = [
            n
            for n in names
            if table.set_index("site").loc[n, "pooled"] - table.set_index("site").loc[n, strategy] <= 0.02
        ]
        seeds_beat = sum(all(r["scores"][n][strategy] > r["scores"][n]["alone"] for n in names) for r in results)
        lines.append(
            f"- {strategy}: above alone (seed mean) on {len(beats)}/{len(names)} sites, on every site in "
            f"{seeds_beat}/{len(results)} seeds; within 0.02 of pooled (seed mean) on {len(within)}/{len(names)} "
            f"sites; selected rounds {[r['federations'][strategy]['selected_round'] for r in results]}."
        )
    fed = results[0]["federations"][args.strategies[0]]
    lines.append(
        f"- Communication per federation: {fed['rounds']} rounds, {fed['bytes_per_round'][0] / 1e6:.1f} MB per round "
        f"(all sites), {fed['bytes_total'] / 1e6:.1f} MB in all."
    )
    seconds = {arm: [r["seconds"][arm] for r in results] for arm in results[0]["seconds"]}
    lines.append(
        "- Seconds per seed (wall / CPU, mean over seeds, 2 shared cores): "
        + ", ".join(
            f"{arm} {np.mean([s['wall'] for s in v]):.0f} / {np.mean([s['cpu'] for s in v]):.0f}"
            for arm, v in seconds.items()
        )
        + "."
    )
    return "\n".join([*lines, ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split-by", choices=["scaffold", "task"], default="scaffold")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--strategies", nargs="+", choices=["fedavg", "fedprox"], default=["fedavg"])
    parser.add_argument("--proximal-mu", type=float, default=0.01, help="FedProx's μ")
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--local-epochs", type=int, default=2)
    parser.add_argument("--model", default="fpmlp")
    parser.add_argument("--site-seed", type=int, default=0, help="seed of the site assignment (fixed over --seeds)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/molgen-fed-bench"))
    parser.add_argument(
        "--reuse-baselines",
        action="store_true",
        help="keep the alone/pooled run folders already in --work (rerun only the federations)",
    )
    today = datetime.date.today().isoformat()
    parser.add_argument("--output", type=Path, default=Path(f"benchmarks/results/federated-{today}.md"))
    args = parser.parse_args()
    args.output = args.output.resolve()
    if not args.reuse_baselines:
        shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True, exist_ok=True)
    sites = site_files(args.work, args.split_by, args.sites, args.site_seed)
    log = args.work / "molgen.log"
    results = []
    for seed in args.seeds:
        results.append(one_seed(args, sites, seed, log))
        print(f"seed {seed}: {json.dumps(results[-1]['scores'])}", file=sys.stderr, flush=True)
    names = [p.stem for p in sites]
    table = summarize(results, names, ["alone", *args.strategies, "pooled"])
    record = {
        "settings": vars(args) | {"work": str(args.work), "output": str(args.output)},
        "per_site": table.to_dict(orient="records"),
        "seeds": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.with_suffix(".json").write_text(json.dumps(record, indent=2, default=str))
    text = report(args, sites, results)
    args.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
