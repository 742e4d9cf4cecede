"""In-process cost of one single-molecule predict request of `molgen serve`, stage by stage, for one or more
source trees side by side (e.g. before and after a change), on the same machine in one run.

Usage:
    python benchmarks/serving_profile.py --model RUN_DIR [--tree before=/path/to/old/src] [--tree after=src]
        [--tree after_2_threads=src:2] [--repeats 400] [--output benchmarks/results/serving_profile_<date>]

A tree is ``NAME=SRC[:THREADS]``: THREADS torch intra-op threads (default 1, as the server's
``--torch-threads``).

Each tree is measured in its own subprocess (``PYTHONPATH=<tree>``), the trees alternating over ``--rounds``
rounds; each stage reports the median over rounds of the mean CPU time of the calling thread per call
(``time.thread_time``: on a machine shared with other jobs, CPU time moves much less than wall time) and
the wall time. Stages, each including the ones above it:

- ``featurize``: ``featurize_smiles`` of one SMILES (with the applicability-domain fingerprint when the model
  has a domain);
- ``predict_frame``: the library call of ``molgen predict`` for a one-row table;
- ``predict_items``: the server's call (a table of the inputs → ``predict_frame`` → one item per input);
- ``asgi_request``: one ``POST /v1/models/esol/predict`` through the whole ASGI app in this process (access
  log, body limit, FastAPI validation, concurrency gate, batcher with its worker-thread hop, JSON); no socket,
  no HTTP parsing. CPU time here is the process's (the batcher's worker thread included).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SMILES = "CCOc1ccccc1C(=O)N"


def measure(model_dir: str, repeats: int, threads: int = 1) -> dict[str, dict[str, float]]:
    """Mean CPU and wall ms per call of each stage, in this process (the tree on ``sys.path``)."""
    import asyncio

    import pandas as pd
    import torch

    torch.set_num_threads(threads)  # as the server's worker (--torch-threads, default 1)
    from molgen.analysis.prediction import predict_frame
    from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles
    from molgen.serving.app import create_app
    from molgen.serving.models import load_served, predict_items
    from molgen.serving.settings import ServeSettings

    served = load_served("esol", model_dir)
    model = served.predictor
    spec = FeaturizerSpec.from_dict(model.spec.featurizer)
    fingerprint = None if model.domain is None else model.domain.fingerprint
    app = create_app(ServeSettings(models={"esol": model_dir}, torch_threads=threads))
    body = json.dumps({"smiles": [SMILES]}).encode()

    async def asgi_request() -> None:
        sent: list[dict] = []
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/v1/models/esol/predict",
            "raw_path": b"/v1/models/esol/predict",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 8000),
        }

        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            sent.append(message)

        await app(scope, receive, send)
        assert sent[0]["status"] == 200, sent

    async def asgi_stage() -> dict[str, float]:
        startup: asyncio.Queue[dict] = asyncio.Queue()
        await startup.put({"type": "lifespan.startup"})
        done = asyncio.Event()

        async def send(message: dict) -> None:
            if message["type"] == "lifespan.startup.complete":
                done.set()
            elif message["type"] == "lifespan.startup.failed":
                raise RuntimeError(message)

        lifespan = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"}}, startup.get, send))
        await done.wait()
        for _ in range(20):
            await asgi_request()
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(repeats):
            await asgi_request()
        out = {
            "cpu_ms": 1000 * (time.process_time() - cpu) / repeats,
            "wall_ms": 1000 * (time.perf_counter() - wall) / repeats,
        }
        await startup.put({"type": "lifespan.shutdown"})
        await lifespan
        return out

    def stage(call) -> dict[str, float]:  # type: ignore[no-untyped-def]
        for _ in range(20):
            call()
        cpu, wall = time.thread_time(), time.perf_counter()
        for _ in range(repeats):
            call()
        return {
            "cpu_ms": 1000 * (time.thread_time() - cpu) / repeats,
            "wall_ms": 1000 * (time.perf_counter() - wall) / repeats,
        }

    return {
        "featurize": stage(lambda: featurize_smiles([SMILES], spec, n_jobs=1, fingerprint=fingerprint)),
        "predict_frame": stage(lambda: predict_frame(model, pd.DataFrame({"smiles": [SMILES]}), n_jobs=1)),
        "predict_items": stage(lambda: predict_items(served, [SMILES])),
        "asgi_request": asyncio.run(asgi_stage()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a run folder (or its model/) of a property model")
    parser.add_argument("--tree", action="append", metavar="NAME=SRC", help="a source tree (default: this=src)")
    parser.add_argument("--repeats", type=int, default=400, help="calls per stage and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, help="write <output>.json and <output>.md")
    parser.add_argument("--child", type=int, metavar="THREADS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.model, args.repeats, args.child)))
        return
    trees = dict(t.split("=", 1) for t in (args.tree or ["this=src"]))
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    for round_ in range(args.rounds):
        for name, tree in trees.items():
            src, _, threads = tree.partition(":")
            env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
            env.pop("OMP_NUM_THREADS", None)  # torch.set_num_threads decides
            command = [sys.executable, __file__, "--child", threads or "1", "--model", args.model]
            command += ["--repeats", str(args.repeats)]
            out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
            runs[name].append(json.loads(out.strip().splitlines()[-1]))
            print(f"round {round_ + 1} {name}: {runs[name][-1]}", flush=True)
    write(runs, trees, args)


def write(runs: dict[str, list[dict]], trees: dict[str, str], args: argparse.Namespace) -> None:
    """Prints the medians per tree and stage; with ``--output`` writes them (and every round) as JSON and markdown."""
    stages = list(next(iter(runs.values()))[0])
    summary = {
        name: {s: {k: round(statistics.median(r[s][k] for r in rs), 3) for k in ("cpu_ms", "wall_ms")} for s in stages}
        for name, rs in runs.items()
    }
    options = {k: str(v) for k, v in vars(args).items()}
    results = {"trees": trees, "summary": summary, "runs": runs, "load_avg_end": os.getloadavg(), "args": options}
    print(json.dumps(summary, indent=1))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
        args.output.with_suffix(".md").write_text(markdown(results))


def markdown(results: dict) -> str:
    names = list(results["summary"])
    args = results["args"]
    lines = [
        "# molgen serve: in-process cost of one single-molecule predict request",
        "",
        f"`python benchmarks/serving_profile.py --model {args['model']} "
        + " ".join(f"--tree {n}={s}" for n, s in results["trees"].items())
        + f" --rounds {args['rounds']} --repeats {args['repeats']}`; one torch thread (`:2`: two); medians over "
        f"{args['rounds']} alternating rounds of {args['repeats']} calls; load average at the end "
        f"{results['load_avg_end'][0]:.1f} on {os.cpu_count()} CPUs shared with other jobs.",
        "",
        "| stage (each includes the ones above) | " + " | ".join(f"{n} CPU ms | {n} wall ms" for n in names) + " |",
        "|---" * (1 + 2 * len(names)) + "|",
    ]
    for stage in results["summary"][names[0]]:
        cells = " | ".join(
            f"{results['summary'][n][stage]['cpu_ms']:.2f} | {results['summary'][n][stage]['wall_ms']:.2f}"
            for n in names
        )
        lines.append(f"| {stage} | {cells} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
