"""SMILES/SELFIES VAE recipe: tokens → GRU VAE on the shared training core → ``VAEGenerator``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from molgen.chem.tokens import TokenCodec
from molgen.config import RunConfig, VAEConfig, model_section
from molgen.families.base import register_generator
from molgen.families.generation.family import SmilesSplits, TrainedGenerator, read_weights, spec_field
from molgen.families.generation.tokens import encode_splits, sizes_of
from molgen.models.generative.smiles_vae import SmilesVAE, VAEGenerator
from molgen.training.artifacts import ModelSpec

NAME = "vae"


def build(sizes: dict[str, Any], vocab_size: int) -> SmilesVAE:
    return SmilesVAE(
        vocab_size,
        embedding_dim=sizes["embedding_dim"],
        encoder_hidden_dim=sizes["encoder_hidden_dim"],
        encoder_depth=sizes["encoder_depth"],
        latent_dim=sizes["latent_dim"],
        decoder_hidden_dim=sizes["hidden_dim"],
        decoder_depth=sizes["depth"],
        dropout=sizes["dropout"],
    )


def train(
    cfg: RunConfig, data: SmilesSplits, run_dir: Path, *, resume: bool = False, callbacks: list | None = None
) -> TrainedGenerator:
    from molgen.training.generative import KLSchedule, TokenDataModule, VAEModule
    from molgen.training.trainer import build_trainer, run

    g = model_section(cfg, VAEConfig)
    encoded = encode_splits(cfg, data.train, data.val)
    sizes = sizes_of(cfg)
    model = build(sizes, len(encoded.codec))
    schedule = KLSchedule(g.kl_weight_start, g.kl_weight_end, g.kl_anneal_start, g.kl_anneal_epochs)
    module = VAEModule(model, cfg.optim, schedule)
    datamodule = TokenDataModule(encoded.train, encoded.val, batch_size=cfg.data.batch_size, seed=cfg.trainer.seed)
    trainer = build_trainer(cfg.trainer, run_dir, monitor="val/loss", mode="min", extra_callbacks=callbacks)
    start = time.perf_counter()
    outcome = run(module, datamodule, trainer, resume=resume, test=False)
    elapsed = time.perf_counter() - start
    spec = {
        "generator": NAME,
        "tokenizer": encoded.codec.to_dict(),
        "sizes": sizes,
        "max_length": g.max_length,
        "temperature": g.temperature,
    }
    generator = VAEGenerator(model, encoded.codec, g.max_length, g.temperature)
    details = {
        "epochs": outcome.epochs,
        "n_too_long": encoded.n_too_long,
        "train_s": elapsed,
        "train_tokens_per_epoch": encoded.n_train_tokens,
        "padding_fraction": datamodule.train_batches.padding_fraction,
    }
    return TrainedGenerator(module=model, spec=spec, val=outcome.val, generator=generator, details=details)


def load(model_dir: Path, spec: ModelSpec) -> VAEGenerator:
    codec = TokenCodec.from_dict(spec_field(spec, "tokenizer"))
    model = build(spec_field(spec, "sizes"), len(codec))
    model.load_state_dict(read_weights(model_dir), strict=True)
    return VAEGenerator(model, codec, int(spec_field(spec, "max_length")), float(getattr(spec, "temperature", 1.0)))


@register_generator("vae")
class VAERecipe:
    train = staticmethod(train)
    load = staticmethod(load)
