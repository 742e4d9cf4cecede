"""CharRNN and the SMILES VAE: shapes, packed = unpacked, batched sampling stops at <eos>."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molgen.chem.tokens import BOS_ID, EOS_ID, PAD_ID, TokenCodec
from molgen.models.generative import Generator, LatentGenerator
from molgen.models.generative.charrnn import CharRNN, CharRNNGenerator
from molgen.models.generative.sampling import sample_sequences
from molgen.models.generative.smiles_vae import SmilesVAE, VAEGenerator


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.tensor([[BOS_ID, 5, 6, 7, EOS_ID], [BOS_ID, 5, EOS_ID, PAD_ID, PAD_ID]])
    return ids, torch.tensor([5, 3])


def test_charrnn_padding_does_not_change_logits() -> None:
    torch.manual_seed(0)
    model = CharRNN(10, 8, 16, 2).eval()
    ids, lengths = _batch()
    logits = model(ids, lengths)
    assert logits.shape == (2, 5, 10)
    alone = model(ids[1:, :3], lengths[1:])
    torch.testing.assert_close(logits[1, :3], alone[0])


def test_vae_shapes() -> None:
    model = SmilesVAE(10, 8, 12, 1, 4, 16, 2)
    ids, lengths = _batch()
    logits, mu, logvar = model(ids, lengths)
    assert logits.shape == (2, 4, 10) and mu.shape == logvar.shape == (2, 4)


def test_sampling_stops_at_eos_and_never_emits_specials() -> None:
    codec = TokenCodec.fit("smiles", ["CCO", "CCN"])
    model = CharRNN(len(codec), 8, 16, 1)
    ids = sample_sequences(lambda t, s, r: model.step(t, s), None, 64, 12, generator=torch.Generator().manual_seed(0))
    assert ids.shape == (64, 12)
    for row in ids.tolist():
        assert BOS_ID not in row and 3 not in row
        if EOS_ID in row:
            assert all(t == PAD_ID for t in row[row.index(EOS_ID) + 1 :])
        assert PAD_ID not in row[: row.index(EOS_ID) if EOS_ID in row else len(row)]


def test_generators_follow_the_protocol_and_are_seeded() -> None:
    codec = TokenCodec.fit("smiles", ["CCO", "CCN", "c1ccccc1"])
    lm = CharRNNGenerator(CharRNN(len(codec), 8, 16, 1), codec, max_length=10)
    vae = VAEGenerator(SmilesVAE(len(codec), 8, 12, 1, 4, 16, 1), codec, max_length=10)
    assert isinstance(lm, Generator) and not isinstance(lm, LatentGenerator)
    assert isinstance(vae, LatentGenerator)
    for generator in (lm, vae):
        first = generator.sample(7, seed=1, batch_size=3)
        assert len(first) == 7 and first == generator.sample(7, seed=1, batch_size=3)
    z = vae.encode(["CCO", "c1ccccc1"])
    assert z.shape == (2, 4) and z.dtype == np.float32
    assert len(vae.decode(z)) == 2
    with pytest.raises(ValueError, match=r"shape \[N, 4\]"):
        vae.decode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="temperature"):
        lm.sample(2, temperature=0.0)
