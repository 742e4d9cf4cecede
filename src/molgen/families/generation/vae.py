"""SMILES/SELFIES VAE recipe: tokens → GRU VAE on the shared training core → ``VAEGenerator``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from molgen.chem.smiles_sets import SmilesSplits
from molgen.config import RunConfig, VAEConfig, model_section
from molgen.families.base import register_generator
from molgen.families.generation.family import TrainedGenerator
from molgen.families.generation.tokens import load_token_model, train_token_model
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
    from molgen.training.generative import KLSchedule, VAEModule

    g = model_section(cfg, VAEConfig)
    schedule = KLSchedule(g.kl_weight_start, g.kl_weight_end, g.kl_anneal_start, g.kl_anneal_epochs)
    return train_token_model(
        cfg,
        data,
        run_dir,
        name=NAME,
        build=build,
        make_module=lambda model: VAEModule(model, cfg.optim, schedule),
        make_generator=VAEGenerator,
        resume=resume,
        callbacks=callbacks,
    )


def load(model_dir: Path, spec: ModelSpec) -> VAEGenerator:
    return load_token_model(model_dir, spec, build, VAEGenerator)


@register_generator("vae")
class VAERecipe:
    train = staticmethod(train)
    load = staticmethod(load)
