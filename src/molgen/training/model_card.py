"""Model cards (``model/README.md``): what a model was trained on, how well it did, how to use it."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from molgen import __version__
from molgen.config import GeneratorConfig, RunConfig, model_section
from molgen.evaluation.supervised import is_per_target
from molgen.training.artifacts import ModelSpec


def metrics_table(metrics: dict[str, dict[str, float]], max_targets: int = 12) -> str:
    """A Markdown table: one row per metric, one column per split (mean ± std when present).

    With several targets each pooled metric is labelled as such and followed by one row per target
    (``rmse/<target>``); beyond ``max_targets`` targets only the pooled rows are shown, with a note that
    the per-target values are in ``metrics.json``. A split without the metric (a generator's ``val`` has only
    ``loss``, its ``test`` only sample metrics) gets ``–``; ``NaN`` is kept for a metric computed but undefined.
    """
    splits = list(metrics)
    names = _without_std(list(dict.fromkeys(k for section in metrics.values() for k in section)))
    per_target: dict[str, list[str]] = {}
    target_keys = set(_per_target(names))
    for name in (n for n in names if n in target_keys):
        per_target.setdefault(name.split("/", 1)[0], []).append(name)
    n_targets = count_targets(names)
    show = n_targets <= max_targets

    def row(label: str, name: str) -> str:
        cells = []
        for split in splits:
            value, std = metrics[split].get(name), metrics[split].get(f"{name}_std")
            if value is None:
                cells.append("–")
                continue
            shown = "NaN" if math.isnan(value) else f"{value:.4f}"
            cells.append(shown + (f" ± {std:.4f}" if std is not None and not math.isnan(std) else ""))
        return f"| {label} | " + " | ".join(cells) + " |"

    lines = ["| metric | " + " | ".join(splits) + " |", "|---" * (len(splits) + 1) + "|"]
    for name in (n for n in names if n not in target_keys):
        lines.append(row(f"{name} ({pooled_label(n_targets)})" if name in per_target else name, name))
        lines.extend(row(key, key) for key in per_target.get(name, []) if show)
    if n_targets and not show:
        lines.append(f"\nPer-target values of the {n_targets} targets are in metrics.json (`<metric>/<target>`).")
    return "\n".join(lines)


def _without_std(keys: list[str]) -> list[str]:
    """Metric keys without their ``<key>_std`` companions (a target may itself be named ``x_std``)."""
    present = set(keys)
    return [k for k in keys if not (k.endswith("_std") and k[: -len("_std")] in present)]


def count_targets(keys: Iterable[str]) -> int:
    """How many targets have per-target metrics (``rmse/<target>``) among ``keys`` (0: a single target)."""
    return len({name.split("/", 1)[1] for name in _per_target(_without_std(list(keys)))})


def _per_target(names: list[str]) -> list[str]:
    """The per-target keys among ``names``: ``<metric>/<target>`` where ``<metric>`` is a key too."""
    present = set(names)
    return [n for n in names if is_per_target(n) and n.split("/", 1)[0] in present]


def pooled_label(n_targets: int) -> str:
    """How a pooled metric is labelled: ``pooled: mean of 3 targets``."""
    return f"pooled: mean of {n_targets} targets"


def describe_stops(records: Sequence[dict[str, Any]] | None) -> str:
    """Why training ended, in one phrase over a run's models: ``early stopping at epoch 7 (patience 5)``,
    or each distinct phrase with how many models ended so (``max_epochs (50) reached (×4); …``)."""
    texts = [str(r.get("text") or "fitted without epochs") for r in records or ()]
    if not texts:
        return "stop reason not recorded"
    counts = {text: texts.count(text) for text in dict.fromkeys(texts)}
    if len(texts) == 1:
        return texts[0]
    return "; ".join(f"{text} (×{n} models)" if n > 1 else text for text, n in counts.items())


def training_line(spec: ModelSpec, cfg: RunConfig, best: str) -> str:
    """``- **Trained with**: molgen <version>; <how training ended>; limits; <best checkpoint>``."""
    version = spec.molgen_version or __version__  # cards of format-1 models were rendered before it was set
    limits = f"limit {cfg.trainer.max_epochs} epochs" + (
        f" or {cfg.trainer.max_minutes:g} minutes" if cfg.trainer.max_minutes is not None else ""
    )
    stops = describe_stops(spec.trained_on.get("stopped"))
    return f"- **Trained with**: molgen {version}; {stops} ({limits}); {best}"


def evaluation_line(spec: ModelSpec, cfg: RunConfig) -> str:
    """How the test metrics were obtained: one split, or k-fold cross-validation."""
    split, folds = spec.trained_on.get("split"), int(spec.trained_on.get("n_folds") or 1)
    if folds > 1:
        return (
            f"- **Evaluation**: {folds}-fold cross-validation ({split} folds, seed {spec.trained_on.get('seed')}); "
            "every row is in one fold's test set, metrics are mean ± std over the folds"
        )
    sizes = "/".join(f"{s:g}" for s in cfg.data.split_sizes) if split != "predefined" else "from the split column"
    return f"- **Evaluation**: one {split} split (train/val/test {sizes}, seed {spec.trained_on.get('seed')})"


def supervised_model_card(
    spec: ModelSpec,
    cfg: RunConfig,
    metrics: dict[str, dict[str, float]],
    *,
    input_line: str,
    architecture: str,
    example_input: str,
    rows_note: str,
    extra_lines: tuple[str, ...] = (),
    limits: str = "",
) -> str:
    """The card of a supervised model; the family says what its input and architecture are."""
    assert spec.task is not None and spec.model is not None  # export builds both before the card
    task, model, trained = spec.task, spec.model, spec.trained_on
    seeds, folds = cfg.trainer.ensemble_size, max(cfg.data.n_folds, 1)
    lines = [
        f"- **Predicts**: {', '.join(task.targets)} ({task.type})",
        f"- **Input**: {input_line}",
        f"- **Architecture**: {architecture}",
        f"- **Members**: {seeds * folds} ({seeds} seed(s) × {folds} fold(s)); predictions are their mean, with "
        "`<target>_std` across members when there are several",
        *extra_lines,
        *privacy_lines(spec.privacy),
        f"- **Training data**: {trained['data']}",
        evaluation_line(spec, cfg),
        training_line(spec, cfg, f"best checkpoint by validation {cfg.task.monitor}"),
    ]
    card = f"""# molgen {spec.family} model: {model["name"]} on {trained["data"]}

{chr(10).join(lines)}

## Metrics

{metrics_table(metrics)}

## Use

```
molgen predict --model {cfg.output}/model --input {example_input} --output predictions.csv
```

{rows_note}
"""
    return card + (f"\n## Limits\n\n{limits}\n" if limits else "")


def privacy_lines(privacy: dict[str, Any] | None) -> list[str]:
    """The card's line on differential privacy (DP-SGD runs), else none."""
    if not privacy:
        return []
    replaced = privacy.get("replaced_layers") or []
    layers = f"; {len(replaced)} layer(s) replaced for Opacus (e.g. BatchNorm → GroupNorm)" if replaced else ""
    return [
        f"- **Differential privacy**: DP-SGD (Opacus), (ε = {privacy['epsilon']:.3f}, δ = {privacy['delta']:.3g}) "
        f"spent over {privacy['steps']} steps (target ε {privacy['target_epsilon']}), {privacy['accountant']} "
        f"accountant; clipping norm {privacy['max_grad_norm']}, noise multiplier {privacy['noise_multiplier']:.4f}, "
        f"sampling rate {privacy['sample_rate']:.4g} (Poisson){layers}. The guarantee covers the training rows "
        "only (not the validation rows used for early stopping and the best checkpoint)"
    ]


def property_model_card(spec: ModelSpec, cfg: RunConfig, metrics: dict[str, dict[str, float]]) -> str:
    assert spec.model is not None and spec.input is not None and spec.featurizer is not None
    model, featurizer = spec.model, spec.featurizer
    descriptors = " + RDKit 2D descriptors" if featurizer.get("descriptors") else ""
    input_line = f"SMILES (column `{spec.input.column}`), featurizer `{featurizer['atom_features']}`{descriptors}"
    if model["name"] == "fpmlp":
        input_line = f"SMILES (column `{spec.input.column}`), Morgan count fingerprint (radius {model['radius']}, "
        input_line += f"{model['n_bits']} bits)"
        architecture = f"fpmlp, hidden {'×'.join(map(str, model['hidden_dims']))}"
    else:
        architecture = f"{model['name']}, hidden {model['hidden_dim']}, depth {model['depth']}, readout "
        architecture += f"{model['readout'] or 'default'}"
    start = f"; encoder started from `{cfg.optim.init_from}`" if cfg.optim.init_from is not None else ""
    return supervised_model_card(
        spec,
        cfg,
        metrics,
        input_line=input_line,
        architecture=f"{architecture}, FFN {model['ffn_layers']}×{model['ffn_hidden_dim']}, dropout {model['dropout']}"
        + start,
        example_input="molecules.csv",
        rows_note="Every input row gives one output row; unparseable SMILES get `valid=false` and empty predictions.",
        limits="Predictions are reliable only for molecules resembling the training set (check the applicability "
        "domain,\ne.g. Tanimoto similarity to the training molecules). Test metrics come from " + _protocol(spec) + ".",
    )


def expression_model_card(spec: ModelSpec, cfg: RunConfig, metrics: dict[str, dict[str, float]]) -> str:
    assert spec.model is not None and spec.input is not None
    model, source = spec.model, spec.input
    if model["name"] == "kmer":
        architecture = f"k-mer counts (k = 1..{model['kmer_size']}) + linear model"
    else:
        architecture = (
            f"{model['name']}, hidden {model['hidden_dim']}, depth {model['depth']}, readout "
            f"{model['readout'] or 'flatten'}, FFN {model['ffn_layers']}×{model['ffn_hidden_dim']}, dropout {model['dropout']}"
        )
    rc = spec.reverse_complement is not None and spec.reverse_complement.predict_average
    strands = (
        "reverse-complement augmentation in training; predictions average both strands" if rc else "forward strand only"
    )
    return supervised_model_card(
        spec,
        cfg,
        metrics,
        input_line=f"DNA (column `{source.column}`, or a FASTA), one-hot, padded/cropped ({source.pad}) to "
        f"{source.length} nt; N = {source.n_value}",
        architecture=architecture,
        extra_lines=(f"- **Strands**: {strands}",),
        example_input="sequences.fa",
        rows_note="Every input record gives one output row; sequences with characters other than ACGTN (or empty "
        "ones) get\n`valid=false` and the record and position in `invalid_reason`. Longer sequences are cropped, "
        "shorter ones padded.",
    )


def _protocol(spec: ModelSpec) -> str:
    split, folds = spec.trained_on.get("split"), int(spec.trained_on.get("n_folds") or 1)
    return f"{folds}-fold {split} cross-validation" if folds > 1 else f"one {split} split"


def generator_model_card(spec: ModelSpec, cfg: RunConfig, metrics: dict[str, dict[str, float]]) -> str:
    """The model card of a generator: what it generates, its training data and sampled metrics."""
    gen = model_section(cfg, GeneratorConfig)
    trained = spec.trained_on
    rows = f", first {trained['max_rows']} rows" if trained.get("max_rows") else ""
    return f"""# molgen generator: {spec.generator} on {trained["data"]}

- **Generates**: SMILES{" (through SELFIES tokens)" if (getattr(spec, "tokenizer", None) or {}).get("kind") == "selfies" else ""}
- **Architecture**: {spec.generator}, hidden {gen.hidden_dim}, depth {gen.depth}, dropout {gen.dropout}
- **Training data**: {trained["data"]}{rows}, seed {trained["seed"]}
{training_line(spec, cfg, "best checkpoint by " + getattr(spec, "monitor", "val/loss"))}

## Metrics

`val`: validation metrics of the best checkpoint; `test`: {gen.sample_size} sampled molecules
scored against the training set (validity, uniqueness, novelty).

{metrics_table(metrics)}

## Use

```
molgen generate --model {cfg.output}/model -n 10000 --output samples.smi --seed 0
molgen evaluate-generation samples.smi --reference moses --output eval/
```
"""


def pretrain_model_card(
    spec: ModelSpec, cfg: RunConfig, metrics: dict[str, dict[str, float]], throughput: dict[str, Any]
) -> str:
    """The model card of a pretrained encoder: corpus, objectives, steps, date and the command to reproduce it."""
    import datetime

    from molgen.config import GraphModelConfig

    model = model_section(cfg, GraphModelConfig)
    section = getattr(spec, "pretraining", None) or {}
    objectives = ", ".join(f"{name} (weight {weight:g})" for name, weight in section.get("objectives", {}).items())
    trained = spec.trained_on
    rows = f", first {trained['max_rows']} rows" if trained.get("max_rows") else ""
    flags = " ".join(f"--objective {name}={weight:g}" for name, weight in section.get("objectives", {}).items())
    return f"""# molgen pretrained encoder: {model.name} on {trained["data"]}

- **Encoder**: {model.name}, hidden {model.hidden_dim}, depth {model.depth}, dropout {model.dropout}
- **Corpus**: {trained["data"]} ({trained.get("rows")} rows{rows}; chunk 0 validates); \
{throughput["invalid_molecules"]} invalid molecules skipped
- **Objectives**: {objectives}; {len(section.get("descriptors", []))} RDKit descriptors, masking rate \
{section.get("mask_rate")}
- **Steps**: {throughput["molecules"]} molecules in {throughput["train_seconds"]:.0f} s of training \
({throughput["molecules_per_s"]:.0f} molecules/s, {throughput["workers"]} featurizing worker(s)) in this session
{training_line(spec, cfg, "best checkpoint by val/loss")}
- **Date**: {datetime.date.today().isoformat()}

## Validation losses

{metrics_table(metrics)}

## Use

```
molgen train --data bbbp --model {model.name} --hidden-dim {model.hidden_dim} --depth {model.depth} \\
  --init-from {cfg.output} [--freeze-encoder] [--encoder-lr-ratio 0.1]
molgen embed --model {cfg.output}/model --input molecules.csv --output embeddings.parquet
```

## Reproduce

```
{reproduce_pretraining(cfg, model, flags)}
```
"""


def reproduce_pretraining(cfg: RunConfig, model: Any, objectives: str) -> str:
    """The ``molgen pretrain`` command with every setting that shapes the run (sizes, corpus cut, budget, optimizer)."""
    limits = [
        f"--max-rows {cfg.data.max_rows}" if cfg.data.max_rows else "",
        f"--max-epochs {cfg.trainer.max_epochs}",
        f"--max-minutes {cfg.trainer.max_minutes:g}" if cfg.trainer.max_minutes is not None else "",
    ]
    return (
        f"molgen pretrain --data {cfg.data.name} --model {model.name} --hidden-dim {model.hidden_dim} "
        f"--depth {model.depth} --dropout {model.dropout:g} \\\n  {objectives} --chunk-size {cfg.pretrain.chunk_size} "
        f"--workers {cfg.pretrain.workers} --batch-size {cfg.data.batch_size} --lr {cfg.optim.lr:g} \\\n  "
        f"--set optim.scheduler={cfg.optim.scheduler} --set optim.warmup_epochs={cfg.optim.warmup_epochs:g} "
        + " ".join(part for part in limits if part)
        + f" --seed {cfg.trainer.seed}"
    )
