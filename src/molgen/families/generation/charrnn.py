"""CharRNN recipe: tokens → LSTM language model on the shared training core → ``CharRNNGenerator``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from molgen.chem.tokens import TokenCodec
from molgen.config import CharRNNConfig, RunConfig, model_section
from molgen.families.base import register_generator
from molgen.families.generation.family import SmilesSplits, TrainedGenerator, read_weights, spec_field
from molgen.families.generation.tokens import encode_splits, sizes_of
from molgen.models.generative.charrnn import CharRNN, CharRNNGenerator
from molgen.training.artifacts import ModelSpec

NAME = "charrnn"


def build(sizes: dict[str, Any], vocab_size: int) -> CharRNN:
    return CharRNN(vocab_size, sizes["embedding_dim"], sizes["hidden_dim"], sizes["depth"], sizes["dropout"])


def train(
    cfg: RunConfig, data: SmilesSplits, run_dir: Path, *, resume: bool = False, callbacks: list | None = None
) -> TrainedGenerator:
    from molgen.training.generative import LanguageModelModule, TokenDataModule
    from molgen.training.trainer import build_trainer, run

    gen = model_section(cfg, CharRNNConfig)
    encoded = encode_splits(cfg, data.train, data.val)
    sizes = sizes_of(cfg)
    model = build(sizes, len(encoded.codec))
    module = LanguageModelModule(model, cfg.optim)
    datamodule = TokenDataModule(encoded.train, encoded.val, batch_size=cfg.data.batch_size, seed=cfg.trainer.seed)
    trainer = build_trainer(cfg.trainer, run_dir, monitor="val/loss", mode="min", extra_callbacks=callbacks)
    start = time.perf_counter()
    outcome = run(module, datamodule, trainer, resume=resume, test=False)
    elapsed = time.perf_counter() - start
    spec = {
        "generator": NAME,
        "tokenizer": encoded.codec.to_dict(),
        "sizes": sizes,
        "max_length": gen.max_length,
        "temperature": gen.temperature,
    }
    generator = CharRNNGenerator(model, encoded.codec, gen.max_length, gen.temperature)
    details = {
        "epochs": outcome.epochs,
        "n_too_long": encoded.n_too_long,
        "train_s": elapsed,
        "train_tokens_per_epoch": encoded.n_train_tokens,
        "padding_fraction": datamodule.train_batches.padding_fraction,
    }
    return TrainedGenerator(module=model, spec=spec, val=outcome.val, generator=generator, details=details)


def load(model_dir: Path, spec: ModelSpec) -> CharRNNGenerator:
    codec = TokenCodec.from_dict(spec_field(spec, "tokenizer"))
    model = build(spec_field(spec, "sizes"), len(codec))
    model.load_state_dict(read_weights(model_dir), strict=True)
    return CharRNNGenerator(model, codec, int(spec_field(spec, "max_length")), float(getattr(spec, "temperature", 1.0)))


@register_generator("charrnn")
class CharRNNRecipe:
    train = staticmethod(train)
    load = staticmethod(load)
