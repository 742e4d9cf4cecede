"""The phases of `molgen predict` one at a time, in one process: imports, featurization (1 process, with and
without the domain's fingerprints), inference (float32 and bf16-mixed, 1 and 2 torch threads), the domain
search, writing.

Usage: python benchmarks/speed/predict_phases.py --model RUN_DIR --input moses50k.csv
"""

from __future__ import annotations

import argparse
import time

start = time.perf_counter()
import torch  # noqa: E402

after_torch = time.perf_counter()
import molgen.families  # noqa: E402, F401

after_families = time.perf_counter()

import numpy as np  # noqa: E402

from molgen.analysis.prediction import load_model, read_inputs  # noqa: E402
from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles  # noqa: E402
from molgen.training.batches import GraphCollate  # noqa: E402


def timed(label: str, since: float) -> None:
    print(f"{label:55s} {time.perf_counter() - since:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--input", required=True)
    args = parser.parse_args()
    print(f"{'import torch':55s} {after_torch - start:6.2f} s")
    print(f"{'import molgen.families (torch_geometric …)':55s} {after_families - after_torch:6.2f} s")
    model = load_model(args.model)
    table = read_inputs(model, args.input)
    smiles = table.frame[table.smiles_column].tolist()
    spec = FeaturizerSpec.from_dict(model.spec.featurizer or {})
    t = time.perf_counter()
    featurize_smiles(smiles, spec, n_jobs=1)
    timed("featurization, 1 process", t)
    t = time.perf_counter()
    fingerprint = None if model.domain is None else model.domain.fingerprint
    featurized = featurize_smiles(smiles, spec, n_jobs=1, fingerprint=fingerprint)
    timed("featurization, 1 process, with the domain's fingerprints", t)
    rows = np.arange(len(featurized.graphs))
    for precision in ("32", "bf16-mixed"):
        for threads in (1, 2):
            torch.set_num_threads(threads)
            t = time.perf_counter()
            model.members[0].predict_samples(GraphCollate(featurized.graphs), rows, batch_size=64, precision=precision)
            timed(f"inference, {precision}, {threads} thread(s)", t)
    if model.domain is not None and featurized.fingerprints is not None:
        t = time.perf_counter()
        model.domain.columns(featurized.fingerprints, featurized.valid_index, len(smiles))
        timed("applicability-domain search", t)


if __name__ == "__main__":
    main()
