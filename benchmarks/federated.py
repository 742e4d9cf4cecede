"""Federated vs each site alone vs pooled data: Tox21 split across simulated sites by scaffold clusters.

Usage:
    MOLGEN_DATA_DIR=../shared/data python benchmarks/federated.py [--sites 4] [--rounds 10] [--local-epochs 2]
        [--model fpmlp] [--seed 0] [--work /tmp/molgen-fed-bench] [--output benchmarks/results/federated-DATE.md]

1. Tox21 (12 binary tasks): the Bemis-Murcko scaffolds' Morgan fingerprints (radius 2, 1024 bits) are grouped
   by k-means into --sites clusters; each cluster's molecules are one site's file (non-IID: different chemistry).
   (--reuse-baselines keeps the alone and pooled runs already in --work and reruns the federation only.)
2. Each site splits its own file (random 0.8/0.1/0.1, --seed). Three arms, same model and epoch budget
   (rounds × local epochs):
   - federated: `molgen federate` (FedAvg; trunk averaged, heads local), the last round's model of each site;
   - alone: `molgen train` on the site's file (best validation epoch, early stopping as the default);
   - pooled: `molgen train` on all sites' rows with each site's own split (--split predefined).
3. Each arm's model predicts each site's test rows (`molgen predict`); the score is the mean over tasks of the
   test ROC-AUC (tasks with both classes among the site's test rows). Also: rounds, bytes per round, wall times.

Writes a Markdown table to --output (and JSON next to it); everything else goes under --work.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

MOLGEN = [sys.executable, "-m", "molgen"]
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


def site_files(work: Path, n_sites: int, seed: int) -> list[Path]:
    """Tox21's valid molecules in ``n_sites`` scaffold clusters, one CSV each (smiles + the 12 tasks)."""
    from rdkit import Chem, RDLogger
    from rdkit.Chem import rdFingerprintGenerator
    from rdkit.Chem.Scaffolds import MurckoScaffold
    from sklearn.cluster import KMeans

    RDLogger.DisableLog("rdApp.*")
    data_dir = os.environ.get("MOLGEN_DATA_DIR")
    if not data_dir:
        sys.exit("set MOLGEN_DATA_DIR to the data mirror (it holds moleculenet/tox21.csv)")
    frame = pd.read_csv(Path(data_dir) / "moleculenet" / "tox21.csv")
    mols = [Chem.MolFromSmiles(s) for s in frame.smiles]
    keep = [m is not None for m in mols]
    frame = frame[keep].reset_index(drop=True)
    scaffolds = [MurckoScaffold.MurckoScaffoldSmiles(mol=m) for m in mols if m is not None]
    unique = sorted(set(scaffolds))
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    fps = np.array([generator.GetFingerprintAsNumPy(Chem.MolFromSmiles(s) or Chem.MolFromSmiles("C")) for s in unique])
    labels = KMeans(n_clusters=n_sites, n_init=10, random_state=seed).fit_predict(fps)
    cluster = dict(zip(unique, labels))
    frame["site"] = [int(cluster[s]) for s in scaffolds]
    paths = []
    for k in range(n_sites):
        path = work / f"site{k}.csv"
        frame[frame.site == k][["smiles", *TASKS]].to_csv(path, index=False)
        paths.append(path)
    return paths


def run(args: list[str], reuse: Path | None = None) -> float:
    """Runs ``molgen ARGS``; wall seconds (0 when ``reuse``, a run folder, already holds its metrics.json)."""
    if reuse is not None and (reuse / "metrics.json").is_file():
        return 0.0
    start = time.perf_counter()
    result = subprocess.run([*MOLGEN, *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"molgen {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def split_rows(run_dir: Path) -> dict[str, list[int]]:
    """``{train, val, test: 0-based data rows}`` of a run folder's one split (``splits.json``)."""
    return dict(json.loads((run_dir / "splits.json").read_text())["folds"][0])


def test_rows(site: Path, run_dir: Path) -> pd.DataFrame:
    """The site's test rows (from a run folder's splits.json: 0-based data rows of the site's file)."""
    rows = split_rows(run_dir)["test"]
    return pd.read_csv(site).iloc[rows].reset_index(drop=True)


def roc_auc(model: Path, rows: pd.DataFrame, work: Path) -> float:
    """Mean over tasks of the ROC-AUC of ``model``'s predictions for ``rows`` (tasks with both classes)."""
    from sklearn.metrics import roc_auc_score

    query, out = work / "query.csv", work / "predictions.csv"
    rows[["smiles"]].to_csv(query, index=False)
    run(["predict", "--model", str(model), "--input", str(query), "--output", str(out), "--no-domain"])
    predictions = pd.read_csv(out)
    scores = []
    for task in TASKS:
        known = rows[task].notna().to_numpy()
        truth = rows[task].to_numpy()[known]
        if len(set(truth)) == 2:
            scores.append(roc_auc_score(truth, predictions[task].to_numpy()[known]))
    return float(np.mean(scores))


def markdown(table: pd.DataFrame) -> str:
    head = "| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns)
    body = [
        "| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |"
        for row in table.itertuples(index=False)
    ]
    return "\n".join([head, *body])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--local-epochs", type=int, default=2)
    parser.add_argument("--model", default="fpmlp")
    parser.add_argument("--strategy", choices=["fedavg", "fedprox"], default="fedavg")
    parser.add_argument("--proximal-mu", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/molgen-fed-bench"))
    parser.add_argument(
        "--reuse-baselines",
        action="store_true",
        help="keep the alone/pooled run folders already in --work (rerun only the federation)",
    )
    today = datetime.date.today().isoformat()
    parser.add_argument("--output", type=Path, default=Path(f"benchmarks/results/federated-{today}.md"))
    args = parser.parse_args()
    if args.reuse_baselines:
        shutil.rmtree(args.work / "federated", ignore_errors=True)
    else:
        shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True, exist_ok=True)
    sites = site_files(args.work, args.sites, args.seed)
    names = [p.stem for p in sites]
    common = ["--model", args.model, "--task-type", "multilabel", "--target-columns", *TASKS, "--seed", str(args.seed)]
    epochs = args.rounds * args.local_epochs
    times: dict[str, float] = {}

    fed = args.work / "federated"
    site_args = [a for p in sites for a in ("--site", str(p))]
    times["federated"] = run(
        ["federate", *site_args, "--rounds", str(args.rounds), "--max-epochs", str(args.local_epochs)]
        + ["--strategy", args.strategy, "--proximal-mu", str(args.proximal_mu)]
        + [*common, "--output", str(fed)]
    )
    tests = {name: test_rows(p, fed / "sites" / name) for name, p in zip(names, sites)}

    times["alone"] = 0.0
    for name, path in zip(names, sites):
        out = args.work / f"alone_{name}"
        times["alone"] += run(
            ["train", "--data", str(path), *common, "--max-epochs", str(epochs), "--output", str(out), "--no-report"],
            reuse=out if args.reuse_baselines else None,
        )
        assert split_rows(out) == split_rows(fed / "sites" / name), f"{name}: the split differs from the federation's"

    pooled_rows = []
    for name, path in zip(names, sites):
        record = split_rows(fed / "sites" / name)
        table = pd.read_csv(path)
        for part in ("train", "val", "test"):
            pooled_rows.append(table.iloc[record[part]].assign(split=part, site=name))
    pooled_file = args.work / "pooled.csv"
    pd.concat(pooled_rows).to_csv(pooled_file, index=False)
    pooled = args.work / "pooled"
    times["pooled"] = run(
        ["train", "--data", str(pooled_file), *common, "--split", "predefined", "--split-column", "split"]
        + ["--max-epochs", str(epochs), "--output", str(pooled), "--no-report"],
        reuse=pooled if args.reuse_baselines else None,
    )

    rows = []
    for name in names:
        rows.append(
            {
                "site": name,
                "molecules": len(pd.read_csv(args.work / f"{name}.csv")),
                "test rows": len(tests[name]),
                "alone": roc_auc(args.work / f"alone_{name}" / "model", tests[name], args.work),
                "federated": roc_auc(fed / "sites" / name / "model", tests[name], args.work),
                "pooled": roc_auc(pooled / "model", tests[name], args.work),
            }
        )
    table = pd.DataFrame(rows)
    metrics = json.loads((fed / "metrics.json").read_text())
    communication = metrics["communication"]
    result = {
        "settings": vars(args) | {"work": str(args.work), "output": str(args.output)},
        "per_site": rows,
        "mean": {arm: float(table[arm].mean()) for arm in ("alone", "federated", "pooled")},
        "communication": communication,
        "wall_seconds": times,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.with_suffix(".json").write_text(json.dumps(result, indent=2, default=str))
    beats = all(table.federated > table.alone)
    within = all(table.pooled - table.federated <= 0.02)
    lines = [
        f"# Federated learning on Tox21: {args.sites} scaffold-cluster sites ({today})",
        "",
        f"`python benchmarks/federated.py --sites {args.sites} --rounds {args.rounds} --local-epochs "
        f"{args.local_epochs} --model {args.model} --strategy {args.strategy} --proximal-mu {args.proximal_mu} "
        f"--seed {args.seed}` (one seed; {os.cpu_count()} CPU cores, shared)",
        "",
        f"Model {args.model}, 12 tasks (multilabel), per-site random split 0.8/0.1/0.1; every arm trains "
        f"{epochs} epochs (federated: {args.rounds} rounds × {args.local_epochs} local epochs, {args.strategy}; the "
        f"trunk of round {metrics['selected_round']} kept, by mean validation ROC-AUC over the sites).",
        "Test ROC-AUC on each site's own test rows (mean over the tasks with both classes there):",
        "",
        markdown(table),
        "",
        "| mean | " + " | ".join(f"{arm} {result['mean'][arm]:.3f}" for arm in ("alone", "federated", "pooled")) + " |",
        "",
        f"- Federated beats every site alone: **{'yes' if beats else 'no'}**; within 0.02 of pooled on every "
        f"site: **{'yes' if within else 'no'}**.",
        f"- Communication: {communication['rounds']} rounds, {communication['bytes_per_round'][0] / 1e6:.1f} MB per "
        f"round (trunk sent for fit and evaluation, updates received; all sites), "
        f"{communication['bytes_total'] / 1e6:.1f} MB in all.",
        "- Wall time (2 shared cores): "
        + ", ".join(
            f"{arm} {f'{seconds:.0f} s' if seconds else 'reused from an earlier run'}" for arm, seconds in times.items()
        )
        + ".",
        "",
    ]
    args.output.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
