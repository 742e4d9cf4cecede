"""LatentGAN recipe: a trained molgen VAE's latent codes → WGAN-GP → codes → the VAE's decoder → SMILES.

``model.autoencoder`` names a trained VAE (its run folder or ``model/``). The training SMILES are
encoded with its ``encode`` (latent means); molecules it cannot encode (a token outside its vocabulary,
too long) are reported with their data rows, counted and skipped. The GAN learns the standardized codes.
The VAE's model folder is copied into ``model/autoencoder/`` so the exported LatentGAN samples on its own.

Sizes: the generator has ``model.depth`` layers doubling up to ``model.hidden_dim`` (1024, depth 4 →
MOSES's [128, 256, 512, 1024]); the critic has the next two widths below ``hidden_dim`` ([512, 256]). The
noise is ``model.noise_dim`` wide, by default the autoencoder's latent size (as in MOSES).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from molgen.config import ConfigError, LatentGANConfig, RunConfig, model_section
from molgen.errors import DataSourceError, InvalidInputError
from molgen.families.base import register_generator
from molgen.models.generative.latent_gan import LatentGANSampler, build_model, encode_all, network_sizes
from molgen.training.artifacts import ModelSpec

log = logging.getLogger("molgen")
NAME = "latentgan"
AUTOENCODER_DIR = "autoencoder"


def _model_folder(path: str | Path) -> Path:
    """The ``model/`` folder of a run folder (or the folder itself when it already is one)."""
    path = Path(path)
    if (path / "model.yaml").is_file():
        return path
    if (path / "model" / "model.yaml").is_file():
        return path / "model"
    raise DataSourceError(
        f"model.autoencoder: {path} is not a trained molgen model (no model.yaml in it or in its model/); "
        "train a VAE first, e.g. `molgen train --config configs/generation/vae_smiles_moses.yaml`"
    )


def load_autoencoder(path: str | Path) -> Any:
    """A trained molgen VAE with ``encode``/``decode`` (anything else is an error naming what it is)."""
    from molgen.families.generation.family import load_generator

    model_dir = _model_folder(path)
    autoencoder = load_generator(model_dir)
    if not (hasattr(autoencoder, "encode") and hasattr(autoencoder, "decode") and hasattr(autoencoder, "latent_dim")):
        raise ConfigError(
            f"model.autoencoder: {model_dir} holds a {type(autoencoder).__name__}, which has no latent space "
            "(encode/decode); LatentGAN needs a VAE (model.name: vae)"
        )
    return autoencoder


def train(cfg: RunConfig, data: Any, run_dir: Path, *, resume: bool = False, callbacks: list | None = None) -> Any:
    """Trains the WGAN-GP on the autoencoder's codes of ``data.train`` and copies the autoencoder into ``model/``."""
    from molgen.evaluation.generation.basic import canonical_set
    from molgen.families.generation.family import TrainedGenerator
    from molgen.families.generation.gan import fit_gan, wgan_options
    from molgen.training.gan import MONITOR, LatentGANModule

    gen = model_section(cfg, LatentGANConfig)
    if not gen.autoencoder:
        raise ConfigError(
            "LatentGAN needs model.autoencoder: the run folder of a trained molgen VAE "
            "(train one first: `molgen train --config configs/generation/vae_smiles_moses.yaml`)"
        )
    source = _model_folder(gen.autoencoder)
    autoencoder = load_autoencoder(source)
    train_codes = encode_all(autoencoder, data.train, data.train_rows, "training")
    val_codes = encode_all(autoencoder, data.val, data.val_rows, "validation")
    if len(train_codes) < 2:
        raise InvalidInputError(
            f"LatentGAN: the autoencoder encodes {len(train_codes)} training molecule(s); at least 2 are needed"
        )
    sizes = network_sizes(gen.hidden_dim, gen.depth, int(autoencoder.latent_dim), gen.noise_dim)
    model = build_model(sizes)
    model.set_code_statistics(torch.as_tensor(train_codes))
    module = LatentGANModule(
        model,
        autoencoder.decode,
        train_smiles=canonical_set(data.train, isomeric=False),
        **wgan_options(cfg, gen),
    )
    train_set, val_set = [torch.as_tensor(train_codes)], [torch.as_tensor(val_codes)]
    outcome = fit_gan(module, train_set, val_set, cfg, run_dir, resume=resume, callbacks=callbacks)
    spec = {
        "generator": NAME,
        "sizes": sizes,
        "autoencoder": AUTOENCODER_DIR,
        "autoencoder_source": str(source),
        "monitor": MONITOR,
    }
    return TrainedGenerator(
        module=model,
        spec=spec,
        val=outcome.val,
        generator=LatentGANSampler(model, autoencoder),
        folders={AUTOENCODER_DIR: source},
        details={
            "epochs": outcome.epochs,
            "stopped": [outcome.stopped],
            "best_checkpoint": outcome.best_checkpoint,
            "n_train_codes": len(train_codes),
            "n_skipped": len(data.train) + len(data.val) - len(train_codes) - len(val_codes),
        },
    )


def load(model_dir: Path, spec: ModelSpec) -> LatentGANSampler:
    """The sampler of an exported LatentGAN, with the autoencoder copied into its folder."""
    from molgen.training.artifacts import read_weights, spec_field

    model = build_model(spec_field(spec, "sizes"))
    model.load_state_dict(read_weights(model_dir))
    autoencoder = load_autoencoder(Path(model_dir) / spec_field(spec, "autoencoder"))
    return LatentGANSampler(model, autoencoder)


@register_generator("latentgan")
class LatentGANRecipe:
    train = staticmethod(train)
    load = staticmethod(load)
