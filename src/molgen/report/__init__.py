"""The per-run HTML report: one self-contained file (Jinja2 template, PNG plots embedded as ``data:`` URIs, no
scripts, no external assets) built only from the run folder's files (:mod:`molgen.report.run_files`)."""

from __future__ import annotations

from pathlib import Path

from molgen.errors import InvalidInputError

__all__ = ["REPORT_FILE", "SECTIONS", "SUPERVISED_ONLY", "render_report", "write_report"]

REPORT_FILE = "report.html"
SUPERVISED_ONLY = ("predictions", "uncertainty", "worst", "domain")
"""Sections left out of a generation run's report (it has no test predictions)."""
SECTIONS = (
    ("config", "Configuration"),
    ("data", "Data"),
    ("curves", "Training curves"),
    ("metrics", "Test metrics"),
    ("predictions", "Test predictions"),
    ("uncertainty", "Calibration and coverage"),
    ("worst", "Worst test predictions"),
    ("domain", "Applicability domain"),
    ("card", "Model card"),
)
"""``(anchor, heading)`` of every section, in page order."""


def render_report(run_dir: str | Path) -> str:
    """The report of ``run_dir`` as an HTML string. Generation runs get the sections that apply to them
    (config, curves, metrics, model card); the prediction sections say that there is nothing to show."""
    import jinja2

    from molgen import __version__
    from molgen.report import sections
    from molgen.report.run_files import read_run

    run = read_run(run_dir)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("molgen.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    data = run.config.get("data") or {}
    model = run.config.get("model") or {}
    targets = ", ".join(run.targets)
    subtitle = f"{run.family or 'unknown'} family · model {model.get('name', '?')} · data {data.get('name', '?')}" + (
        f" · {run.task_type} on {targets}" if run.task_type and targets else ""
    )
    card = sections.model_card_section(run)
    supervised = run.family != "generation"
    return env.get_template("report.html.j2").render(
        version=__version__,
        title=Path(run_dir).resolve().name,
        subtitle=subtitle,
        toc=[(anchor, name) for anchor, name in SECTIONS if supervised or anchor not in SUPERVISED_ONLY],
        supervised=supervised,
        config=sections.config_section(run),
        data=sections.data_section(run),
        curves=sections.curves_section(run),
        metrics=sections.metrics_section(run),
        performance=sections.performance_section(run),
        uncertainty=sections.uncertainty_section(run),
        worst=sections.worst_section(run),
        domain=sections.domain_section(run),
        targets_note=(
            f"Plots and worst predictions are shown for the first {sections.MAX_PLOTTED_TARGETS} of "
            f"{len(sections.all_targets(run))} targets; the metrics table lists every target."
            if len(sections.all_targets(run)) > sections.MAX_PLOTTED_TARGETS
            else ""
        ),
        model_card=jinja2.utils.markupsafe.Markup(card) if card is not None else None,
    )


def write_report(run_dir: str | Path, output: str | Path | None = None) -> Path:
    """Writes the report of ``run_dir`` (atomically) to ``output`` (default ``RUN_DIR/report.html``)."""
    from molgen.io import write_text

    path = Path(output) if output is not None else Path(run_dir) / REPORT_FILE
    if path.is_dir():
        raise InvalidInputError(f"--output {path} is a folder; give the report's file name")
    html = render_report(run_dir)
    write_text(path, html)
    return path
