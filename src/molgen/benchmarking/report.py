"""Turns a results record into per-cell summaries (mean ± std over seeds) and results.md.

The Markdown table puts each dataset × model next to the published references of the catalog
(``molgen.data.catalog``: model, value ± std, split, source) and the difference molgen − reference.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

LOWER_IS_BETTER = frozenset({"rmse", "mae", "mse", "loss", "fcd"})
"""Metrics where smaller is better; every other metric is read as higher-is-better only when molgen's metric
registries say so (see :func:`higher_is_better`)."""


@dataclasses.dataclass(frozen=True)
class ReferenceValue:
    model: str
    value: float
    std: float | None
    split: str
    source: str


@dataclasses.dataclass(frozen=True)
class GroupSummary:
    """One dataset × model: its metric over the seeds that finished."""

    group: str
    dataset: str
    model: str
    split: str | None
    metric: str | None
    values: tuple[float, ...]
    seeds: tuple[int, ...]
    failed: tuple[str, ...]
    """Error messages of the seeds that failed."""
    wall_s: float
    """Mean wall time of one seed (seconds)."""
    references: tuple[ReferenceValue, ...] = ()
    subset: int | None = None
    """``data.max_rows`` of the cells: published values are for the whole dataset, so no Δ is given."""
    direction: bool | None = None
    """True when higher is better (the suite's ``higher_is_better``, else from the metric name); None: unknown."""

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values) if self.values else math.nan

    @property
    def std(self) -> float:
        """Sample standard deviation over seeds (0 for one seed)."""
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.update(
            mean=self.mean,
            std=self.std,
            n_seeds=len(self.values),
            differences={} if self.subset else {r.model: self.mean - r.value for r in self.references},
        )
        return d


def summarize(record: dict[str, Any]) -> list[GroupSummary]:
    """Groups the cells of a results record by dataset × model (suite order) and attaches references."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for cell in record["cells"]:
        groups.setdefault(cell["group"], []).append(cell)
    out = []
    for group, cells in groups.items():
        ok = [c for c in cells if c["status"] == "ok"]
        metric = next((c["metric"] for c in ok if c["metric"]), None) or next((c["metric"] for c in cells), None)
        split = next((c["split"] for c in ok if c["split"]), None) or next((c["split"] for c in cells), None)
        walls = [c["wall_s"] for c in cells if c.get("wall_s") is not None]
        out.append(
            GroupSummary(
                group=group,
                dataset=cells[0]["dataset"],
                model=cells[0]["model"],
                split=split,
                metric=metric,
                values=tuple(c["value"] for c in ok),
                seeds=tuple(c["seed"] for c in ok),
                failed=tuple(f"seed {c['seed']}: {c['error']}" for c in cells if c["status"] != "ok"),
                wall_s=statistics.fmean(walls) if walls else math.nan,
                references=references_for(cells[0]["dataset"], metric, split),
                subset=cells[0].get("overrides", {}).get("data.max_rows"),
                direction=_direction(cells[0].get("higher_is_better"), metric),
            )
        )
    return out


def _direction(declared: bool | None, metric: str | None) -> bool | None:
    return declared if declared is not None else higher_is_better(metric)


def references_for(dataset: str, metric: str | None, split: str | None) -> tuple[ReferenceValue, ...]:
    """Published results of the catalog for this dataset, metric and split (none for user files)."""
    from molgen.data.catalog import get_dataset
    from molgen.registry import UnknownNameError

    try:
        spec = get_dataset(dataset)
    except UnknownNameError:
        return ()
    return tuple(
        ReferenceValue(r.model, r.value, r.std, r.split, r.source)
        for r in spec.references
        if r.metric == metric and (split is None or r.split == split)
    )


def higher_is_better(metric: str | None) -> bool | None:
    """Direction of a metric name: from molgen's supervised metric registries, or None when unknown."""
    if metric is None:
        return None
    if metric in LOWER_IS_BETTER:
        return False
    from molgen.evaluation.supervised import metric_registry
    from molgen.registry import UnknownNameError

    for task_type in ("regression", "binary"):
        try:
            return bool(metric_registry(task_type).get(metric).higher_is_better)
        except UnknownNameError:
            continue
    return None


def markdown(
    record: dict[str, Any],
    summaries: Sequence[GroupSummary],
    check: dict[str, Any] | None = None,
    plot_name: str | None = None,
) -> str:
    """results.md: header (suite, profile, date, machine, versions, wall time), the table, sources, failures."""
    machine, versions = record["machine"], record["versions"]
    lines = [
        f"# Benchmark `{record['suite']}`, profile `{record['profile']}`",
        "",
        *([record["description"], ""] if record.get("description") else []),
        f"- profile: {record.get('profile_description') or record['profile']}",
        (
            f"- run: {record['started']} → {record.get('finished') or 'unfinished'} (UTC); "
            f"wall time {_duration(record.get('wall_s', 0.0))} (cells alone {_duration(_cells_seconds(record))}"
            f"{', resumed ' + str(record['resumed']) + ' time(s)' if record.get('resumed') else ''}); "
            f"seeds {record.get('seeds')}"
        ),
        (
            f"- machine: {machine.get('cpu')}, {machine.get('cpus_usable')} usable cores, "
            f"torch threads {machine.get('torch_threads')}, GPU {machine.get('gpu') or 'none'}; "
            f"load average at start {machine.get('load_average_start')}, at end {machine.get('load_average_end')}"
        ),
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items() if v),
        *([f"- note: {record['note']}"] if record.get("note") else []),
        (
            f"- metric: the `{record.get('metric_split', 'test')}` split's; mean ± sample std over seeds; "
            "Δ = molgen − reference (↓: lower is better, ↑: higher is better); published values are for the whole "
            "dataset, so subsets get no Δ, and a short profile is a regression gate, not a replication"
        ),
    ]
    baseline: dict[str, Any] = record.get("baseline") or {}
    compared = baseline.get("status") == "ok"
    if baseline and not compared:
        lines += [f"- chemprop baseline: skipped ({baseline.get('reason')})"]
    if compared:
        lines += [
            f"- chemprop (same split): Chemprop {baseline['version']} with its default architecture on each cell's "
            "own train/val/test rows, seed and epochs, scored with molgen's metric code; Δ per seed = molgen − "
            "chemprop on the same split (mean ± std over seeds); molgen vs chemprop is a win or loss when that "
            "mean exceeds its std, else a tie"
        ]
    extra_head = " chemprop (same split) | Δ per seed | vs chemprop |" if compared else ""
    lines += [
        "",
        "| dataset | split | model | metric | seeds | molgen (mean ± std) |"
        + extra_head
        + " published | Δ | s / seed |",
        "|---|---|---|---|---|---|" + ("---|---|---|" if compared else "") + "---|---|---|",
    ]
    sources: list[str] = []
    for s in summaries:
        arrow = {True: " ↑", False: " ↓", None: ""}[s.direction]
        value = f"{s.mean:.3f} ± {s.std:.3f}" if s.values else "failed"
        if s.failed and s.values:
            value += f" ({len(s.failed)} failed)"
        refs, diffs = [], []
        for r in s.references:
            if r.source not in sources:
                sources.append(r.source)
            std = f" ± {r.std:.3f}" if r.std else ""
            refs.append(f"{r.model} {r.value:.3f}{std} [{sources.index(r.source) + 1}]")
            diffs.append("n/a (subset)" if s.subset else f"{s.mean - r.value:+.3f}" if s.values else "–")
        dataset = f"{s.dataset} (first {s.subset:,} rows)" if s.subset else s.dataset
        versus = " " + " | ".join(_versus_chemprop(record, s)) + " |" if compared else ""
        lines.append(
            f"| {dataset} | {s.split or ''} | {s.model} | {s.metric or ''}{arrow} | {len(s.values)} | {value} |"
            f"{versus} {'; '.join(refs) or '–'} | {'; '.join(diffs) or '–'} | {s.wall_s:.0f} |"
        )
    if sources:
        lines += ["", "Sources:", ""] + [f"{i}. {src}" for i, src in enumerate(sources, 1)]
    failures = [(s.group, f) for s in summaries for f in s.failed]
    if compared:
        failures += [
            (key, f"chemprop: {entry['error']} (log: {entry['log']})")
            for key, entry in baseline["cells"].items()
            if entry["status"] != "ok"
        ]
    if failures:
        lines += ["", "## Failed cells", ""] + [f"- `{g}` {f}" for g, f in failures]
    if check is not None:
        lines += ["", "## Regression gate (`--check`)", "", f"**{'PASSED' if check['passed'] else 'FAILED'}**", ""]
        lines += [f"- {line}" for line in check["lines"]]
    if plot_name:
        lines += ["", f"![{record['suite']}]({plot_name})"]
    return "\n".join(lines) + "\n"


def baseline_pairs(record: dict[str, Any], group: str) -> list[tuple[float, float]]:
    """``(molgen, chemprop)`` per seed of ``group`` where both finished: the two values of one split."""
    entries = record.get("baseline", {}).get("cells", {})
    pairs = []
    for cell in record["cells"]:
        entry = entries.get(cell.get("baseline_key"))
        if cell["group"] == group and cell["status"] == "ok" and entry and entry["status"] == "ok":
            pairs.append((float(cell["value"]), float(entry["value"])))
    return pairs


def versus(molgen: Sequence[float], other: Sequence[float], higher_is_better: bool | None) -> str:
    """``win``/``tie``/``loss`` of molgen against ``other`` on the same splits (``molgen[i]`` and ``other[i]`` share
    seed i's split): a tie when the mean per-seed difference is at most the std of the per-seed differences (the
    split's own difficulty cancels); with one seed any difference counts."""
    if not molgen or len(molgen) != len(other) or higher_is_better is None:
        return "–"
    difference, spread = _paired(molgen, other)
    if abs(difference) <= spread:
        return "tie"
    return "win" if (difference > 0) == higher_is_better else "loss"


def _paired(molgen: Sequence[float], other: Sequence[float]) -> tuple[float, float]:
    """Mean and sample std (0 for one seed) of the per-seed differences ``molgen[i] - other[i]``."""
    differences = [m - o for m, o in zip(molgen, other, strict=True)]
    return statistics.fmean(differences), statistics.stdev(differences) if len(differences) > 1 else 0.0


def _versus_chemprop(record: dict[str, Any], s: GroupSummary) -> tuple[str, str, str]:
    pairs = baseline_pairs(record, s.group)
    if not pairs:
        return "failed", "–", "–"
    ours, theirs = [m for m, _ in pairs], [o for _, o in pairs]
    std = statistics.stdev(theirs) if len(theirs) > 1 else 0.0
    difference, spread = _paired(ours, theirs)
    better = sum((m - o > 0) == s.direction for m, o in pairs if m != o)
    paired = f"{difference:+.3f} ± {spread:.3f} (molgen better in {better}/{len(pairs)})"
    return f"{statistics.fmean(theirs):.3f} ± {std:.3f}", paired, versus(ours, theirs, s.direction)


def _cells_seconds(record: dict[str, Any]) -> float:
    return sum(c.get("wall_s") or 0.0 for c in record["cells"])


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def write_report(output: Path, record: dict[str, Any], check: dict[str, Any] | None = None) -> list[GroupSummary]:
    """Writes results.md and the plot next to results.json; stores the summaries in results.json too."""
    from molgen.benchmarking.plot import plot_suite
    from molgen.benchmarking.runner import save_results

    summaries = summarize(record)
    plot_name = f"{record['suite']}.png"
    drawn = plot_suite(summaries, output / plot_name, title=f"{record['suite']} ({record['profile']} profile)")
    record["summary"] = [s.to_dict() for s in summaries]
    if check is not None:
        record["check"] = check
    save_results(output, record)
    (output / "results.md").write_text(markdown(record, summaries, check, plot_name if drawn else None))
    return summaries
