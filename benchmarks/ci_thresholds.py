"""Proposes the ci gate thresholds of a suite from a ci run at several seeds.

    molgen benchmark moleculenet --profile ci --seeds 0 1 2 --output runs/ci-seeds
    python benchmarks/ci_thresholds.py runs/ci-seeds --date 2026-12-07 > thresholds.yaml

Rule, per ``dataset/model`` with mean m and sample standard deviation s over the seeds: the bound lies
max(10 % of m, 2 s) beyond m on the bad side (RMSE: above, ROC-AUC / Pearson r: below). A change that moves the
metric 10 % the wrong way fails the gate unless the seeds themselves spread wider, in which case the bound sits at
two standard deviations (so that a seed-0 run on another machine does not fail by chance) and the comment says
how large a regression that cell can catch. The printed block replaces ``profiles.ci.thresholds`` of the suite.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from molgen.benchmarking.report import summarize

RELATIVE = 0.10
"""The regression the gate is meant to catch, as a fraction of the measured mean."""
SPREAD = 2.0
"""No bound closer to the mean than this many seed standard deviations."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="the --output folder of a ci run at several seeds")
    parser.add_argument("--date", required=True, help="the run's date, written as measured_on")
    args = parser.parse_args()
    record = json.loads((args.results / "results.json").read_text())
    print("    thresholds:")
    for group in summarize(record):
        if len(group.values) < 2:
            print(f"{group.group}: {len(group.values)} finished seed(s), left out (a spread needs 2)", file=sys.stderr)
            continue
        margin = max(RELATIVE * abs(group.mean), SPREAD * group.std)
        bound, side = (group.mean - margin, "min") if group.direction else (group.mean + margin, "max")
        catches = margin / abs(group.mean)
        print(
            f"      {group.group}: {{{side}: {bound:.3f}, measured: {group.mean:.3f}, "
            f"measured_on: {args.date}}}   # {group.metric} over seeds {list(group.seeds)}: sd {group.std:.3f}; "
            f"catches a {catches:.0%} regression"
        )


if __name__ == "__main__":
    main()
