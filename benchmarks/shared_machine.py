"""The demo on a machine busy with other jobs: wall time next to two CPU-bound neighbour processes.

Usage:
    MOLGEN_DATA_DIR=../shared/data python benchmarks/shared_machine.py [--epochs 5] [--neighbours 2]
        [--work /tmp/molgen-shared-bench] [--output benchmarks/results/shared_machine.md]

Trains the README's demo (D-MPNN, hidden 300, ESOL, seeded random split) for --epochs epochs as a whole
`molgen train` process, in four settings, one after the other in one run:

- quiet, molgen's thread policy (``--threads auto``);
- quiet, torch's defaults (one OpenMP thread per core: what molgen did before the policy);
- beside --neighbours busy-looping processes, torch's defaults;
- beside the neighbours, molgen's thread policy.

torch's defaults are ``--threads`` = all cores. The neighbours start --settle seconds before each
busy run (they are running when molgen counts the other work). Target (issue 16): the busy demo within 3x its quiet wall time.
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

DEMO = ["train", "--data", "esol", "--model", "dmpnn", "--hidden-dim", "300", "--split", "random", "--seed", "0"]


def run_demo(work: Path, name: str, epochs: int, *, torch_defaults: bool) -> float:
    """Wall seconds of one whole `molgen train` process."""
    cores = len(os.sched_getaffinity(0))
    threads = ["--threads", str(cores)] if torch_defaults else ["--threads", "auto"]
    args = [sys.executable, "-m", "molgen", *DEMO, "--max-epochs", str(epochs), "--patience", "0"]
    args += ["--no-report", "--output", str(work / name), "--overwrite", *threads]
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    start = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{name} failed:\n{result.stderr[-3000:]}")
    print(f"{name}: {wall:.1f} s  ({result.stderr.strip().splitlines()[0] if result.stderr.strip() else ''})")
    return wall


def neighbours(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--neighbours", type=int, default=2)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds the neighbours run before a busy run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per setting (the median is reported)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/molgen-shared-bench"))
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/shared_machine.md"))
    opts = parser.parse_args()
    opts.work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    run_demo(opts.work, "warm-up", 1, torch_defaults=False)  # data cache and page cache
    settings = [
        ("quiet, molgen's policy", False, False),
        ("quiet, torch's defaults", True, False),
        ("busy, torch's defaults", True, True),
        ("busy, molgen's policy", False, True),
    ]
    runs: dict[str, list[float]] = {label: [] for label, _, _ in settings}
    for repeat in range(opts.repeats):  # settings interleaved, so drift hits them all alike
        for label, torch_defaults, busy in settings:
            name = f"{label.replace(', ', '-').replace(chr(39), '')}-{repeat}"
            procs = neighbours(opts.neighbours) if busy else []
            try:
                time.sleep(opts.settle if busy else 0)
                runs[label].append(run_demo(opts.work, name, opts.epochs, torch_defaults=torch_defaults))
            finally:
                for proc in procs:
                    proc.kill()
                    proc.wait()
            time.sleep(opts.settle if busy else 0)  # the neighbours are gone before the next run
    walls = {label: statistics.median(values) for label, values in runs.items()}
    quiet = walls["quiet, molgen's policy"]
    lines = [
        f"# The demo beside {opts.neighbours} CPU-bound neighbours ({time.strftime('%Y-%m-%d')})",
        "",
        f"`python benchmarks/shared_machine.py --epochs {opts.epochs} --neighbours {opts.neighbours}`: "
        f"`molgen {' '.join(DEMO)} --max-epochs {opts.epochs}` as a whole process; {len(os.sched_getaffinity(0))} cores; "
        f"load average before the run {load_before[0]:.2f}.",
        "",
        f"Median of {opts.repeats} runs per setting, the settings interleaved.",
        "",
        "| setting | wall s (median) | runs | × quiet (molgen's policy) |",
        "|---|---:|---|---:|",
        *(
            f"| {label} | {wall:.1f} | {', '.join(f'{v:.1f}' for v in runs[label])} | {wall / quiet:.2f} |"
            for label, wall in walls.items()
        ),
        "",
        "Target (issue 16): the busy demo within 3× its quiet wall time.",
    ]
    opts.output.write_text("\n".join(lines) + "\n")
    opts.output.with_suffix(".json").write_text(json.dumps(runs, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
