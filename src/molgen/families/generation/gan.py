"""What LatentGAN and MolGAN train alike: the WGAN-GP options taken from the run config, and the fit itself.

The GAN modules (:mod:`molgen.training.gan`) hold no chemistry; the scorer of the molecules sampled at each
validation (:func:`molgen.evaluation.generation.basic.sample_metrics`) is passed in here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from molgen.config import GANModelConfig, RunConfig
from molgen.config import replace as config_replace


def wgan_options(cfg: RunConfig, gen: GANModelConfig) -> dict[str, Any]:
    """Keyword arguments every :class:`~molgen.training.gan.WGANModule` takes, from ``cfg`` and its GAN section."""
    from molgen.evaluation.generation.basic import sample_metrics

    return {
        "lr": cfg.optim.lr,
        "lr_critic": gen.lr_discriminator,
        "betas": (gen.adam_beta1, 0.999),
        "n_critic": gen.n_critic,
        "gp_weight": gen.gradient_penalty,
        "fake_batch_size": cfg.data.batch_size,
        "val_sample_size": gen.val_sample_size,
        "gradient_clip_val": cfg.trainer.gradient_clip_val,
        "score_samples": sample_metrics,
    }


def fit_gan(
    module: Any,
    train: list[torch.Tensor],
    val: list[torch.Tensor],
    cfg: RunConfig,
    run_dir: Path,
    *,
    resume: bool = False,
    callbacks: list | None = None,
) -> Any:
    """Trains ``module`` on the ``train`` tensors (rows along dim 0), validating on ``val``; the trainer's outcome."""
    from molgen.training.gan import MONITOR, TensorDataModule
    from molgen.training.trainer import build_trainer, run

    datamodule = TensorDataModule(train, val, cfg.data.batch_size, seed=cfg.trainer.seed)
    # Lightning cannot clip gradients under manual optimization; the module clips each optimizer itself.
    trainer_cfg = config_replace(cfg.trainer, gradient_clip_val=None)
    trainer = build_trainer(trainer_cfg, run_dir, monitor=MONITOR, mode="max", extra_callbacks=callbacks)
    return run(module, datamodule, trainer, resume=resume, test=False)
