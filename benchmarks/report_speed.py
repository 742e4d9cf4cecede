"""What the report adds to `molgen train`: seconds to write report.html for a real run, and seconds for the
data_summary record (scaffold overlap) the training loop writes into metrics.json.

Usage: python benchmarks/report_speed.py [--data esol] [--max-epochs 3] [--repeats 3]
                                         [--output benchmarks/results/report_speed.md]
Trains one run (scaffold split, the same code path as `molgen train`) into a temporary folder, then times
`render_report` in a fresh process-like order (first call: imports + drawing; later calls: drawing only) and
`data_summary` over the dataset's molecules. Prints the figures and writes them as a Markdown table.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

from molgen import __version__
from molgen.config import RunConfig
from molgen.recipes import fit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="esol")
    parser.add_argument("--max-epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default="benchmarks/results/report_speed.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        cfg = RunConfig.from_dict(
            {"data": {"name": args.data, "split": "scaffold"}, "trainer": {"max_epochs": args.max_epochs}}
        )
        start = time.perf_counter()
        result = fit(cfg.with_values({"output": str(run_dir)}))
        train_s = time.perf_counter() - start

        from molgen.report import write_report

        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            path = write_report(run_dir)
            times.append(time.perf_counter() - start)
        size_kb = path.stat().st_size / 1024

        import pandas as pd

        from molgen.data.catalog import get_dataset
        from molgen.data.sources import resolve
        from molgen.data.splits import make_split
        from molgen.data.summary import data_summary

        spec = get_dataset(args.data)
        smiles = pd.read_csv(resolve(spec.remote))[spec.input_column].astype(str).tolist()
        n_test = len(pd.read_csv(run_dir / "predictions" / "test.csv"))
        split = make_split("scaffold", len(smiles), sizes=(0.8, 0.1, 0.1), seed=0, smiles=smiles)
        start = time.perf_counter()
        data_summary(len(smiles), [], [], [split], smiles)
        summary_s = time.perf_counter() - start
    rows = [
        (f"training (fit, {args.max_epochs} epochs)", f"{train_s:.1f}"),
        ("report, first call (imports + drawing)", f"{times[0]:.2f}"),
        ("report, later calls (median)", f"{statistics.median(times[1:] or times):.2f}"),
        ("data_summary (scaffold overlap)", f"{summary_s:.2f}"),
    ]
    lines = [
        f"# Report cost: {args.data}, scaffold split",
        "",
        f"molgen {__version__}, {platform.processor() or platform.machine()}, python {platform.python_version()}; "
        f"{len(smiles)} molecules, {n_test} test rows, test rmse {result.metrics['test'].get('rmse', float('nan')):.3f}; "
        f"report.html {size_kb:.0f} KiB. 2 CPU cores shared with other jobs: expect noise.",
        "",
        "| step | seconds |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in rows],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    Path(args.output).write_text(text)


if __name__ == "__main__":
    main()
