"""Typed run configuration: data / model / task / optim / trainer sections (pydantic v2 models).

A run config loads strictly from YAML: an unknown key is an error naming the valid keys, a closed choice
(``data.split``, ``optim.scheduler`` …) is a ``Literal`` checked when the config is read, and every error is
a one-line :class:`~molgen.errors.ConfigError`. ``model`` is a discriminated union on ``model.name``: each
model kind has its own section (graph models, DNA convolutions, the DNA transformer, the k-mer baseline and
the four generators), so a key means one thing. Configs take dotted overrides (``trainer.max_epochs=5``)
and save back to YAML, so ``config.yaml`` in a run folder retrains the same model with ``molgen train --config``.

Each field may carry command-line metadata (:func:`cli`): ``molgen train`` and ``molgen tune`` build their
options from it (see :func:`molgen.cli.options.add_config_options`), so an option lives in one place.

Configs written before the model sections existed still load: their ``generation:`` section is folded into
the ``model`` section (with a warning) and model keys the chosen model does not use are dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin, overload

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    model_validator,
)

from molgen.errors import ConfigError

log = logging.getLogger(__name__)

__all__ = [
    "MODEL_SECTIONS",
    "AnyModelConfig",
    "CharRNNConfig",
    "ConfigError",
    "DataConfig",
    "DnaConvModelConfig",
    "DnaTransformerModelConfig",
    "FingerprintModelConfig",
    "GANModelConfig",
    "GeneratorConfig",
    "GraphModelConfig",
    "KmerModelConfig",
    "LatentGANConfig",
    "ModelConfig",
    "MolGANConfig",
    "OptimConfig",
    "PrivacyConfig",
    "PretrainConfig",
    "RunConfig",
    "TaskConfig",
    "TokenModelConfig",
    "TrainerConfig",
    "UncertaintyConfig",
    "VAEConfig",
    "cli",
    "load_config",
    "model_config",
    "model_section",
    "replace",
    "resolved",
    "set_dotted",
]

Int = Annotated[int, Strict()]
"""An int field: a float (2.0) or a string is an error, as in a hand-written YAML file it is a mistake."""


def cli(
    help: str | None = None,
    *,
    flag: str | None = None,
    group: str | None = None,
    **argparse_options: Any,
) -> dict[str, Any]:
    """Command-line metadata of a config field (``json_schema_extra``): the flag (default: ``--`` plus the
    key with ``-`` for ``_``), its help and ``--help`` group, and JSON-safe argparse options (``nargs``,
    ``metavar``, ``action``: ``store_true`` | ``boolean_optional``, ``parse``: ``yaml``)."""
    options = {"flag": flag, "help": help, "group": group, **argparse_options}
    return {"cli": {k: v for k, v in options.items() if v is not None}}


DATA, DNA, MODEL, TRAINING, UNCERTAINTY, PRIVACY, PRETRAINING, NO_GROUP = (
    "data",
    "DNA sequences (expression family)",
    "model and task",
    "training",
    "uncertainty",
    "differential privacy (DP-SGD)",
    "pretraining (molgen pretrain)",
    "",
)
CLI_GROUPS = (DATA, DNA, MODEL, TRAINING, UNCERTAINTY, PRIVACY, PRETRAINING, NO_GROUP)
"""``--help`` groups, in the order they are shown."""


class _Section(BaseModel):
    """A config section: unknown keys are errors; ints/floats given for a ``str`` become strings; a single
    value given for a list becomes a one-item list (``--target-columns y``)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, protected_namespaces=())

    @model_validator(mode="before")
    @classmethod
    def _scalars_to_lists(cls, values: Any) -> Any:
        if not isinstance(values, Mapping):
            return values
        fixed = dict(values)
        for name, value in values.items():
            field = cls.model_fields.get(name)
            is_scalar = value is not None and not isinstance(value, list | tuple)
            if field is not None and is_scalar and _is_list(field.annotation):
                fixed[name] = [value]
        return fixed


def _is_list(hint: Any) -> bool:
    if get_origin(hint) is list:
        return True
    return any(_is_list(arg) for arg in get_args(hint) if get_origin(hint) is not Literal)


class DataConfig(_Section):
    """Where the examples come from and how they are split and featurized."""

    name: str = Field(
        "esol",
        json_schema_extra=cli(
            "catalog dataset name (molgen datasets list) or a CSV/TSV/SDF/Parquet (DNA: also FASTA/BED) path",
            flag="--data",
            group=DATA,
        ),
    )
    """A catalog dataset name (``molgen datasets list``) or a path to a CSV/TSV/SDF/Parquet (or, for DNA,
    FASTA/BED) file."""
    smiles_column: str | None = Field(None, json_schema_extra=cli(group=DATA))
    """SMILES column; defaults to the catalog's, else ``smiles``."""
    target_columns: list[str] | None = Field(None, json_schema_extra=cli(group=DATA, nargs="+"))
    """Target columns; default: the catalog's, else every numeric column but the input."""
    split: Literal["random", "scaffold", "stratified", "predefined"] | None = Field(
        None,
        json_schema_extra=cli("random | scaffold | stratified | predefined", group=DATA),
    )
    """random | scaffold | stratified | predefined; default: the catalog's, else random."""
    split_sizes: list[float] = Field(
        default_factory=lambda: [0.8, 0.1, 0.1],
        json_schema_extra=cli(group=DATA, nargs=3, metavar=["TRAIN", "VAL", "TEST"]),
    )
    split_column: str | None = Field(
        None,
        json_schema_extra=cli("column of train/val/test labels (predefined split)", group=DATA),
    )
    """Column holding train/val/test labels for the predefined split."""
    n_folds: Int = Field(
        1,
        json_schema_extra=cli("k-fold cross-validation (reports mean ± std)", group=DATA),
    )
    """More than 1: k-fold cross-validation; metrics are mean ± std over folds."""
    on_invalid: Literal["error", "skip"] = Field(
        "error",
        json_schema_extra=cli("invalid training molecules (default: error)", group=DATA),
    )
    """What to do with unparseable inputs in training data: error (default) | skip."""
    featurizer: str = "v2"
    """Atom/bond feature preset."""
    standardize: Literal["none", "basic", "tautomer"] = Field(
        "none",
        json_schema_extra=cli(
            "standardize molecules (RDKit): basic = cleanup, largest organic fragment, neutralize; "
            "tautomer = basic + canonical tautomer (default: none)",
            group=DATA,
            metavar="{none,basic,tautomer}",
        ),
    )
    """Chemical standardization before featurizing, stored with the model so that predict and screen apply it
    too: none (default) | basic | tautomer (see :mod:`molgen.chem.standardize`)."""
    descriptors: bool = Field(
        False,
        json_schema_extra=cli("add RDKit 2D descriptors", group=DATA, action="store_true"),
    )
    """Append RDKit 2D descriptors as molecule-level features."""
    max_atoms: Int = Field(
        500, ge=1, json_schema_extra=cli("molecules with more heavy atoms are invalid rows (default: 500)", group=DATA)
    )
    """Heavy-atom cap: a longer molecule is an invalid row (``N heavy atoms > max_atoms M``), checked before parsing."""
    domain_percentile: float = Field(
        5.0,
        gt=0,
        lt=100,
        json_schema_extra=cli(
            "applicability domain: in_domain threshold = this percentile of the test molecules' nearest-training "
            "Tanimoto similarities (default: 5)",
            group=DATA,
        ),
    )
    """Molecule models: the ``in_domain`` threshold stored with the model is this percentile of the test set's
    similarities to its nearest training molecule (see docs/applicability-domain.md)."""
    featurize_jobs: Int = Field(-1, json_schema_extra=cli("featurization processes (-1: all cores)", group=DATA))
    """Processes used to featurize (-1: all cores)."""
    cache: bool = True
    """Cache featurized graphs on disk (under the molgen cache folder)."""
    batch_size: Int = Field(64, json_schema_extra=cli(group=DATA))
    max_rows: Int | None = Field(None, json_schema_extra=cli("use only the first N rows", group=DATA))
    """Use only the first N rows (quick experiments, CI profiles)."""
    # DNA sequences (family "expression"); molecule runs ignore these.
    sequence_column: str | None = Field(
        None,
        json_schema_extra=cli(
            "DNA sequence column of a table (default: the catalog's, else sequence)",
            group=DNA,
        ),
    )
    """DNA sequence column of a CSV/TSV/Parquet; default: the catalog's, else ``sequence`` (FASTA/BED give ``sequence``)."""
    labels: str | None = Field(
        None,
        json_schema_extra=cli(
            "CSV/TSV of targets for a FASTA/BED input, joined on record id (data.id_column)",
            group=DNA,
        ),
    )
    """A CSV/TSV of targets for a FASTA or BED input, joined on ``id_column`` to the record ids / BED names."""
    id_column: str = "id"
    """Column of ``labels`` that holds the FASTA record ids (or BED names)."""
    reference: str | None = Field(None, json_schema_extra=cli("reference genome FASTA for a BED input", group=DNA))
    """Reference genome FASTA (plain, bgzip or gzip) from which the intervals of a BED input are read."""
    one_based: bool = False
    """BED input with 1-based starts and inclusive ends; default: BED's 0-based half-open coordinates."""
    seq_length: Int | None = Field(
        None,
        json_schema_extra=cli("pad/crop sequences to this length (default: longest, capped)", group=DNA),
    )
    """Pad/crop every sequence to this length; default: the longest training sequence, at most ``max_seq_length``."""
    max_seq_length: Int = 2048
    """Cap of the default ``seq_length``."""
    pad: Literal["center", "right", "left"] = "center"
    """Where to pad or crop: center | right (keep the 5' start) | left (keep the 3' end)."""
    n_value: Literal["uniform", "zero"] = "uniform"
    """One-hot of N: uniform (0.25 per base) | zero. Padding is always zeros."""
    rc_augment: bool | None = Field(
        None,
        json_schema_extra=cli(
            "reverse-complement augmentation + strand-averaged predictions (default: the dataset's)",
            group=DNA,
            action="boolean_optional",
        ),
    )
    """Replace each training example by its reverse complement with probability 1/2, and average forward
    and reverse-complement predictions; default: the dataset's (on for ChIP-seq peaks; off for oriented
    promoter/UTR assays and user files)."""


# --- model sections -------------------------------------------------------------------------------------------

_MODEL_NAMES_HELP = (
    "dmpnn | gin | gcn | gat | attentivefp | fpmlp; DNA: cnn | dilated | transformer | kmer; "
    "generation: charrnn | vae | latentgan | molgan"
)


class ModelConfig(_Section):
    """Base of the model sections; ``name`` picks the section (see :data:`MODEL_SECTIONS`)."""

    name: str = Field(
        "dmpnn",
        json_schema_extra=cli(_MODEL_NAMES_HELP, flag="--model", group=MODEL, metavar="NAME"),
    )


class _SizedModel(ModelConfig):
    """Models with a hidden width, a depth and dropout."""

    hidden_dim: Int = Field(300, json_schema_extra=cli(group=MODEL))
    depth: Int = Field(3, json_schema_extra=cli(group=MODEL))
    dropout: float = Field(0.0, json_schema_extra=cli(group=MODEL))


_READOUT_FLAG = cli("mean | sum | attention; DNA: flatten | mean | max", group=MODEL)


class GraphModelConfig(_SizedModel):
    """Molecular graph encoders (family ``property``) with an MLP head."""

    name: Literal["dmpnn", "gin", "gcn", "gat", "attentivefp"] = Field(
        "dmpnn",
        json_schema_extra=cli(_MODEL_NAMES_HELP, flag="--model", group=MODEL, metavar="NAME"),
    )
    readout: Literal["mean", "sum", "attention"] | None = Field(None, json_schema_extra=_READOUT_FLAG)
    """mean | sum | attention; default: the architecture's own (mean; AttentiveFP: attention)."""
    ffn_hidden_dim: Int = 300
    ffn_layers: Int = 2


class FingerprintModelConfig(ModelConfig):
    """An MLP on Morgan count fingerprints (family ``property``, ``--model fpmlp``) with an MLP head."""

    name: Literal["fpmlp"] = "fpmlp"
    hidden_dims: list[Int] = Field(
        default_factory=lambda: [512, 128],
        json_schema_extra=cli("fpmlp: widths of the hidden layers (default: 512 128)", group=MODEL, nargs="+"),
    )
    """Widths of the encoder's hidden layers (``Linear → ReLU → Dropout`` each)."""
    dropout: float = Field(0.1, json_schema_extra=cli(group=MODEL))
    radius: Int = 2
    """Morgan radius (2 ~ ECFP4)."""
    n_bits: Int = 2048
    """Folded fingerprint length."""
    ffn_hidden_dim: Int = 128
    ffn_layers: Int = 1
    """Linear layers of the head (1: a linear head on the last hidden layer)."""


class DnaConvModelConfig(_SizedModel):
    """DNA convolutional encoders (family ``expression``) with an MLP head. The defaults are CPU-sized
    (128 filters, FFN 128, dropout 0.2; Basset's 300/200/200 is a GPU size): see docs/expression.md."""

    name: Literal["cnn", "dilated"] = "cnn"
    hidden_dim: Int = Field(128, json_schema_extra=cli(group=MODEL))
    dropout: float = Field(0.2, json_schema_extra=cli(group=MODEL))
    readout: Literal["flatten", "mean", "max"] | None = Field(None, json_schema_extra=_READOUT_FLAG)
    """flatten | mean | max (default flatten)."""
    ffn_hidden_dim: Int = 128
    ffn_layers: Int = 2
    kernel_size: Int | None = None
    """Width of the first convolution; default: the architecture's (cnn 19, dilated 15)."""


class DnaTransformerModelConfig(DnaConvModelConfig):
    """The DNA transformer (family ``expression``)."""

    name: Literal["transformer"] = "transformer"  # type: ignore[assignment]
    hidden_dim: Int = Field(64, json_schema_extra=cli(group=MODEL))
    depth: Int = Field(2, json_schema_extra=cli(group=MODEL))
    dropout: float = Field(0.1, json_schema_extra=cli(group=MODEL))
    ffn_hidden_dim: Int = 64
    n_heads: Int = 4
    """Attention heads (``hidden_dim`` must be divisible by it)."""


class KmerModelConfig(ModelConfig):
    """The k-mer count baseline (family ``expression``): a linear model on k-mer counts."""

    name: Literal["kmer"] = "kmer"
    kmer_size: Int = 5
    """Counts every k-mer of length 1..kmer_size."""


class GeneratorConfig(_SizedModel):
    """Molecule generators (family ``generation``): sampling after training. The learning rate comes from
    ``optim.lr``, epochs and seed from ``trainer``."""

    val_fraction: float = 0.05
    """Share of the valid training molecules held out for ``val/loss`` (seeded by ``trainer.seed``)."""
    sample_size: Int = 1000
    """Molecules sampled after training and scored with ``basic_metrics`` (validity, uniqueness, novelty); 0: none."""
    sample_batch_size: Int = 512
    """Molecules sampled per batch."""


class TokenModelConfig(GeneratorConfig):
    """Generators over SMILES/SELFIES token sequences (CharRNN, VAE)."""

    tokenizer: Literal["smiles", "selfies"] = "smiles"
    """The token alphabet."""
    max_length: Int = 100
    """Longest token sequence (without <bos>/<eos>): longer training molecules are skipped (counted), sampling stops here."""
    embedding_dim: Int = 64
    """Token embedding size."""
    temperature: float = 1.0
    """Sampling temperature of the token softmax."""


class CharRNNConfig(TokenModelConfig):
    """CharRNN: a GRU language model over SMILES/SELFIES tokens (``hidden_dim`` × ``depth``)."""

    name: Literal["charrnn"] = "charrnn"


class VAEConfig(TokenModelConfig):
    """SMILES/SELFIES VAE: bidirectional GRU encoder, GRU decoder of ``hidden_dim`` × ``depth``."""

    name: Literal["vae"] = "vae"
    latent_dim: Int = 128
    """Size of the latent code z."""
    encoder_hidden_dim: Int = 256
    """Hidden size of the bidirectional GRU encoder."""
    encoder_depth: Int = 1
    """Layers of the GRU encoder."""
    kl_weight_start: float = 0.0
    """β of the KL term at epoch ``kl_anneal_start``."""
    kl_weight_end: float = 0.05
    """β reached after ``kl_anneal_epochs`` (linear annealing, per step)."""
    kl_anneal_start: Int = 0
    """Epoch at which β starts to rise from ``kl_weight_start``."""
    kl_anneal_epochs: Int = 10
    """Epochs over which β rises linearly to ``kl_weight_end``."""


class GANModelConfig(GeneratorConfig):
    """WGAN-GP with manual optimization."""

    n_critic: Int = 5
    """Critic updates per generator update."""
    gradient_penalty: float = 10.0
    """Weight λ of the WGAN-GP gradient penalty."""
    lr_discriminator: float | None = None
    """Learning rate of the critic (and MolGAN's reward network); default: ``optim.lr``."""
    adam_beta1: float = 0.5
    """β1 of the Adam optimizers (β2 = 0.999)."""
    noise_dim: Int | None = None
    """Size of the generator's noise input; default: 32 (MolGAN) or the autoencoder's latent size (LatentGAN)."""
    val_sample_size: Int = 256
    """Molecules sampled at each validation to log ``val/validity``, ``val/unique``, ``val/novelty`` and the
    monitored ``val/valid_unique`` (fraction of samples that are valid, one fragment and distinct)."""


class LatentGANConfig(GANModelConfig):
    """LatentGAN: a WGAN-GP in the latent space of a trained molgen VAE."""

    name: Literal["latentgan"] = "latentgan"
    autoencoder: str | None = None
    """A trained molgen VAE (run folder or its ``model/``) whose latent space the GAN learns."""


class MolGANConfig(GANModelConfig):
    """MolGAN: a WGAN-GP over dense molecular graphs, with an optional reward network."""

    name: Literal["molgan"] = "molgan"
    max_atoms: Int = 9
    """Heavy atoms per graph; larger training molecules are reported and skipped."""
    atom_types: list[str] = Field(default_factory=lambda: ["C", "N", "O", "F"])
    """Elements the graphs can hold; molecules with others are reported and skipped."""
    gumbel: Literal["softmax", "soft_gumbel", "hard_gumbel"] = "hard_gumbel"
    """Generator output fed to the critic: softmax | soft_gumbel | hard_gumbel (straight-through)."""
    reward: Literal["qed", "logp", "sa"] | None = None
    """Score the reward network learns (normalized to [0, 1]); None: no reward network."""
    reward_weight: float = 0.0
    """Generator loss = (1 - w)·WGAN + w·reward loss (the paper's λ is 1 - w); needs ``reward``."""

    @model_validator(mode="after")
    def _reward_weight_needs_reward(self) -> MolGANConfig:
        if self.reward_weight and self.reward is None:
            raise ValueError("model.reward_weight > 0 needs model.reward (qed | logp | sa)")
        return self


AnyModelConfig = Annotated[
    Union[  # noqa: UP007 - pydantic discriminated union
        GraphModelConfig,
        FingerprintModelConfig,
        DnaConvModelConfig,
        DnaTransformerModelConfig,
        KmerModelConfig,
        CharRNNConfig,
        VAEConfig,
        LatentGANConfig,
        MolGANConfig,
    ],
    Field(discriminator="name"),
]

MODEL_SECTIONS: dict[str, type[ModelConfig]] = {
    name: section
    for section in get_args(get_args(AnyModelConfig)[0])
    for name in get_args(section.model_fields["name"].annotation)
}
"""Model name → its config section."""


class TaskConfig(_Section):
    """What is predicted and how it is scored."""

    type: Literal["regression", "binary", "multilabel", "multiclass", "generation"] | None = Field(
        None,
        json_schema_extra=cli(
            "regression | binary | multilabel | multiclass",
            flag="--task-type",
            group=MODEL,
        ),
    )
    """regression | binary | multilabel | multiclass (generation: set by the generation family); default: the
    catalog's, else regression."""
    n_classes: Int | None = None
    """Multiclass only: number of classes (labels are 0..n_classes-1)."""
    positive_class: str | None = Field(
        None,
        json_schema_extra=cli(
            "binary text labels: the class predicted as 1 (default: the last in sorted order)", group=MODEL
        ),
    )
    """Binary tasks with text labels (``active``/``inactive``): the positive class; default: the last label in
    sorted order. Text labels of classification targets are mapped to 0, 1, … in sorted order otherwise."""
    metrics: list[str] | None = Field(
        None,
        json_schema_extra=cli(
            "metrics to report (rmse mae r2 roc_auc pr_auc accuracy f1 …)",
            group=MODEL,
            nargs="+",
        ),
    )
    """Metrics to report; default: every metric of the task type."""
    monitor: str | None = Field(
        None,
        json_schema_extra=cli("validation metric for early stopping / best checkpoint", group=MODEL),
    )
    """Validation metric for early stopping and the best checkpoint; default: the catalog's headline metric."""


class OptimConfig(_Section):
    """Adam with Chemprop's warm-up then exponential-decay ("noam") schedule, or a constant rate; the encoder's
    starting point (``init_from``) and which of its weights train (``freeze_encoder``, ``encoder_lr_ratio``)."""

    lr: float = Field(1e-3, json_schema_extra=cli(group=TRAINING))
    """Peak learning rate."""
    weight_decay: float = 0.0
    scheduler: Literal["noam", "constant"] = "noam"
    """noam | constant."""
    warmup_epochs: float = 2.0
    init_lr_ratio: float = 0.1
    """Learning rate at step 0, as a fraction of ``lr``."""
    final_lr_ratio: float = 0.1
    """Learning rate at the last epoch, as a fraction of ``lr``."""
    encoder_lr_ratio: float = Field(
        1.0,
        ge=0.0,
        json_schema_extra=cli(
            "encoder learning rate as a fraction of --lr (e.g. 0.1 when fine-tuning)", group=TRAINING
        ),
    )
    """The encoder's learning rate as a fraction of ``lr`` (its own optimizer parameter group); 1: one rate."""
    init_from: str | None = Field(
        "auto",
        json_schema_extra=cli(
            "the encoder's starting weights: auto (default: the shipped molgen:dmpnn-pretrained for a D-MPNN of "
            "its size, else random), none (random), a molgen pretrain run folder, an exported model folder or "
            "molgen:NAME",
            group=TRAINING,
            metavar="PRETRAINED",
        ),
    )
    """The encoder's starting weights (docs/pretraining.md): ``auto`` (the default) is the shipped
    ``molgen:dmpnn-pretrained`` when the model is a property D-MPNN of its architecture (hidden 300, depth 3, atom
    features v2) and random weights otherwise; ``none`` (or null) is random weights; else a ``molgen pretrain`` run
    folder or ``model/`` folder, a property model folder, or ``molgen:NAME`` (package data). A run's saved
    ``config.yaml`` holds what ``auto`` became."""

    freeze_encoder: bool = Field(
        False,
        json_schema_extra=cli(
            "with --init-from: keep the encoder's weights fixed", group=TRAINING, action="store_true"
        ),
    )
    """Keep the encoder fixed (no gradient, eval mode) and train only the head."""

    @model_validator(mode="after")
    def _none_means_random(self) -> OptimConfig:
        if self.init_from is not None and self.init_from.strip().lower() in ("none", "null", ""):
            self.init_from = None  # `--init-from none`: random weights
        return self


class TrainerConfig(_Section):
    """Lightning trainer options."""

    max_epochs: Int = Field(50, json_schema_extra=cli(group=TRAINING))
    max_minutes: float | None = Field(
        None,
        json_schema_extra=cli(
            "stop training after this many minutes (keeps the best epoch)",
            group=TRAINING,
        ),
    )
    """Stop training after this many minutes of wall time (a CPU budget); the best validated checkpoint is kept."""
    patience: Int = Field(
        10,
        json_schema_extra=cli("early-stopping patience in epochs (0: off)", group=TRAINING),
    )
    """Early-stopping patience in epochs on the monitored validation metric; 0 turns it off."""
    seed: Int = Field(0, json_schema_extra=cli(group=TRAINING))
    ensemble_size: Int = Field(
        1,
        json_schema_extra=cli("train N seeds; predictions report mean and std", group=TRAINING),
    )
    """Train N models with seeds seed, seed+1, …; predictions report mean and std."""
    accelerator: str = Field("auto", json_schema_extra=cli("auto | cpu | gpu", group=TRAINING))
    devices: Any = Field(
        "auto",
        json_schema_extra=cli('number of devices, a list, or "auto"', group=TRAINING, parse="yaml"),
    )
    """An int, a list of device ids, or "auto"."""
    strategy: str = Field("auto", json_schema_extra=cli("auto | ddp | …", group=TRAINING))
    num_nodes: Int = 1
    precision: str = Field(
        "32-true",
        json_schema_extra=cli("32-true | bf16-mixed | 16-mixed", group=TRAINING),
    )
    """E.g. 32-true, bf16-mixed (GPUs, and CPUs with bfloat16 instructions: AVX512-BF16 or AMX), 16-mixed."""
    deterministic: bool = Field(
        False,
        json_schema_extra=cli(
            "same seed, same metrics on CPU (deterministic kernels; see docs/run-folder.md)",
            group=TRAINING,
            action="store_true",
        ),
    )
    """Deterministic algorithms (Lightning's ``deterministic=True``): bit-reproducible runs on CPU."""
    gradient_clip_val: float | None = None
    progress_bar: bool | None = None
    """None: on only when stderr is a terminal."""
    log_every_n_steps: Int = 50


DEFAULT_UNCERTAINTY = {"regression": "mve", "classification": "dropout"}
"""What ``--uncertainty`` without a method (``auto``) trains, per task type; chosen from
``benchmarks/results/uncertainty-*.md``."""


class UncertaintyConfig(_Section):
    """Uncertainty estimates and their calibration on a held-out calibration split (docs/uncertainty.md)."""

    method: Literal["none", "auto", "ensemble", "mve", "evidential", "dropout"] = Field(
        "none",
        json_schema_extra=cli(
            "ensemble | mve | evidential | dropout; without a value: auto "
            f"(regression: {DEFAULT_UNCERTAINTY['regression']}, classification: {DEFAULT_UNCERTAINTY['classification']})",
            flag="--uncertainty",
            group=UNCERTAINTY,
            nargs="?",
            const="auto",
            metavar="METHOD",
        ),
    )
    calibration: Literal["none", "zscale", "conformal", "cqr", "platt", "isotonic"] = Field(
        "none",
        json_schema_extra=cli(
            "regression: zscale | conformal | cqr; classification: platt | isotonic | conformal (prediction sets)",
            group=UNCERTAINTY,
        ),
    )
    coverage: float = Field(
        0.9,
        gt=0.0,
        lt=1.0,
        json_schema_extra=cli("nominal coverage of intervals and prediction sets (default: 0.9)", group=UNCERTAINTY),
    )
    calibration_fraction: float = Field(
        0.1,
        gt=0.0,
        lt=1.0,
        json_schema_extra=cli(
            "fraction of the training rows held out (seeded) to calibrate on (default: 0.1)", group=UNCERTAINTY
        ),
    )
    mc_samples: Int = Field(
        20, ge=2, json_schema_extra=cli("dropout: stochastic forward passes per prediction", group=UNCERTAINTY)
    )
    evidential_weight: float = Field(
        0.2, ge=0.0, json_schema_extra=cli("evidential: weight λ of the evidence regularizer", group=UNCERTAINTY)
    )
    dropout: float = 0.1
    """Model dropout used by ``method: dropout`` when the model's own dropout is 0."""
    ensemble_size: Int = Field(5, ge=2)
    """Members trained by ``method: ensemble`` when ``trainer.ensemble_size`` is 1."""


class PrivacyConfig(_Section):
    """Differentially private training (DP-SGD with Opacus, docs/privacy.md); off unless ``epsilon`` is set."""

    epsilon: float | None = Field(
        None,
        gt=0,
        json_schema_extra=cli(
            "train with DP-SGD (Opacus) to this ε over --max-epochs (fpmlp and DNA models)",
            flag="--dp-epsilon",
            group=PRIVACY,
            metavar="E",
        ),
    )
    """Target ε of DP-SGD over ``trainer.max_epochs`` epochs; None: no differential privacy."""
    delta: float | None = Field(
        None,
        gt=0,
        lt=1,
        json_schema_extra=cli("DP δ (default: 1 / training rows)", flag="--dp-delta", group=PRIVACY, metavar="D"),
    )
    """δ of the (ε, δ) guarantee; default 1 / the number of training rows."""
    max_grad_norm: float = Field(
        1.0,
        gt=0,
        json_schema_extra=cli(
            "DP per-example gradient clipping norm C (default: 1.0)",
            flag="--dp-max-grad-norm",
            group=PRIVACY,
            metavar="C",
        ),
    )
    """Per-example gradient clipping norm C."""


class PretrainConfig(_Section):
    """Self-supervised pretraining of a molecule encoder (family ``pretrain``, docs/pretraining.md)."""

    objectives: list[str] = Field(
        default_factory=lambda: ["descriptors=1.0", "masking=1.0"],
        json_schema_extra=cli(
            "NAME=WEIGHT, repeatable: descriptors (RDKit 2D descriptor regression) | masking (atom and bond types) | "
            "contrastive (two masked views, NT-Xent)",
            flag="--objective",
            group=PRETRAINING,
            action="append",
            metavar="NAME=WEIGHT",
        ),
    )
    """Objectives and their loss weights: ``descriptors`` (CheMeleon-style regression of standardized RDKit 2D
    descriptors), ``masking`` (Hu et al. 2020 attribute masking of atom and bond types) and ``contrastive`` (GraphCL-style
    NT-Xent between two randomly masked views of each molecule)."""
    chunk_size: Int = Field(
        10000,
        ge=2,
        json_schema_extra=cli("molecules read and featurized at a time (default: 10000)", group=PRETRAINING),
    )
    """Molecules per corpus chunk: the unit read, featurized (in a worker), shuffled and checkpointed. Chunk 0 is the
    validation set and gives the descriptor mean and standard deviation."""
    mask_rate: float = Field(
        0.15, gt=0.0, lt=1.0, json_schema_extra=cli("masking: fraction of atoms (and bonds) masked", group=PRETRAINING)
    )
    descriptor_mask_rate: float = Field(
        0.15,
        ge=0.0,
        lt=1.0,
        json_schema_extra=cli("descriptors: fraction of targets left out of the loss per step", group=PRETRAINING),
    )
    workers: Int = Field(
        1,
        ge=0,
        json_schema_extra=cli("worker processes reading and featurizing chunks (0: in the trainer)", group=PRETRAINING),
    )
    checkpoint_every_n_steps: Int = Field(
        200, ge=1, json_schema_extra=cli("write checkpoints/last.ckpt every N steps (resume point)", group=PRETRAINING)
    )


SECTIONS: dict[str, type[_Section]] = {
    "data": DataConfig,
    "task": TaskConfig,
    "optim": OptimConfig,
    "trainer": TrainerConfig,
    "uncertainty": UncertaintyConfig,
    "privacy": PrivacyConfig,
    "pretrain": PretrainConfig,
}
"""The sections other than ``model`` (whose class depends on ``model.name``)."""


class RunConfig(BaseModel):
    """A whole run. ``family`` picks the recipe (property | expression | generation); None (the default) lets
    ``molgen.recipes.resolve_family`` infer it from the data and the model."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    family: Literal["property", "expression", "generation", "pretrain"] | None = Field(
        None,
        json_schema_extra=cli(
            "model family (default: property; expression when the data is DNA)",
            group=MODEL,
        ),
    )
    output: str | None = Field(
        None,
        json_schema_extra=cli("run folder (default: runs/<data>-<model>-<time>)", group=NO_GROUP),
    )
    """Run folder; default runs/<family>-<data>-<model>-<time>."""
    data: DataConfig = Field(default_factory=DataConfig)
    model: AnyModelConfig = Field(default_factory=GraphModelConfig)
    task: TaskConfig = Field(default_factory=TaskConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    trainer: TrainerConfig = Field(default_factory=TrainerConfig)
    uncertainty: UncertaintyConfig = Field(default_factory=UncertaintyConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    pretrain: PretrainConfig = Field(default_factory=PretrainConfig)

    @model_validator(mode="before")
    @classmethod
    def _default_model_name(cls, values: Any) -> Any:
        if isinstance(values, Mapping) and isinstance(values.get("model"), Mapping) and "name" not in values["model"]:
            values = {**values, "model": {"name": "dmpnn", **values["model"]}}
        return values

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="python")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], *, where: str = "config") -> RunConfig:
        """Validates a nested mapping (a YAML file's content); a legacy ``generation`` section is folded into
        ``model``."""
        if not isinstance(values, Mapping):
            raise ConfigError(f"{where}: expected a mapping of sections at the top level")
        values = _fold_legacy(dict(values), where)
        _check_keys(values, where)
        return _validate(cls, values, where)

    def with_values(self, values: Mapping[str, Any], *, where: str = "overrides") -> RunConfig:
        """Returns a copy with ``{"section.key": value}`` applied (types checked like a config file). A new
        ``model.name`` is applied first: the model section is rebuilt for that model, keeping the values that
        differ from the old model's defaults."""
        tree = self.to_dict()
        values = dict(values)
        for key in [k for k in values if k.split(".")[0] == "generation"]:
            new_key = "model." + key.partition(".")[2]
            log.warning(
                "%s: config key %r is now %r (the generation section moved into model)",
                where,
                key,
                new_key,
            )
            values.setdefault(new_key, values.pop(key))
            values.pop(key, None)
        if "model.name" in values:
            tree["model"] = _switch_model(self.model, values.pop("model.name"), where)
        for key, value in values.items():
            try:
                set_dotted(tree, key, value)
            except ConfigError as err:
                if key.startswith("model."):
                    name = tree["model"].get("name")
                    raise ConfigError(
                        f"{where}: model {name!r} has no key {key!r}; valid keys for {name}: "
                        f"{', '.join('model.' + k for k in tree['model'])}"
                    ) from None
                raise ConfigError(f"{where}: {err}") from None
        return _validate(RunConfig, tree, where)

    def with_overrides(self, overrides: Iterable[str], *, where: str = "--set") -> RunConfig:
        """Returns a copy with ``section.key=value`` strings applied (values parsed as YAML)."""
        values = {}
        for item in overrides:
            key, sep, raw = item.partition("=")
            if not sep:
                raise ConfigError(f"override {item!r} must look like section.key=value")
            values[key.strip()] = yaml.safe_load(raw) if raw.strip() else None
        return self.with_values(values, where=where)

    def save(self, path: str | Path) -> None:
        from molgen.io import write_text

        write_text(path, yaml.safe_dump(self.to_dict(), sort_keys=False))  # atomically


def model_config(values: Mapping[str, Any], *, where: str = "model", legacy: bool = False) -> ModelConfig:
    """The model section for ``values`` (its class picked by ``values["name"]``, default dmpnn). ``legacy``:
    drop the keys the model does not have (a ``model.yaml`` or ``config.yaml`` written before the model
    sections existed held every model key)."""
    values = dict(values)
    values.setdefault("name", "dmpnn")
    if legacy:
        values = _drop_unused_model_keys(values, where)
    run = RunConfig.from_dict({"model": values}, where=where)
    return run.model


M = TypeVar("M", bound=ModelConfig)
N = TypeVar("N", bound=ModelConfig)
T = TypeVar("T")


@overload
def model_section(cfg: RunConfig | ModelConfig, kind: type[M]) -> M: ...
@overload
def model_section(cfg: RunConfig | ModelConfig, kind: tuple[type[M], type[N]]) -> M | N: ...
def model_section(cfg: RunConfig | ModelConfig, kind: Any) -> Any:
    """``cfg.model`` (or the model section ``cfg``) narrowed to the section class ``kind`` or to one of a pair of
    them (a base class such as :class:`GeneratorConfig` or :class:`DnaConvModelConfig` accepts its subclasses);
    a :class:`ConfigError` when the model is another kind."""
    section = cfg.model if isinstance(cfg, RunConfig) else cfg
    if not isinstance(section, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        valid = sorted(name for name, cls in MODEL_SECTIONS.items() if issubclass(cls, kinds))
        raise ConfigError(
            f"model {section.name!r} is not a {' or '.join(k.__name__ for k in kinds)} model; "
            f"valid names here: {', '.join(valid)}"
        )
    return section


def resolved(value: T | None, key: str) -> T:
    """The value of config key ``key`` that a family's ``resolve_config`` fills; a :class:`ConfigError` when it is
    still unset (the config was not resolved)."""
    if value is None:
        raise ConfigError(f"{key} is not set: the config was not resolved (the family fills it before training)")
    return value


def replace(section: Any, **changes: Any) -> Any:
    """A validated copy of a config (or one of its sections) with ``changes`` applied."""
    values = {name: getattr(section, name) for name in type(section).model_fields}
    unknown = sorted(set(changes) - set(values))
    if unknown:
        raise ConfigError(
            f"unknown config key(s) {', '.join(unknown)} for {type(section).__name__}; valid keys: {', '.join(values)}"
        )
    return _validate(type(section), {**values, **changes}, "config")


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


# --- helpers ----------------------------------------------------------------------------------------------------

# Defaults of the flat model section and of the generation section of molgen ≤ 0.1 (for legacy files).
_OLD_MODEL_DEFAULTS: dict[str, Any] = {
    "hidden_dim": 300, "depth": 3, "dropout": 0.0, "readout": None, "ffn_hidden_dim": 300, "ffn_layers": 2,
    "kernel_size": None, "n_heads": 4, "kmer_size": 5,
}  # fmt: skip
_OLD_GENERATION_DEFAULTS: dict[str, Any] = {
    "tokenizer": "smiles", "max_length": 100, "embedding_dim": 64, "latent_dim": 128, "encoder_hidden_dim": 256,
    "encoder_depth": 1, "kl_weight_start": 0.0, "kl_weight_end": 0.05, "kl_anneal_start": 0, "kl_anneal_epochs": 10,
    "val_fraction": 0.05, "sample_size": 1000, "temperature": 1.0, "sample_batch_size": 512, "n_critic": 5,
    "gradient_penalty": 10.0, "lr_discriminator": None, "adam_beta1": 0.5, "noise_dim": None, "val_sample_size": 256,
    "autoencoder": None, "max_atoms": 9, "atom_types": ["C", "N", "O", "F"], "gumbel": "hard_gumbel", "reward": None,
    "reward_weight": 0.0,
}  # fmt: skip


def _fold_legacy(values: dict[str, Any], where: str) -> dict[str, Any]:
    """Moves a ``generation:`` section (molgen ≤ 0.1) into ``model`` and drops the model keys the chosen model
    does not have (such files held every key of the old flat model section)."""
    if "generation" not in values:
        return values
    generation = values.pop("generation") or {}
    if not isinstance(generation, Mapping):
        raise ConfigError(f"{where}: section generation must be a mapping")
    model = dict(values.get("model") or {})
    model.setdefault("name", "dmpnn")
    moved = [k for k, v in generation.items() if _OLD_GENERATION_DEFAULTS.get(k, object()) != v]
    if moved:
        log.warning(
            "%s: the generation section is now part of model (move %s under model:)",
            where,
            ", ".join(f"generation.{k}" for k in moved),
        )
    for key, value in generation.items():
        model.setdefault(key, value)
    values["model"] = _drop_unused_model_keys(model, where)
    return values


def _drop_unused_model_keys(model: dict[str, Any], where: str) -> dict[str, Any]:
    section = MODEL_SECTIONS.get(model.get("name", "dmpnn"))
    if section is None:
        return model  # the unknown name is reported by validation
    kept = {}
    for key, value in model.items():
        if key in section.model_fields:
            kept[key] = value
        elif key in _OLD_MODEL_DEFAULTS or key in _OLD_GENERATION_DEFAULTS:
            old_default = _OLD_MODEL_DEFAULTS.get(key, _OLD_GENERATION_DEFAULTS.get(key))
            if value != old_default:
                log.warning(
                    "%s: model %s has no key %r; its value %r is ignored",
                    where,
                    model.get("name"),
                    key,
                    value,
                )
        else:
            kept[key] = value  # an unknown key: reported by validation
    return kept


def _switch_model(current: ModelConfig, name: Any, where: str) -> dict[str, Any]:
    """The model section for a new ``name``: the current section's non-default values carried over."""
    section = MODEL_SECTIONS.get(name) if isinstance(name, str) else None
    if section is None:
        raise ConfigError(f"{where}: model.name must be one of {', '.join(MODEL_SECTIONS)}; got {name!r}")
    if type(current) is section:
        return {**current.model_dump(), "name": name}
    defaults = type(current)()
    carried = {k: v for k, v in current.model_dump().items() if k != "name" and v != getattr(defaults, k)}
    lost = sorted(set(carried) - set(section.model_fields))
    if lost:
        raise ConfigError(
            f"{where}: model {name!r} has no key(s) {', '.join('model.' + k for k in lost)} (set for model "
            f"{current.name!r}); valid keys for {name}: {', '.join('model.' + k for k in section.model_fields)}"
        )
    return {**section.model_validate({"name": name}).model_dump(), **carried}


def _check_keys(values: Mapping[str, Any], where: str) -> None:
    """Unknown sections or keys → one error listing all of them and the valid keys."""
    top = RunConfig.model_fields
    unknown = sorted(set(values) - set(top), key=str)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}; valid keys: {', '.join(top)}")
    for name, section in values.items():
        if name not in ("data", "model", "task", "optim", "trainer", "privacy", "pretrain"):
            continue
        if section is None:
            continue
        if not isinstance(section, Mapping):
            raise ConfigError(f"{where}: section {name} must be a mapping")
        cls = MODEL_SECTIONS.get(section.get("name", "dmpnn")) if name == "model" else SECTIONS[name]
        if cls is None:
            continue  # an unknown model name: reported by validation
        unknown = sorted(set(section) - set(cls.model_fields), key=str)
        if unknown:
            label = f"model {section.get('name', 'dmpnn')!r}" if name == "model" else name
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(f'{name}.{k}' for k in unknown)}; "
                f"valid keys in {label}: {', '.join(cls.model_fields)}"
            )


def _validate(cls: type[BaseModel], values: Mapping[str, Any], where: str) -> Any:
    if cls is RunConfig:  # an empty section in YAML (``data:``) means its defaults
        values = {k: v for k, v in values.items() if v is not None or k in ("family", "output")}
    try:
        return cls.model_validate(values)
    except ValidationError as err:
        raise ConfigError(f"{where}: {_describe(err, cls)}") from None


_TYPE_NAMES = {
    "int_": "int",
    "float_": "float",
    "bool_": "bool",
    "string_": "str",
    "list_": "a list",
}


def _describe(err: ValidationError, cls: type[BaseModel]) -> str:
    """One line for the first error: ``data.split must be one of random, scaffold; got 'banana'``."""
    first = err.errors()[0]
    loc = [str(p) for p in first["loc"]]
    if cls is RunConfig and len(loc) >= 2 and loc[0] == "model" and loc[1] in MODEL_SECTIONS:
        del loc[1]  # the union tag
    if cls is not RunConfig:
        prefix = next((name for name, section in SECTIONS.items() if section is cls), None)
        if prefix is None and issubclass(cls, ModelConfig):
            prefix = "model"
        if prefix:
            loc = [prefix, *loc]
    key = ".".join(loc) or "config"
    kind, value, ctx = first["type"], first.get("input"), first.get("ctx") or {}
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"{key} must be one of {expected}; got {value!r}"
    if kind == "union_tag_invalid":
        return f"{key}.name must be one of {', '.join(MODEL_SECTIONS)}; got {ctx.get('tag')!r}"
    if kind == "extra_forbidden":
        return f"unknown key {key}"
    for prefix, type_name in _TYPE_NAMES.items():
        if kind.startswith(prefix):
            return f"{key} must be {type_name}, got {value!r}"
    message = str(first["msg"]).removeprefix("Value error, ")
    if kind == "value_error":
        return message
    return f"{key}: {message[0].lower() + message[1:]}; got {value!r}"
