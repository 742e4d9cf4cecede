"""`molgen interpret` throughput on CPU: attributions alone and the whole command, per method.

Usage: python benchmarks/speed/interpretation.py [--n 500] [--model RUN_DIR] [--threads T]
Without --model, exports an untrained D-MPNN of Chemprop's default size (hidden 300, depth 3, one member; speed
does not depend on the weights). Molecules: the first --n of MOSES test ($MOLGEN_DATA_DIR/moses/test.csv.gz).
Prints molecules/s for (a) the attributions alone (featurized molecules → scores, in-process, after a warm-up)
and (b) `molgen interpret` as a subprocess from start to exit (imports, reading, attributions, similarity-map
PNGs, substructures, writing).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from predict import moses_test  # the sibling speed script (run from this folder's path)


def untrained_dmpnn(out: Path) -> Path:
    import torch

    from molgen.chem.featurize.graphs import FeaturizerSpec
    from molgen.config import GraphModelConfig
    from molgen.families.property import build_predictor
    from molgen.training.artifacts import ModelSpec, export_model
    from molgen.training.tasks import build_task

    torch.manual_seed(0)
    task = build_task("regression", ["y"])
    model = GraphModelConfig(name="dmpnn", hidden_dim=300, depth=3, ffn_hidden_dim=300)
    spec = ModelSpec(
        family="property",
        input={"kind": "smiles", "column": "smiles"},
        featurizer=FeaturizerSpec().to_dict(),
        model=model.model_dump(),
        task=task.describe(),
    )
    return export_model(out, [build_predictor(model, FeaturizerSpec(), task)], spec, "untrained speed-test model")


def attribution_rate(model_dir: str, smiles: list[str], method: str) -> float:
    from molgen.analysis.interpretation import ATOMS_PER_CALL, chunks, explain, load_property_model
    from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles

    model = load_property_model(model_dir)
    assert model.spec.featurizer is not None
    graphs = featurize_smiles(smiles, FeaturizerSpec.from_dict(model.spec.featurizer)).graphs
    for member in model.members:
        member.eval()
    explain(model.members, graphs, [0, 1], [0], method)  # warm-up
    start = time.perf_counter()
    for group in chunks(graphs.num_atoms, ATOMS_PER_CALL):
        explain(model.members, graphs, group, [0], method)
    return len(graphs) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--model", help="run or model folder of a trained property model")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice)")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    smiles = moses_test(args.n)
    work = Path(tempfile.mkdtemp(prefix="molgen-interpret-bench-"))
    model = args.model or str(untrained_dmpnn(work / "model"))
    input_csv = work / "moses_test.csv"
    pd.DataFrame({"smiles": smiles}).to_csv(input_csv, index=False)
    molgen = str(Path(sys.executable).parent / "molgen")
    env = {**os.environ, **({"OMP_NUM_THREADS": str(args.threads)} if args.threads else {})}
    print(f"molecules: {len(smiles)} (MOSES test), cores: {os.cpu_count()}, torch threads: {torch.get_num_threads()}")
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'method':8s} {'attributions mol/s':>19s} {'whole command mol/s':>20s} {'command s':>10s}")
    for method in ("ig", "masking"):
        rate = attribution_rate(model, smiles, method)
        start = time.perf_counter()
        command = [molgen, "interpret", "--model", model, "--input", str(input_csv), "--method", method]
        subprocess.run([*command, "--output", str(work / method)], check=True, capture_output=True, env=env)
        seconds = time.perf_counter() - start
        print(f"{method:8s} {rate:19.1f} {len(smiles) / seconds:20.1f} {seconds:10.1f}")


if __name__ == "__main__":
    main()
