"""One PNG per suite: a panel per dataset, a bar per model (mean ± std over seeds), references as lines."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from molgen.benchmarking.report import GroupSummary

_REFERENCE_STYLES = ("--", ":", "-.")


def plot_suite(summaries: Sequence[GroupSummary], path: Path, *, title: str) -> bool:
    """Draws the suite's plot to ``path`` (matplotlib's Agg canvas, no window); False when nothing finished."""
    datasets = list(dict.fromkeys(s.dataset for s in summaries if s.values))
    if not datasets:
        return False
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    columns = min(3, len(datasets))
    rows = math.ceil(len(datasets) / columns)
    figure = Figure(figsize=(4.2 * columns, 3.2 * rows), constrained_layout=True)
    FigureCanvasAgg(figure)
    models = list(dict.fromkeys(s.model for s in summaries))
    colors = {m: f"C{i % 10}" for i, m in enumerate(models)}
    for index, dataset in enumerate(datasets):
        axis = figure.add_subplot(rows, columns, index + 1)
        cells = [s for s in summaries if s.dataset == dataset]
        finished = [s for s in cells if s.values]
        axis.bar(
            [s.model for s in finished],
            [s.mean for s in finished],
            yerr=[s.std for s in finished],
            color=[colors[s.model] for s in finished],
            capsize=4,
        )
        references = {r.model: r.value for s in cells for r in s.references}
        for style, (name, value) in zip(_REFERENCE_STYLES, references.items()):
            axis.axhline(value, color="black", linestyle=style, linewidth=1, label=f"{name} {value:.3f}")
        if references:
            axis.legend(fontsize=7, loc="lower right")
        metric = finished[0].metric or ""
        direction = {True: " (higher is better)", False: " (lower is better)", None: ""}[finished[0].direction]
        subset = f" · first {finished[0].subset:,} rows" if finished[0].subset else ""
        axis.set_title(f"{dataset} · {finished[0].split or ''}{subset}", fontsize=10)
        axis.set_ylabel(f"{metric}{direction}", fontsize=8)
        axis.tick_params(labelsize=8)
    figure.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return True
