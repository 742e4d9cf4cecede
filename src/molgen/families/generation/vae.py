"""SMILES/SELFIES VAE recipe: tokens → GRU VAE on the shared training core → ``VAEGenerator``."""

from __future__ import annotations

from typing import Any

from molgen.config import RunConfig, VAEConfig, model_section
from molgen.families.base import register_generator
from molgen.families.generation.tokens import TokenRecipe
from molgen.models.generative.smiles_vae import SmilesVAE, VAEGenerator


@register_generator("vae")
class VAERecipe(TokenRecipe):
    name = "vae"
    section = VAEConfig
    generator = VAEGenerator

    @staticmethod
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

    @classmethod
    def module(cls, cfg: RunConfig, network: Any) -> Any:
        from molgen.training.generative import KLSchedule, VAEModule

        g = model_section(cfg, VAEConfig)
        return VAEModule(
            network, cfg.optim, KLSchedule(g.kl_weight_start, g.kl_weight_end, g.kl_anneal_start, g.kl_anneal_epochs)
        )
