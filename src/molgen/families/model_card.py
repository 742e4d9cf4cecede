"""Model cards (``model/README.md``): what a model was trained on, how well it did, how to use it."""

from __future__ import annotations

import math

from molgen.config import RunConfig
from molgen.training.artifacts import ModelSpec


def metrics_table(metrics: dict[str, dict[str, float]]) -> str:
    """A Markdown table: one row per metric, one column per split (mean ± std when present)."""
    splits = list(metrics)
    names = list(dict.fromkeys(n for split in metrics.values() for n in split if not n.endswith("_std")))
    lines = ["| metric | " + " | ".join(splits) + " |", "|---" * (len(splits) + 1) + "|"]
    for name in names:
        cells = []
        for split in splits:
            value, std = metrics[split].get(name, math.nan), metrics[split].get(f"{name}_std")
            cells.append(f"{value:.4f}" + (f" ± {std:.4f}" if std is not None and not math.isnan(std) else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def property_model_card(spec: ModelSpec, cfg: RunConfig, metrics: dict[str, dict[str, float]]) -> str:
    assert spec.task is not None and spec.model is not None and spec.input is not None and spec.featurizer is not None
    task, model, trained = spec.task, spec.model, spec.trained_on
    members = cfg.trainer.ensemble_size * max(cfg.data.n_folds, 1)
    return f"""# molgen property model: {model["name"]} on {trained["data"]}

- **Predicts**: {", ".join(task.targets)} ({task.type})
- **Input**: SMILES (column `{spec.input.column}`), featurizer `{spec.featurizer["atom_features"]}`\
{" + RDKit 2D descriptors" if spec.featurizer.get("descriptors") else ""}
- **Architecture**: {model["name"]}, hidden {model["hidden_dim"]}, depth {model["depth"]}, readout {model["readout"] or "default"}, \
FFN {model["ffn_layers"]}×{model["ffn_hidden_dim"]}, dropout {model["dropout"]}
- **Members**: {members} ({cfg.trainer.ensemble_size} seed(s) × {max(cfg.data.n_folds, 1)} fold(s)); predictions are \
their mean, with `<target>_std` across members when there are several
- **Training data**: {trained["data"]}, {trained["split"]} split, seed {trained["seed"]}
- **Trained with**: molgen {spec.molgen_version}, {cfg.trainer.max_epochs} max epochs, \
early stopping on validation {cfg.task.monitor}

## Metrics

{metrics_table(metrics)}

## Use

```
molgen predict --model {cfg.output}/model --input molecules.csv --output predictions.csv
```

Every input row gives one output row; unparseable SMILES get `valid=false` and empty predictions.

## Limits

Predictions are reliable only for molecules resembling the training set (check the applicability domain,
e.g. Tanimoto similarity to the training molecules). Test metrics come from one {trained["split"]} split.
"""
