"""CharRNN: an LSTM language model over SMILES (or SELFIES) tokens — the MOSES baseline.

Segler et al., "Generating Focused Molecule Libraries for Drug Discovery with Recurrent Neural Networks",
ACS Cent. Sci. 2018; MOSES trains it with 3 LSTM layers of 768 units and dropout 0.2.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from molgen.chem.tokens import PAD_ID, TokenCodec
from molgen.models.generative.sampling import make_generator, sample_sequences


class CharRNN(nn.Module):
    """Token embedding → LSTM (``depth`` × ``hidden_dim``) → logits over the vocabulary.

    Args:
        vocab_size: tokens, specials included.
        embedding_dim: token embedding size.
        hidden_dim: LSTM width.
        depth: number of LSTM layers.
        dropout: between LSTM layers and before the output layer.

    Shapes:
        forward: ids ``[B, L]`` (int64, padded with ``<pad>``), lengths ``[B]`` → logits ``[B, L, V]``.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_dim: int, depth: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.vocab_size, self.embedding_dim, self.hidden_dim, self.depth, self.dropout_p = (
            vocab_size,
            embedding_dim,
            hidden_dim,
            depth,
            dropout,
        )
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim, depth, batch_first=True, dropout=dropout if depth > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden_dim, vocab_size)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(self.embedding(ids), lengths.cpu(), batch_first=True, enforce_sorted=False)
        hidden, _ = self.lstm(packed)
        hidden, _ = pad_packed_sequence(hidden, batch_first=True, total_length=ids.shape[1])
        return self.output(self.dropout(hidden))

    def step(self, tokens: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None) -> tuple[torch.Tensor, tuple]:
        """One token per row: ``[b]`` → logits ``[b, V]`` and the new ``(h, c)`` state."""
        hidden, state = self.lstm(self.embedding(tokens).unsqueeze(1), state)
        return self.output(hidden.squeeze(1)), state

    def extra_repr(self) -> str:
        return (
            f"vocab_size={self.vocab_size}, hidden_dim={self.hidden_dim}, depth={self.depth}, dropout={self.dropout_p}"
        )


class CharRNNGenerator:
    """A trained :class:`CharRNN` with its token codec: samples SMILES (the ``Generator`` protocol).

    Args:
        model: the trained network (put in eval mode here).
        codec: tokenizer + vocabulary it was trained with.
        max_length: most tokens per sample.
        temperature: default sampling temperature.
    """

    def __init__(self, model: CharRNN, codec: TokenCodec, max_length: int, temperature: float = 1.0) -> None:
        self.model, self.codec = model.eval(), codec
        self.max_length, self.temperature = max_length, temperature

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.inference_mode()
    def sample(
        self, n: int, *, seed: int | None = None, batch_size: int = 512, temperature: float | None = None
    ) -> list[str]:
        """``n`` SMILES (invalid ones included as decoded); the same seed and batch size give the same list."""
        generator = make_generator(seed, self.device)
        temperature = self.temperature if temperature is None else temperature
        out: list[str] = []
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            ids = sample_sequences(
                lambda tokens, state, rows: self.model.step(tokens, state),
                None,
                size,
                self.max_length + 1,
                temperature=temperature,
                generator=generator,
                device=self.device,
            )
            out.extend(self.codec.decode_batch(ids.cpu().numpy()))
        return out
