"""Batched autoregressive sampling shared by the token generators (CharRNN, the VAE decoder).

Rows that emitted ``<eos>`` leave the batch, so a step costs only the still-growing sequences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from molgen.chem.tokens import BOS_ID, EOS_ID, PAD_ID, UNK_ID

BANNED_IDS = (PAD_ID, BOS_ID, UNK_ID)
"""Ids a sampler never emits."""

StepFn = Callable[[torch.Tensor, Any, torch.Tensor], tuple[torch.Tensor, Any]]


def select_state(state: Any, index: torch.Tensor) -> Any:
    """Rows ``index`` of a recurrent state: a ``[layers, B, H]`` tensor or a tuple of them (LSTM)."""
    if isinstance(state, tuple):
        return tuple(s.index_select(1, index) for s in state)
    return state.index_select(1, index)


def sample_sequences(
    step: StepFn,
    state: Any,
    n: int,
    max_length: int,
    *,
    temperature: float = 1.0,
    greedy: bool = False,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Samples ``n`` token sequences.

    Args:
        step: ``step(tokens [b], state, rows [b]) -> (logits [b, V], new_state)`` for the ``b`` active rows;
            ``rows`` are their positions among the ``n`` (e.g. to pick each row's latent code).
        state: initial recurrent state for all ``n`` rows (None allowed).
        max_length: most tokens per sequence (without ``<bos>``; ``<eos>`` included).
        temperature: softmax temperature (> 0); ignored when ``greedy``.
        greedy: take the most likely token instead of sampling.
        generator: a seeded ``torch.Generator`` on ``device`` for reproducible samples.

    Returns:
        ``[n, max_length]`` int64 ids, ``<pad>`` after each ``<eos>``.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    out = torch.full((n, max_length), PAD_ID, dtype=torch.long, device=device)
    rows = torch.arange(n, device=device)
    tokens = torch.full((n,), BOS_ID, dtype=torch.long, device=device)
    banned = torch.tensor(BANNED_IDS, device=device)
    for t in range(max_length):
        logits, state = step(tokens, state, rows)
        logits = logits.float()
        logits[:, banned] = -torch.inf
        if greedy:
            tokens = logits.argmax(-1)
        else:
            probs = torch.softmax(logits / temperature, dim=-1)
            tokens = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        out[rows, t] = tokens
        keep = (tokens != EOS_ID).nonzero().squeeze(1)
        if keep.numel() == 0:
            break
        if keep.numel() < rows.numel():
            rows, tokens = rows[keep], tokens[keep]
            state = None if state is None else select_state(state, keep)
    return out


def make_generator(seed: int | None, device: torch.device | str) -> torch.Generator:
    """A ``torch.Generator`` on ``device``, seeded (or randomly seeded when ``seed`` is None)."""
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(int(seed))
    return generator
