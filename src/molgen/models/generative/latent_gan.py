"""LatentGAN networks: a WGAN-GP on an autoencoder's latent codes (Prykhodko et al. 2019, as in MOSES).

The generator maps Gaussian noise to a latent code; a trained autoencoder (a molgen SMILES VAE) decodes
the code to a SMILES. The critic scores latent codes. MOSES's sizes, for 512-dimensional codes:
generator widths [128, 256, 512, 1024] (batch norm after all but the first, LeakyReLU 0.2), critic
widths [512, 256] (LeakyReLU 0.2). The generator's output is linear, not tanh: the VAE's codes are
unbounded, and the recipe trains on standardized codes (see :class:`LatentGAN`).

Shapes: noise ``[B, noise_dim]``, codes ``[B, latent_dim]``, critic scores ``[B]``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

log = logging.getLogger("molgen")
ENCODE_CHUNK = 1024


class LatentGenerator(nn.Module):
    """``noise [B, noise_dim]`` → ``codes [B, latent_dim]``."""

    def __init__(self, noise_dim: int, latent_dim: int, hidden_dims: Sequence[int] = (128, 256, 512, 1024)) -> None:
        super().__init__()
        self.noise_dim, self.latent_dim, self.hidden_dims = noise_dim, latent_dim, tuple(hidden_dims)
        layers: list[nn.Module] = []
        width = noise_dim
        for i, dim in enumerate(hidden_dims):
            layers.append(nn.Linear(width, dim))
            if i > 0:
                layers.append(nn.BatchNorm1d(dim, eps=0.8))  # eps=0.8 as in the MOSES/PyTorch-GAN reference
            layers.append(nn.LeakyReLU(0.2))
            width = dim
        layers.append(nn.Linear(width, latent_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        return self.net(noise)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(noise_dim={self.noise_dim}, latent_dim={self.latent_dim}, hidden_dims={self.hidden_dims})"


class LatentCritic(nn.Module):
    """``codes [B, latent_dim]`` → Wasserstein critic scores ``[B]`` (no batch norm: it breaks the gradient penalty)."""

    def __init__(self, latent_dim: int, hidden_dims: Sequence[int] = (512, 256)) -> None:
        super().__init__()
        self.latent_dim, self.hidden_dims = latent_dim, tuple(hidden_dims)
        layers: list[nn.Module] = []
        width = latent_dim
        for dim in hidden_dims:
            layers += [nn.Linear(width, dim), nn.LeakyReLU(0.2)]
            width = dim
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return self.net(codes).squeeze(-1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(latent_dim={self.latent_dim}, hidden_dims={self.hidden_dims})"


class LatentGAN(nn.Module):
    """Generator + critic + the standardization of the autoencoder's codes (buffers, exported with the weights).

    The GAN works on ``(code - mean) / std``; :meth:`sample_codes` returns codes in the autoencoder's scale.
    """

    code_mean: torch.Tensor
    code_std: torch.Tensor

    def __init__(self, generator: LatentGenerator, critic: LatentCritic) -> None:
        super().__init__()
        if generator.latent_dim != critic.latent_dim:
            raise ValueError(
                f"generator makes {generator.latent_dim}-d codes but the critic reads {critic.latent_dim}-d"
            )
        self.generator, self.critic = generator, critic
        self.register_buffer("code_mean", torch.zeros(generator.latent_dim))
        self.register_buffer("code_std", torch.ones(generator.latent_dim))

    def set_code_statistics(self, codes: torch.Tensor) -> None:
        """Stores the mean and std ``[latent_dim]`` of the training codes ``[M, latent_dim]``."""
        self.code_mean.copy_(codes.mean(0))
        self.code_std.copy_(codes.std(0).clamp_min(1e-6) if len(codes) > 1 else torch.ones_like(self.code_std))

    def standardize(self, codes: torch.Tensor) -> torch.Tensor:
        return (codes - self.code_mean) / self.code_std

    @torch.no_grad()
    def sample_codes(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` codes ``[n, latent_dim]`` in the autoencoder's scale (generator in eval mode)."""
        was_training = self.generator.training
        self.generator.eval()
        device = self.code_mean.device
        noise = torch.randn(n, self.generator.noise_dim, generator=generator).to(device)
        codes = self.generator(noise) * self.code_std + self.code_mean
        self.generator.train(was_training)
        return codes


def build_model(sizes: dict[str, Any]) -> LatentGAN:
    """The LatentGAN of the ``sizes`` recorded in ``model.yaml`` (``noise_dim``, ``latent_dim``, ``generator_dims``, ``critic_dims``)."""
    generator = LatentGenerator(sizes["noise_dim"], sizes["latent_dim"], sizes["generator_dims"])
    return LatentGAN(generator, LatentCritic(sizes["latent_dim"], sizes["critic_dims"]))


class LatentGANSampler:
    """A trained LatentGAN as a :class:`~molgen.models.generative.Generator`: noise → codes → VAE decoder."""

    def __init__(self, model: LatentGAN, autoencoder: Any) -> None:
        self.model, self.autoencoder = model.eval(), autoencoder
        self.latent_dim = model.generator.latent_dim

    def sample_codes(self, n: int, *, seed: int | None = None, batch_size: int = 512) -> np.ndarray:
        """``n`` latent codes ``[n, latent_dim]`` in the autoencoder's scale."""
        rng = torch.Generator().manual_seed(seed) if seed is not None else None
        parts = [
            self.model.sample_codes(min(batch_size, n - s), rng).float().cpu().numpy() for s in range(0, n, batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.latent_dim), dtype=np.float32)

    def sample(self, n: int, *, seed: int | None = None, batch_size: int = 512) -> list[str]:
        codes = self.sample_codes(n, seed=seed, batch_size=batch_size)
        out: list[str] = []
        for start in range(0, n, batch_size):
            out += list(self.autoencoder.decode(codes[start : start + batch_size]))
        return out


def network_sizes(hidden_dim: int, depth: int, latent_dim: int, noise_dim: int | None = None) -> dict[str, Any]:
    """The generator's widths double up to ``hidden_dim`` over ``depth`` layers (1024, depth 4 → MOSES's
    [128, 256, 512, 1024]); the critic has the next two widths below ``hidden_dim``; noise defaults to the latent size."""
    depth = max(depth, 1)
    return {
        "latent_dim": latent_dim,
        "noise_dim": noise_dim or latent_dim,
        "generator_dims": [max(hidden_dim >> (depth - 1 - i), 8) for i in range(depth)],
        "critic_dims": [max(hidden_dim >> 1, 8), max(hidden_dim >> 2, 8)],
    }


def encode_all(autoencoder: Any, smiles: list[str], rows: list[int], subset: str) -> np.ndarray:
    """Latent codes ``[M, latent_dim]`` of the SMILES the autoencoder can encode; the others are logged
    with their data rows and skipped."""
    codes, problems = [], []
    for start in range(0, len(smiles), ENCODE_CHUNK):
        chunk = smiles[start : start + ENCODE_CHUNK]
        try:
            codes.append(np.asarray(autoencoder.encode(chunk), dtype=np.float32))
            continue
        except ValueError:
            pass  # find the molecules that fail, one at a time
        for offset, s in enumerate(chunk):
            try:
                codes.append(np.asarray(autoencoder.encode([s]), dtype=np.float32))
            except ValueError as err:
                index = start + offset
                problems.append(f"  data row {rows[index] if index < len(rows) else index}: {s!r}: {err}")
    if problems:
        shown = "\n".join(problems[:20]) + (f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else "")
        log.warning(
            "LatentGAN: the autoencoder cannot encode %d of %d %s molecule(s); skipped:\n%s",
            len(problems),
            len(smiles),
            subset,
            shown,
        )
    width = int(autoencoder.latent_dim)
    return np.concatenate(codes) if codes else np.zeros((0, width), dtype=np.float32)
