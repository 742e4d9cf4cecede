"""What the token-sequence generators (CharRNN, VAE) share: encoding the SMILES splits, the network sizes
recorded in ``model.yaml``, one training run on ``val/loss`` and loading an export."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from molgen.chem.tokens import TokenCodec
from molgen.config import RunConfig, TokenModelConfig, model_section
from molgen.errors import InvalidInputError

if TYPE_CHECKING:
    import torch

    from molgen.chem.smiles_sets import SmilesSplits
    from molgen.families.generation.family import TrainedGenerator
    from molgen.training.artifacts import ModelSpec

log = logging.getLogger("molgen")


@dataclass
class EncodedSplits:
    """Token ids of the train and val molecules (at most ``model.max_length`` tokens each)."""

    codec: TokenCodec
    train: list[np.ndarray]
    val: list[np.ndarray]
    n_too_long: int

    @property
    def n_train_tokens(self) -> int:
        """Predicted tokens per training epoch (each sequence minus its ``<bos>``)."""
        return sum(len(s) - 1 for s in self.train)


def encode_splits(cfg: RunConfig, train: list[str], val: list[str]) -> EncodedSplits:
    """Fits the vocabulary on all molecules and encodes them; molecules longer than ``model.max_length``
    tokens are left out with a warning (counted in ``n_too_long``)."""
    section = model_section(cfg, TokenModelConfig)
    kind, max_length = section.tokenizer, section.max_length
    codec = TokenCodec.fit(kind, [*train, *val])
    train_ids, long_train = codec.encode_many(train, max_length)
    val_ids, long_val = codec.encode_many(val, max_length)
    n_too_long = len(long_train) + len(long_val)
    if n_too_long:
        log.warning(
            "%d molecule(s) longer than model.max_length=%d %s tokens left out (e.g. %s)",
            n_too_long,
            max_length,
            kind,
            (train[long_train[0]] if long_train else val[long_val[0]]),
        )
    if not train_ids or not val_ids:
        raise InvalidInputError(
            f"no training or validation molecule has at most model.max_length={max_length} {kind} tokens; raise it"
        )
    return EncodedSplits(codec, train_ids, val_ids, n_too_long)


def sizes_of(cfg: RunConfig) -> dict[str, Any]:
    """Network sizes recorded in ``model.yaml`` (primitives)."""
    keys = ("embedding_dim", "hidden_dim", "depth", "dropout", "latent_dim", "encoder_hidden_dim", "encoder_depth")
    return {key: getattr(cfg.model, key) for key in keys if hasattr(cfg.model, key)}


class TokenRecipe:
    """A token-sequence generator recipe: subclasses name the model and say how to build its network, its
    Lightning module and its generator; training on ``val/loss`` and loading an export are shared."""

    name: str
    section: type[TokenModelConfig]
    generator: Callable[[Any, TokenCodec, int, float], Any]  # (network, codec, max_length, temperature)

    @staticmethod
    def build(sizes: dict[str, Any], vocab_size: int) -> torch.nn.Module:
        raise NotImplementedError

    @classmethod
    def module(cls, cfg: RunConfig, network: torch.nn.Module) -> Any:
        """The Lightning module that trains ``network``."""
        raise NotImplementedError

    @classmethod
    def train(
        cls, cfg: RunConfig, data: SmilesSplits, run_dir: Path, *, resume: bool = False, callbacks: list | None = None
    ) -> TrainedGenerator:
        """Encodes ``data``, builds the network, trains it on ``val/loss`` and returns the export spec, the
        generator and the run details."""
        from molgen.families.generation.family import TrainedGenerator
        from molgen.training.generative import TokenDataModule
        from molgen.training.trainer import build_trainer, run

        section = model_section(cfg, cls.section)  # a clear error when the model section is another model's
        encoded = encode_splits(cfg, data.train, data.val)
        sizes = sizes_of(cfg)
        model = cls.build(sizes, len(encoded.codec))
        module = cls.module(cfg, model)
        datamodule = TokenDataModule(encoded.train, encoded.val, batch_size=cfg.data.batch_size, seed=cfg.trainer.seed)
        trainer = build_trainer(cfg.trainer, run_dir, monitor="val/loss", mode="min", extra_callbacks=callbacks)
        start = time.perf_counter()
        outcome = run(module, datamodule, trainer, resume=resume, test=False)
        elapsed = time.perf_counter() - start
        spec = {
            "generator": cls.name,
            "tokenizer": encoded.codec.to_dict(),
            "sizes": sizes,
            "max_length": section.max_length,
            "temperature": section.temperature,
        }
        details = {
            "epochs": outcome.epochs,
            "stopped": [outcome.stopped],
            "n_too_long": encoded.n_too_long,
            "train_s": elapsed,
            "train_tokens_per_epoch": encoded.n_train_tokens,
            "padding_fraction": datamodule.train_batches.padding_fraction,
        }
        generator = cls.generator(model, encoded.codec, section.max_length, section.temperature)
        return TrainedGenerator(module=model, spec=spec, val=outcome.val, generator=generator, details=details)

    @classmethod
    def load(cls, model_dir: Path, spec: ModelSpec) -> Any:
        """The generator of an export: vocabulary and sizes from ``model.yaml``, weights from safetensors."""
        from molgen.training.artifacts import read_weights, spec_field

        codec = TokenCodec.from_dict(spec_field(spec, "tokenizer"))
        model = cls.build(spec_field(spec, "sizes"), len(codec))
        model.load_state_dict(read_weights(model_dir), strict=True)
        temperature = float(getattr(spec, "temperature", 1.0))
        return cls.generator(model, codec, int(spec_field(spec, "max_length")), temperature)
