"""Typed run configuration: data / model / task / optim / trainer sections.

A run config is plain data (dataclasses of primitives). It loads strictly from YAML (an unknown key is an
error naming the valid keys), takes dotted overrides (``trainer.max_epochs=5``) and saves back to YAML,
so ``config.yaml`` in a run folder retrains the same model with ``molgen train --config``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from molgen.errors import ConfigError




@dataclasses.dataclass
class DataConfig:
    """Where the examples come from and how they are split and featurized."""

    name: str = "esol"
    """A catalog dataset name (``molgen datasets list``) or a path to a CSV/TSV/SDF/Parquet (or, for DNA,
    FASTA/BED) file."""
    smiles_column: str | None = None
    """SMILES column; defaults to the catalog's, else ``smiles``."""
    target_columns: list[str] | None = None
    """Target columns; default: the catalog's, else every numeric column but the input."""
    split: str | None = None
    """random | scaffold | stratified | predefined; default: the catalog's, else random."""
    split_sizes: list[float] = dataclasses.field(default_factory=lambda: [0.8, 0.1, 0.1])
    split_column: str | None = None
    """Column holding train/val/test labels for the predefined split."""
    n_folds: int = 1
    """More than 1: k-fold cross-validation; metrics are mean ± std over folds."""
    on_invalid: str = "error"
    """What to do with unparseable inputs in training data: error (default) | skip."""
    featurizer: str = "v2"
    """Atom/bond feature preset."""
    descriptors: bool = False
    """Append RDKit 2D descriptors as molecule-level features."""
    featurize_jobs: int = -1
    """Processes used to featurize (-1: all cores)."""
    cache: bool = True
    """Cache featurized graphs on disk (under the molgen cache folder)."""
    batch_size: int = 64
    max_rows: int | None = None
    """Use only the first N rows (quick experiments, CI profiles)."""
    # DNA sequences (family "expression"); molecule runs ignore these.
    sequence_column: str | None = None
    """DNA sequence column of a CSV/TSV/Parquet; default: the catalog's, else ``sequence`` (FASTA/BED give ``sequence``)."""
    labels: str | None = None
    """A CSV/TSV of targets for a FASTA or BED input, joined on ``id_column`` to the record ids / BED names."""
    id_column: str = "id"
    """Column of ``labels`` that holds the FASTA record ids (or BED names)."""
    reference: str | None = None
    """Reference genome FASTA (plain, bgzip or gzip) from which the intervals of a BED input are read."""
    one_based: bool = False
    """BED input with 1-based starts and inclusive ends; default: BED's 0-based half-open coordinates."""
    seq_length: int | None = None
    """Pad/crop every sequence to this length; default: the longest training sequence, at most ``max_seq_length``."""
    max_seq_length: int = 2048
    """Cap of the default ``seq_length``."""
    pad: str = "center"
    """Where to pad or crop: center | right (keep the 5' start) | left (keep the 3' end)."""
    n_value: str = "uniform"
    """One-hot of N: uniform (0.25 per base) | zero. Padding is always zeros."""
    rc_augment: bool | None = None
    """Replace each training example by its reverse complement with probability 1/2, and average forward
    and reverse-complement predictions; default: the dataset's (on for ChIP-seq peaks; off for oriented
    promoter/UTR assays and user files)."""


@dataclasses.dataclass
class ModelConfig:
    """Encoder and head sizes. Sizes are ints; the recipe turns the name into a module."""

    name: str = "dmpnn"
    hidden_dim: int = 300
    depth: int = 3
    dropout: float = 0.0
    readout: str | None = None
    """mean | sum | attention; default: the architecture's own (mean; AttentiveFP: attention).
    DNA models: flatten | mean | max (default flatten)."""
    ffn_hidden_dim: int = 300
    ffn_layers: int = 2
    kernel_size: int | None = None
    """DNA models: width of the first convolution; default: the architecture's (cnn 19, dilated/transformer 15)."""
    n_heads: int = 4
    """DNA transformer: attention heads (``hidden_dim`` must be divisible by it)."""
    kmer_size: int = 5
    """DNA kmer baseline: counts every k-mer of length 1..kmer_size."""


@dataclasses.dataclass
class TaskConfig:
    """What is predicted and how it is scored."""

    type: str | None = None
    """regression | binary | multilabel | multiclass; default: the catalog's, else regression."""
    n_classes: int | None = None
    """Multiclass only: number of classes (labels are 0..n_classes-1)."""
    metrics: list[str] | None = None
    """Metrics to report; default: every metric of the task type."""
    monitor: str | None = None
    """Validation metric for early stopping and the best checkpoint; default: the catalog's headline metric."""


@dataclasses.dataclass
class OptimConfig:
    """Adam with Chemprop's warm-up then exponential-decay ("noam") schedule, or a constant rate."""

    lr: float = 1e-3
    """Peak learning rate."""
    weight_decay: float = 0.0
    scheduler: str = "noam"
    """noam | constant."""
    warmup_epochs: float = 2.0
    init_lr_ratio: float = 0.1
    """Learning rate at step 0, as a fraction of ``lr``."""
    final_lr_ratio: float = 0.1
    """Learning rate at the last epoch, as a fraction of ``lr``."""


@dataclasses.dataclass
class TrainerConfig:
    """Lightning trainer options."""

    max_epochs: int = 50
    max_minutes: float | None = None
    """Stop training after this many minutes of wall time (a CPU budget); the best validated checkpoint is kept."""
    patience: int = 10
    """Early-stopping patience in epochs on the monitored validation metric; 0 turns it off."""
    seed: int = 0
    ensemble_size: int = 1
    """Train N models with seeds seed, seed+1, …; predictions report mean and std."""
    accelerator: str = "auto"
    devices: Any = "auto"
    """An int, a list of device ids, or "auto"."""
    strategy: str = "auto"
    num_nodes: int = 1
    precision: str = "32-true"
    """E.g. 32-true, bf16-mixed (GPU), 16-mixed."""
    deterministic: bool = False
    gradient_clip_val: float | None = None
    progress_bar: bool | None = None
    """None: on only when stderr is a terminal."""
    log_every_n_steps: int = 50


@dataclasses.dataclass
class GenerationConfig:
    """Molecule generators (family ``generation``). Network sizes come from ``model.hidden_dim`` / ``model.depth``
    / ``model.dropout``, the learning rate from ``optim.lr``, epochs and seed from ``trainer``."""

    tokenizer: str = "smiles"
    """smiles | selfies: the token alphabet of CharRNN and the VAE."""
    max_length: int = 100
    """Longest token sequence (without <bos>/<eos>): longer training molecules are skipped (counted), sampling stops here."""
    embedding_dim: int = 64
    """Token embedding size."""
    latent_dim: int = 128
    """VAE: size of the latent code z."""
    encoder_hidden_dim: int = 256
    """VAE: hidden size of the bidirectional GRU encoder (its decoder uses ``model.hidden_dim`` × ``model.depth``)."""
    encoder_depth: int = 1
    """VAE: layers of the GRU encoder."""
    kl_weight_start: float = 0.0
    """VAE: β of the KL term at epoch ``kl_anneal_start``."""
    kl_weight_end: float = 0.05
    """VAE: β reached after ``kl_anneal_epochs`` (linear annealing, per step)."""
    kl_anneal_start: int = 0
    """VAE: epoch at which β starts to rise from ``kl_weight_start``."""
    kl_anneal_epochs: int = 10
    """VAE: epochs over which β rises linearly to ``kl_weight_end``."""
    val_fraction: float = 0.05
    """Share of the valid training molecules held out for ``val/loss`` (seeded by ``trainer.seed``)."""
    sample_size: int = 1000
    """Molecules sampled after training and scored with ``basic_metrics`` (validity, uniqueness, novelty); 0: none."""
    temperature: float = 1.0
    """Sampling temperature of the token softmax."""
    sample_batch_size: int = 512
    """Molecules sampled per batch."""
    # GANs (LatentGAN, MolGAN): WGAN-GP with manual optimization
    n_critic: int = 5
    """GANs: critic updates per generator update."""
    gradient_penalty: float = 10.0
    """GANs: weight λ of the WGAN-GP gradient penalty."""
    lr_discriminator: float | None = None
    """GANs: learning rate of the critic (and MolGAN's reward network); default: ``optim.lr``."""
    adam_beta1: float = 0.5
    """GANs: β1 of the Adam optimizers (β2 = 0.999)."""
    noise_dim: int | None = None
    """GANs: size of the generator's noise input; default: 32 (MolGAN) or the autoencoder's latent size (LatentGAN)."""
    val_sample_size: int = 256
    """GANs: molecules sampled at each validation to log ``val/validity``, ``val/unique``, ``val/novelty`` and the
    monitored ``val/valid_unique`` (fraction of samples that are valid, one fragment and distinct)."""
    autoencoder: str | None = None
    """LatentGAN: a trained molgen VAE (run folder or its ``model/``) whose latent space the GAN learns."""
    max_atoms: int = 9
    """MolGAN: heavy atoms per graph; larger training molecules are reported and skipped."""
    atom_types: list[str] = dataclasses.field(default_factory=lambda: ["C", "N", "O", "F"])
    """MolGAN: elements the graphs can hold; molecules with others are reported and skipped."""
    gumbel: str = "hard_gumbel"
    """MolGAN: generator output fed to the critic: softmax | soft_gumbel | hard_gumbel (straight-through)."""
    reward: str | None = None
    """MolGAN: score the reward network learns (qed | logp | sa, normalized to [0, 1]); None: no reward network."""
    reward_weight: float = 0.0
    """MolGAN: generator loss = (1 - w)·WGAN + w·reward loss (the paper's λ is 1 - w); needs ``reward``."""


@dataclasses.dataclass
class RunConfig:
    """A whole run. ``family`` picks the family (property | expression | generation); None (the default):
    inferred from the data and model, and logged (see ``molgen.recipes.resolve_family``)."""

    family: str | None = None
    output: str | None = None
    """Run folder; default runs/<family>-<data>-<model>-<time>."""
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    task: TaskConfig = dataclasses.field(default_factory=TaskConfig)
    optim: OptimConfig = dataclasses.field(default_factory=OptimConfig)
    trainer: TrainerConfig = dataclasses.field(default_factory=TrainerConfig)
    generation: GenerationConfig = dataclasses.field(default_factory=GenerationConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], *, where: str = "config") -> RunConfig:
        return _build(cls, values, where)

    def with_values(self, values: Mapping[str, Any], *, where: str = "overrides") -> RunConfig:
        """Returns a copy with ``{"section.key": value}`` applied (types checked like a config file)."""
        merged = self.to_dict()
        for key, value in values.items():
            set_dotted(merged, key, value)
        return RunConfig.from_dict(merged, where=where)

    def with_overrides(self, overrides: Iterable[str]) -> RunConfig:
        """Returns a copy with ``section.key=value`` strings applied (values parsed as YAML)."""
        values = {}
        for item in overrides:
            key, sep, raw = item.partition("=")
            if not sep:
                raise ConfigError(f"override {item!r} must look like section.key=value")
            values[key.strip()] = yaml.safe_load(raw) if raw.strip() else None
        return self.with_values(values)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))


def replace(section: Any, **changes: Any) -> Any:
    """A copy of a config (or one of its sections) with ``changes`` applied; use this, not ``dataclasses.replace``."""
    return dataclasses.replace(section, **changes)


def load_config(path: str | Path) -> RunConfig:
    """Loads a YAML run config strictly: unknown sections or keys are errors naming the valid ones."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return RunConfig.from_dict(values, where=str(path))


def set_dotted(values: dict[str, Any], key: str, value: Any) -> None:
    """Sets ``values["a"]["b"] = value`` for ``key="a.b"``, refusing keys the config does not have."""
    parts = key.split(".")
    node: Any = values
    for depth, part in enumerate(parts[:-1]):
        if not isinstance(node, dict) or part not in node or not isinstance(node[part], dict):
            valid = sorted(k for k, v in node.items() if isinstance(v, dict)) if isinstance(node, dict) else []
            raise ConfigError(
                f"unknown config section {'.'.join(parts[: depth + 1])!r}; valid sections: {', '.join(valid)}"
            )
        node = node[part]
    if parts[-1] not in node:
        raise ConfigError(f"unknown config key {key!r}; valid keys: {', '.join(sorted(node))}")
    node[parts[-1]] = value


def _build(cls: type, values: Mapping[str, Any], where: str, prefix: str = "") -> Any:
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where}: section {prefix.rstrip('.') or 'top level'} must be a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(prefix + k for k in unknown)}; "
            f"valid keys{' in ' + prefix.rstrip('.') if prefix else ''}: {', '.join(fields)}"
        )
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in values.items():
        kwargs[name] = _coerce(hints[name], value, where, prefix + name)
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, where: str, key: str) -> Any:
    """Checks ``value`` against a type hint, converting the harmless cases (int → float)."""
    if dataclasses.is_dataclass(hint):
        return _build(hint, value or {}, where, key + ".")
    if hint is Any:
        return value
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(option, value, where, key)
            except ConfigError as err:
                errors.append(str(err))
        raise errors[0] if len(errors) == 1 else ConfigError(f"{where}: {key} has an invalid value {value!r}")
    if origin is list:
        if not isinstance(value, list | tuple):
            value = [value]  # a single value where a list is expected, e.g. --target-columns y
        (item_hint,) = typing.get_args(hint)
        return [_coerce(item_hint, v, where, f"{key}[{i}]") for i, v in enumerate(value)]
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):
        try:  # YAML 1.1 reads "1e-3" (no dot) as a string
            return float(value)
        except ValueError:
            pass
    if hint is str and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if hint in (int, float, str, bool):
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise ConfigError(f"{where}: {key} must be {hint.__name__}, got {value!r}")
        return value
    return value
