"""Molecule generators as plain ``torch.nn`` modules (no Lightning), and the :class:`Generator` protocol.

One architecture per file: ``charrnn.py`` (LSTM language model), ``smiles_vae.py`` (GRU VAE over SMILES or
SELFIES tokens), ``latent_gan.py`` and ``molgan.py``. A trained, loaded generator (``molgen.families.generation.family.
load_generator``) satisfies :class:`Generator`; VAE-like ones also satisfy :class:`LatentGenerator`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Generator", "LatentGenerator"]


@runtime_checkable
class Generator(Protocol):
    """Something that samples molecules as SMILES strings."""

    def sample(self, n: int, *, seed: int | None = None, batch_size: int = 512) -> list[str]:
        """Exactly ``n`` strings. An invalid or undecodable sample is returned as its decoded string (``""``
        when nothing decodes), never dropped, so validity can be measured. The same seed gives the same list."""
        ...


@runtime_checkable
class LatentGenerator(Generator, Protocol):
    """A generator with a continuous latent space (the VAE): the autoencoder LatentGAN and latent
    optimization work through."""

    latent_dim: int

    def encode(self, smiles: Sequence[str]) -> np.ndarray:
        """Latent means ``[N, latent_dim]`` (float32) of valid SMILES; a token outside the vocabulary raises
        ValueError naming the token and the SMILES."""
        ...

    def decode(self, z: np.ndarray, batch_size: int = 512) -> list[str]:
        """Greedy decoding of latent codes ``[N, latent_dim]`` → ``N`` strings (``""`` when nothing decodes),
        ``batch_size`` codes at a time."""
        ...
