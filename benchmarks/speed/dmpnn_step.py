"""The D-MPNN's own speed, two source trees side by side: inference and training steps, float32 and bfloat16.

Run on demand (not a test)::

    git archive main src | tar -x -C /tmp/base
    python benchmarks/speed/dmpnn_step.py --baseline-src /tmp/base/src [--rounds 7] [--data-dir DIR]

Each tree runs in its own process (``PYTHONPATH`` = its ``src``; one torch thread), on the same 64-molecule
batches: the first 3,200 MOSES test molecules and the first 3,200 Lipophilicity molecules, featurized by that
tree. Measured per round: the model (D-MPNN 300×3, mean readout, and a linear head) over all batches without
gradients, and forward + backward over the first 25 batches, each in float32 and under bfloat16 autocast, 3
passes each, the fastest kept (the first pass also builds oneDNN's kernels for each new shape). The processes
take turns round by round; the table shows each side's median molecules per second over the rounds and the
ratio of the medians. Both sides start from the same seeded weights.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO_SRC = Path(__file__).resolve().parents[2] / "src"

RUNNER = r"""
import json, sys, time
import torch
torch.set_num_threads(1)
from pathlib import Path
from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles
from molgen.models.graph.dmpnn import DMPNN
import pandas as pd

root = Path(sys.argv[1])
inputs = {
    "moses": pd.read_csv(root / "moses" / "test.csv.gz")["SMILES"].head(3200).tolist(),
    "lipophilicity": pd.read_csv(root / "moleculenet" / "lipophilicity.csv")["smiles"].head(3200).tolist(),
}
results = {}
PASSES = 3
for name, smiles in inputs.items():
    graphs = featurize_smiles(smiles, FeaturizerSpec()).graphs
    batches = [graphs.collate(list(range(i, min(i + 64, len(graphs))))) for i in range(0, len(graphs), 64)]
    torch.manual_seed(0)
    encoder = DMPNN(batches[0].x.size(1), batches[0].edge_attr.size(1))
    head = torch.nn.Linear(encoder.out_dim, 1)
    rows = sum(int(b.num_graphs) for b in batches)
    train_rows = sum(int(b.num_graphs) for b in batches[:25])

    def infer():
        with torch.no_grad():
            for batch in batches:
                head(encoder(batch))

    def train():
        for batch in batches[:25]:
            encoder.zero_grad(set_to_none=True)
            head(encoder(batch)).float().pow(2).mean().backward()

    for precision in ("32", "bf16-mixed"):
        for measure, step, n in (("inference", infer, rows), ("training step", train, train_rows)):
            best = float("inf")
            for _ in range(PASSES):  # the first pass also builds oneDNN's kernels for each new shape
                start = time.perf_counter()
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision != "32"):
                    step()
                best = min(best, time.perf_counter() - start)
            results[f"{name} {measure} {precision}"] = n / best
print(json.dumps(results))
"""


def run(src: Path, data_dir: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-c", RUNNER, str(data_dir)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{src} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline-src", required=True, help="src/ of the baseline tree (e.g. git archive of main)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, default=os.environ.get("MOLGEN_DATA_DIR"))
    args = parser.parse_args()
    if args.data_dir is None or not (args.data_dir / "moses" / "test.csv.gz").is_file():
        sys.exit("pass --data-dir (or set MOLGEN_DATA_DIR) to the data mirror (moses/, moleculenet/)")
    sides = {"baseline": Path(args.baseline_src), "this tree": REPO_SRC}
    rates: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    for round_ in range(args.rounds):
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        for name in order:
            rates[name].append(run(sides[name], args.data_dir))
    print(f"{args.rounds} rounds per side, taking turns; load average after: {os.getloadavg()[0]:.2f}")
    print("| measure (molecules per second, median) | baseline | this tree | this tree / baseline |")
    print("|---|---|---|---|")
    for measure in rates["baseline"][0]:
        base = statistics.median(r[measure] for r in rates["baseline"])
        new = statistics.median(r[measure] for r in rates["this tree"])
        print(f"| {measure} | {base:,.0f} | {new:,.0f} | {new / base:.2f}× |")


if __name__ == "__main__":
    main()
