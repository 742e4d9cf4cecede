"""Pieces of the GAN recipes that need no training: skipping unrepresentable molecules, rewards, sizes."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from molgen.chem.featurize.dense_graphs import DenseGraphSpec
from molgen.chem.scores import reward_scores
from molgen.families.generation import molgan
from molgen.models.generative.latent_gan import encode_all, network_sizes
from molgen.models.generative.molgan import network_sizes as molgan_sizes
from molgen.registry import UnknownNameError


def test_molgan_reports_skipped_training_molecules_with_their_data_rows(caplog: pytest.LogCaptureFixture) -> None:
    smiles = ["CCO", "CCCCCCCCCC", "CCCl", "C[NH3+]", "OC=O"]
    with caplog.at_level(logging.WARNING, logger="molgen"):
        graphs = molgan.encode_split(smiles, [10, 11, 12, 13, 14], DenseGraphSpec(), "training")
    assert len(graphs) == 2 and len(graphs.skipped) == 3
    assert "3 of 5 training molecule(s)" in caplog.text
    assert "data row 11: 'CCCCCCCCCC': 10 heavy atoms" in caplog.text
    assert "data row 12: 'CCCl': element Cl" in caplog.text and "data row 13" in caplog.text


def test_rewards_are_normalized_scores_and_zero_for_invalid() -> None:
    qed = reward_scores("qed")(["CCO", "", "not a smiles", "c1ccccc1O", "CCO.O"])
    assert qed.dtype == np.float32 and qed[1] == qed[2] == qed[4] == 0.0
    assert 0 < qed[0] < 1 and 0 < qed[3] < 1
    logp = reward_scores("logp")(["CCCCCCCCC", "OCC(O)CO"])
    assert 0.0 <= logp[1] < logp[0] <= 1.0
    with pytest.raises(UnknownNameError, match="valid names: logp, qed, sa"):
        reward_scores("potency")


def test_paper_sizes_come_from_the_model_section() -> None:
    sizes = molgan_sizes(hidden_dim=512, depth=3)
    assert sizes["generator_dims"] == [128, 256, 512] and sizes["conv_dims"] == [128, 64]
    assert sizes["aggregation_dim"] == 128 and sizes["mlp_dims"] == [128, 64] and sizes["noise_dim"] == 32
    sizes = network_sizes(hidden_dim=1024, depth=4, latent_dim=512)
    assert sizes["generator_dims"] == [128, 256, 512, 1024] and sizes["critic_dims"] == [512, 256]
    assert sizes["noise_dim"] == 512


class _Autoencoder:
    """A stand-in with the VAE's encode contract: a molecule containing Cl is out of its vocabulary."""

    latent_dim = 3

    def encode(self, smiles: list[str]) -> np.ndarray:
        for s in smiles:
            if "Cl" in s:
                raise ValueError(f"token 'Cl' of {s!r} is not in the vocabulary")
        return np.ones((len(smiles), 3), dtype=np.float32)


def test_latentgan_skips_molecules_the_autoencoder_cannot_encode(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="molgen"):
        codes = encode_all(_Autoencoder(), ["CCO", "CCCl", "CCN"], [5, 6, 7], "training")
    assert codes.shape == (2, 3)
    assert "cannot encode 1 of 3 training molecule(s)" in caplog.text and "data row 6: 'CCCl'" in caplog.text
