"""A variational autoencoder over SMILES or SELFIES tokens (GRU encoder and decoder), as in MOSES.

Gómez-Bombarelli et al., "Automatic Chemical Design Using a Data-Driven Continuous Representation of
Molecules", ACS Cent. Sci. 2018; MOSES: a bidirectional GRU encoder (256) → z (128) → a 3×512 GRU decoder that
sees z at every step and starts from a state computed from z.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from molgen.chem.tokens import PAD_ID, TokenCodec
from molgen.models.generative.sampling import make_generator, sample_sequences


class SmilesVAE(nn.Module):
    """Token VAE.

    Args:
        vocab_size: tokens, specials included.
        embedding_dim: token embedding size (shared by encoder and decoder).
        encoder_hidden_dim: width of the bidirectional GRU encoder.
        encoder_depth: layers of the bidirectional GRU encoder.
        latent_dim: size of z.
        decoder_hidden_dim: width of the GRU decoder.
        decoder_depth: layers of the GRU decoder.
        dropout: between decoder layers.

    Shapes:
        encode: ids ``[B, L]``, lengths ``[B]`` → (mu ``[B, Z]``, logvar ``[B, Z]``).
        decode_logits: ids ``[B, L]`` (decoder inputs), lengths ``[B]``, z ``[B, Z]`` → logits ``[B, L, V]``.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        encoder_hidden_dim: int,
        encoder_depth: int,
        latent_dim: int,
        decoder_hidden_dim: int,
        decoder_depth: int,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.vocab_size, self.latent_dim = vocab_size, latent_dim
        self.decoder_hidden_dim, self.decoder_depth = decoder_hidden_dim, decoder_depth
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        self.encoder = nn.GRU(embedding_dim, encoder_hidden_dim, encoder_depth, batch_first=True, bidirectional=True)
        self.to_mu = nn.Linear(2 * encoder_hidden_dim, latent_dim)
        self.to_logvar = nn.Linear(2 * encoder_hidden_dim, latent_dim)
        self.latent_to_hidden = nn.Linear(latent_dim, decoder_hidden_dim * decoder_depth)
        self.decoder = nn.GRU(
            embedding_dim + latent_dim,
            decoder_hidden_dim,
            decoder_depth,
            batch_first=True,
            dropout=dropout if decoder_depth > 1 else 0.0,
        )
        self.output = nn.Linear(decoder_hidden_dim, vocab_size)

    def encode(self, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        packed = pack_padded_sequence(self.embedding(ids), lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, hidden = self.encoder(packed)  # [layers * 2, B, H]
        last = torch.cat([hidden[-2], hidden[-1]], dim=-1)  # both directions of the top layer
        return self.to_mu(last), self.to_logvar(last)

    def initial_state(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder state ``[depth, B, H]`` from z ``[B, Z]``."""
        return (
            self.latent_to_hidden(z)
            .view(z.shape[0], self.decoder_depth, self.decoder_hidden_dim)
            .transpose(0, 1)
            .contiguous()
        )

    def decode_logits(self, ids: torch.Tensor, lengths: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        inputs = torch.cat([self.embedding(ids), z.unsqueeze(1).expand(-1, ids.shape[1], -1)], dim=-1)
        packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
        hidden, _ = self.decoder(packed, self.initial_state(z))
        hidden, _ = pad_packed_sequence(hidden, batch_first=True, total_length=ids.shape[1])
        return self.output(hidden)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Teacher-forced reconstruction of ``ids`` (``<bos> … <eos>``): logits ``[B, L-1, V]`` predicting
        ``ids[:, 1:]``, and the posterior's mu and logvar."""
        mu, logvar = self.encode(ids, lengths)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode_logits(ids[:, :-1], lengths - 1, z), mu, logvar

    def step(self, tokens: torch.Tensor, state: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One decoder step for ``b`` rows: tokens ``[b]``, state ``[depth, b, H]``, z ``[b, Z]`` → logits ``[b, V]``."""
        inputs = torch.cat([self.embedding(tokens), z], dim=-1).unsqueeze(1)
        hidden, state = self.decoder(inputs, state)
        return self.output(hidden.squeeze(1)), state


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) ‖ N(0, I)) per molecule, averaged over the batch (nats)."""
    return 0.5 * (logvar.exp() + mu.pow(2) - 1.0 - logvar).sum(dim=1).mean()


class VAEGenerator:
    """A trained :class:`SmilesVAE` with its codec: ``sample`` (z ~ N(0, I)), ``encode`` and ``decode``.

    Args:
        model: the trained network (put in eval mode here).
        codec: tokenizer + vocabulary it was trained with.
        max_length: most tokens per decoded molecule.
        temperature: default sampling temperature.
    """

    def __init__(self, model: SmilesVAE, codec: TokenCodec, max_length: int, temperature: float = 1.0) -> None:
        self.model, self.codec = model.eval(), codec
        self.max_length, self.temperature = max_length, temperature
        self.latent_dim = model.latent_dim

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.inference_mode()
    def sample(
        self, n: int, *, seed: int | None = None, batch_size: int = 512, temperature: float | None = None
    ) -> list[str]:
        """``n`` SMILES decoded (by sampling tokens) from z drawn from the prior; invalid ones included."""
        generator = make_generator(seed, self.device)
        out: list[str] = []
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            z = torch.randn(size, self.latent_dim, generator=generator, device=self.device)
            out.extend(self._decode(z, greedy=False, generator=generator, temperature=temperature))
        return out

    @torch.inference_mode()
    def encode(self, smiles: Sequence[str], batch_size: int = 512) -> np.ndarray:
        """Posterior means ``[N, latent_dim]`` (float32); an unknown token raises TokenizationError."""
        chunks = []
        for start in range(0, len(smiles), batch_size):
            encoded = [torch.as_tensor(self.codec.encode(s)) for s in smiles[start : start + batch_size]]
            lengths = torch.tensor([len(e) for e in encoded])
            ids = nn.utils.rnn.pad_sequence(encoded, batch_first=True, padding_value=PAD_ID).to(self.device)
            mu, _ = self.model.encode(ids, lengths)
            chunks.append(mu.float().cpu().numpy())
        return np.concatenate(chunks) if chunks else np.zeros((0, self.latent_dim), dtype=np.float32)

    @torch.inference_mode()
    def decode(
        self, z: np.ndarray, batch_size: int = 512, *, greedy: bool = True, seed: int | None = None
    ) -> list[str]:
        """Latent codes ``[N, latent_dim]`` → N strings (greedy decoding by default; ``""`` when nothing decodes)."""
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"latent codes must have shape [N, {self.latent_dim}], got {list(z.shape)}")
        generator = None if greedy else make_generator(seed, self.device)
        out: list[str] = []
        for start in range(0, len(z), batch_size):
            chunk = torch.as_tensor(z[start : start + batch_size], device=self.device)
            out.extend(self._decode(chunk, greedy=greedy, generator=generator))
        return out

    def _decode(
        self, z: torch.Tensor, *, greedy: bool, generator: torch.Generator | None, temperature: float | None = None
    ) -> list[str]:
        ids = sample_sequences(
            lambda tokens, state, rows: self.model.step(tokens, state, z[rows]),
            self.model.initial_state(z),
            z.shape[0],
            self.max_length + 1,
            temperature=self.temperature if temperature is None else temperature,
            greedy=greedy,
            generator=generator,
            device=self.device,
        )
        return self.codec.decode_batch(ids.cpu().numpy())
