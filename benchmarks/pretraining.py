"""From scratch vs fine-tuned from pretrained encoders: datasets × seeds × init, through molgen's one ``fit(cfg)``.

Every cell is a ``molgen train`` run (the same config a user would write): the dataset with its split, the
pretrained encoder's architecture (read from its ``model.yaml``), a seed, and one ``init`` arm:

- ``scratch``: random initialization;
- ``<name>``: ``--init-from`` that encoder (all weights trained, encoder at ``--encoder-lr-ratio``);
- ``<name>-frozen``: the same with ``--freeze-encoder`` (with ``--frozen``).

Writes a markdown table (test metric mean ± std over seeds per dataset and arm; for each pretrained arm the mean
ROC-AUC gain over the classification sets and the mean relative RMSE change over the regression sets) and the raw
cells as JSON next to it. ``--train-sizes`` adds a learning curve (one dataset cut to about N training molecules).

Usage (the real run, hours): python benchmarks/pretraining.py --pretrained dmpnn=runs/pretrain-dmpnn \\
    --seeds 0 1 2 --epochs 50 --output benchmarks/results/pretraining-DATE.md
Tiny check (minutes): python benchmarks/pretraining.py --pretrained tiny=RUN --datasets bbbp:scaffold esol:scaffold \\
    --seeds 0 --epochs 2 --max-rows 300 --output /tmp/pretraining.md
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import yaml

from molgen.config import RunConfig
from molgen.evaluation.supervised import higher_is_better
from molgen.families.init_from import resolve_pretrained
from molgen.recipes import fit
from molgen.training.artifacts import read_spec

DATASETS = [
    "bbbp:scaffold", "bace:scaffold", "clintox:scaffold", "sider:scaffold", "tox21:scaffold",
    "esol:random", "esol:scaffold", "freesolv:random", "freesolv:scaffold", "lipophilicity:random",
    "lipophilicity:scaffold",
]  # fmt: skip
"""The issue's measure: scaffold-split classification sets, random and scaffold regression sets."""


def model_values(source: str) -> dict[str, Any]:
    """The ``model.*`` overrides that rebuild the pretrained encoder's architecture (and its featurizer);
    ``source`` is a run or model folder or ``molgen:NAME`` (an encoder shipped with molgen)."""
    pretrained = resolve_pretrained(source)
    folder = pretrained / "model" if (pretrained / "model" / "model.yaml").is_file() else pretrained
    spec = read_spec(folder)
    model = dict(spec.model or {})
    values = {f"model.{k}": v for k, v in model.items() if k in ("name", "hidden_dim", "depth", "readout", "dropout")}
    values["data.featurizer"] = (spec.featurizer or {}).get("atom_features", "v2")
    return values


def run_cell(dataset: str, split: str, seed: int, init: dict[str, Any], common: dict[str, Any], out: Path) -> dict:
    cfg = RunConfig().with_values(
        {**common, **init, "data.name": dataset, "data.split": split, "trainer.seed": seed, "output": str(out)}
    )
    start = time.perf_counter()
    result = fit(cfg, overwrite=True)
    monitor = str(result.config.task.monitor)
    return {
        "metric": monitor,
        "value": float(result.metrics["test"][monitor]),
        "higher_is_better": higher_is_better(str(result.config.task.type), monitor),
        "task": str(result.config.task.type),
        "seconds": round(time.perf_counter() - start, 1),
    }


def summarize(cells: list[dict], arms: list[str]) -> list[str]:
    """Markdown: one row per dataset, one column per arm (mean ± std over seeds), then the gains."""
    keys = list(dict.fromkeys(c["dataset"] for c in cells))
    lines = ["| dataset | metric | " + " | ".join(arms) + " |", "|---" * (len(arms) + 2) + "|"]
    means: dict[tuple[str, str], float] = {}
    for key in keys:
        row = [key, next(c["metric"] for c in cells if c["dataset"] == key)]
        for arm in arms:
            values = [c["value"] for c in cells if c["dataset"] == key and c["arm"] == arm]
            means[key, arm] = statistics.fmean(values)
            spread = f" ± {statistics.stdev(values):.3f}" if len(values) > 1 else ""
            row.append(f"{means[key, arm]:.3f}{spread}")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    for arm in arms[1:]:
        cls = [means[k, arm] - means[k, "scratch"] for k in keys if _task(cells, k) != "regression"]
        reg = [
            (means[k, arm] - means[k, "scratch"]) / means[k, "scratch"] for k in keys if _task(cells, k) == "regression"
        ]
        parts = []
        if cls:
            parts.append(
                f"mean gain over {len(cls)} classification set(s): {statistics.fmean(cls):+.3f} (ROC-AUC etc.)"
            )
        if reg:
            parts.append(
                f"mean relative error change over {len(reg)} regression set(s): {100 * statistics.fmean(reg):+.1f}%"
            )
        lines.append(f"- **{arm}** vs scratch: " + "; ".join(parts))
    return lines


def _task(cells: list[dict], key: str) -> str:
    return next(c["task"] for c in cells if c["dataset"] == key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrained", nargs="+", required=True, metavar="NAME=DIR", help="pretrained encoders")
    parser.add_argument("--datasets", nargs="+", default=DATASETS, metavar="NAME:SPLIT")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--max-rows", type=int, help="use only the first N rows of each dataset (a quick check)")
    parser.add_argument("--encoder-lr-ratio", type=float, default=1.0)
    parser.add_argument("--frozen", action="store_true", help="also run each encoder frozen")
    parser.add_argument(
        "--train-sizes", nargs="*", type=int, default=[], help="learning curve: about N training molecules each"
    )
    parser.add_argument("--curve-dataset", default="lipophilicity:scaffold")
    parser.add_argument("--jobs", type=int, default=1, help="cells trained at once (one process and thread each)")
    parser.add_argument("--resume", action="store_true", help="keep the cells already in the output's .json")
    parser.add_argument("--output", required=True, help="markdown file (the cells go to the same name .json)")
    args = parser.parse_args()
    encoders = dict(item.split("=", 1) for item in args.pretrained)
    architecture = [model_values(path) for path in encoders.values()]
    if any(a != architecture[0] for a in architecture):
        raise SystemExit("the pretrained encoders differ in architecture; compare one architecture per run")
    common = {"trainer.max_epochs": args.epochs, "trainer.patience": 0, "trainer.progress_bar": False,
              "data.on_invalid": "skip", **architecture[0]}  # fmt: skip
    arms: dict[str, dict[str, Any]] = {"scratch": {"optim.init_from": "none"}}
    for name, path in encoders.items():
        arms[name] = {"optim.init_from": path, "optim.encoder_lr_ratio": args.encoder_lr_ratio}
        if args.frozen:
            arms[f"{name}-frozen"] = {"optim.init_from": path, "optim.freeze_encoder": True}
    plan = [(d, None) for d in args.datasets] + [(args.curve_dataset, n) for n in args.train_sizes]
    work = Path(tempfile.mkdtemp(prefix="pretraining-bench-"))
    cells_file = Path(args.output).with_suffix(".json")
    cells_file.parent.mkdir(parents=True, exist_ok=True)
    done = json.loads(cells_file.read_text()) if args.resume and cells_file.is_file() else []
    finished = {(c["dataset"], c["seed"], c["arm"]) for c in done}
    todo = []
    for spec, size in plan:
        dataset, _, split = spec.partition(":")
        rows = args.max_rows if size is None else int(size / 0.8)  # 80 % of the rows train
        key = f"{dataset} ({split})" if size is None else f"{dataset} ({split}, ~{size} train)"
        for seed in args.seeds:
            for arm, init in arms.items():
                if (key, seed, arm) in finished:
                    continue
                extra = {**init, **({"data.max_rows": rows} if rows else {})}
                out = work / f"{dataset}-{split}-{size}-{seed}-{arm}"
                todo.append(
                    (
                        {"dataset": key, "seed": seed, "arm": arm},
                        (dataset, split or "scaffold", seed, extra, common, out),
                    )
                )
    cells = list(done)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=context) as pool:
        futures = {pool.submit(run_cell, *call): label for label, call in todo}
        for future in as_completed(futures):
            cells.append({**futures[future], **future.result()})
            cells_file.write_text(json.dumps(cells, indent=1))  # after each cell: --resume continues from here
            print(json.dumps(cells[-1]), flush=True)
    order = {(label["dataset"], label["seed"], label["arm"]): i for i, (label, _) in enumerate(todo)}
    cells.sort(key=lambda c: order.get((c["dataset"], c["seed"], c["arm"]), -1))
    lines = [
        f"# From scratch vs fine-tuned ({time.strftime('%Y-%m-%d')})",
        "",
        f"Encoders: {', '.join(f'{k} = `{v}`' for k, v in encoders.items())}; architecture "
        f"`{yaml.safe_dump(architecture[0], default_flow_style=True).strip()}`; {args.epochs} epochs (best validation "
        f"epoch kept), seeds {args.seeds}, encoder lr ratio {args.encoder_lr_ratio}"
        + (f", first {args.max_rows} rows of each dataset" if args.max_rows else "")
        + ". Test metric, mean ± std over seeds.",
        "",
        *summarize(cells, list(arms)),
        "",
        "Command: `python benchmarks/pretraining.py " + " ".join(_argv()) + "`",
    ]
    Path(args.output).write_text("\n".join(lines) + "\n")
    cells_file.write_text(json.dumps(cells, indent=1))
    print("\n".join(lines))


def _argv() -> list[str]:
    import sys

    return sys.argv[1:]


if __name__ == "__main__":
    main()
