"""A site's run folder (``sites/<name>/``): what ``molgen train`` writes, for a model whose trunk was federated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from molgen.federated.site import Site
from molgen.training.artifacts import ModelSpec, export_model, model_spec, run_paths, write_json

__all__ = ["federation_card", "site_spec", "write_site_folder"]


def site_spec(site: Site, metrics: dict[str, dict[str, float]], federation: dict[str, Any]) -> ModelSpec:
    """``model.yaml`` of a site's model (global trunk + this site's head); ``trained_on.federation`` holds the
    federation's parameters."""
    cfg = site.cfg
    spec = model_spec(
        cfg,
        site.dataset,
        metrics,
        **site.family.spec_fields(cfg),
        model=cfg.model.model_dump(),
        task=site.predictor.task.describe(),
    )
    spec.trained_on["federation"] = federation
    return spec


def federation_card(federation: dict[str, Any]) -> str:
    """The model card's section on how the model was trained across sites."""
    sites = ", ".join(federation["sites"])
    mu = f", μ = {federation['proximal_mu']:g}" if federation["strategy"] == "fedprox" else ""
    return (
        "\n## Federated training\n\n"
        f"- **Sites**: {sites} (each kept its data; only the trunk's weights left a site)\n"
        f"- **Strategy**: {federation['strategy']}{mu}; {federation['rounds']} round(s) × "
        f"{federation['local_epochs']} local epoch(s); at least {federation['min_sites']} site(s) per round\n"
        f"- **Federated parameters**: the encoder (`encoder.*`); the task head (`head.*`) stayed on its site\n"
    ) + _dp_line(federation.get("update_dp"))


def _dp_line(dp: dict[str, Any] | None) -> str:
    if not dp:
        return "- **Differential privacy**: none on the updates\n"
    return (
        f"- **Differential privacy**: each site's update clipped to L2 norm {dp['clip_norm']:g} with Gaussian noise, "
        f"(ε = {dp['epsilon_per_round']:g}, δ = {dp['delta_per_round']:g}) per site and round\n"
    )


def write_site_folder(site: Site, run_dir: Path, metrics: dict[str, Any], federation: dict[str, Any]) -> None:
    """``metrics.json`` (val/test of the final global trunk with this site's head, and every round) and ``model/``
    (weights, ``model.yaml``, card) in the site's run folder (``config.yaml``/``splits.json`` are written when it
    opens)."""
    paths = run_paths(run_dir)
    scores: dict[str, dict[str, float]] = {part: metrics[part] for part in ("val", "test") if part in metrics}
    record = {**scores, "rounds": site.history, **site.labels.record(site.data.target_names)}
    record["federation"] = federation
    write_json(paths["metrics"], record)
    spec = site_spec(site, scores, federation)
    card = site.family.model_card(spec, site.cfg, scores) + federation_card(federation)
    export_model(paths["model"], [site.predictor], spec, card)
