"""The three pretraining objectives on every graph encoder: finite losses, gradients into the encoder, NaN targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.conftest import MOLECULES

from molgen.chem.featurize.graphs import FeaturizerSpec
from molgen.chem.pretraining_chunks import BOND_TYPE_COLUMNS, atom_type_columns, featurize_chunk
from molgen.families.property import GRAPH_ENCODERS
from molgen.models.pretraining import PretrainModel

NAMES = ("MolWt", "TPSA", "NumHDonors")


@pytest.fixture(scope="module")
def batch():
    chunk = featurize_chunk(MOLECULES[:12] + ["not_a_smiles"], FeaturizerSpec(), NAMES)
    assert chunk.n_invalid == 1 and chunk.descriptors is not None and chunk.descriptors.shape == (12, 3)
    batch = chunk.graphs.collate(np.arange(12))
    batch.descriptors = torch.from_numpy(chunk.descriptors)
    batch.descriptors[0, 1] = float("nan")  # a descriptor RDKit could not compute
    return batch


@pytest.mark.parametrize("name", ["dmpnn", "gin", "gcn", "gat", "attentivefp"])
def test_every_encoder_learns_both_objectives(name: str, batch) -> None:
    torch.manual_seed(0)
    encoder = GRAPH_ENCODERS.get(name)(atom_dim=72, bond_dim=14, hidden_dim=8, depth=2, dropout=0.0)
    values = batch.descriptors.nan_to_num()
    model = PretrainModel(
        encoder, descriptor_mean=values.mean(0), descriptor_std=values.std(0), atom_types=atom_type_columns("v2"),
        contrastive=True, ffn_hidden_dim=8,
    )  # fmt: skip
    generator = torch.Generator().manual_seed(1)
    masking = model.masking_loss(batch, 0.15, atom_type_columns("v2"), BOND_TYPE_COLUMNS, generator)
    descriptors = model.descriptor_loss(batch, 0.15, generator)
    contrastive = model.contrastive_loss(batch, 0.15, generator)
    assert torch.isfinite(masking) and torch.isfinite(descriptors) and torch.isfinite(contrastive)
    (masking + descriptors + contrastive).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in encoder.parameters() if p.requires_grad)
    again = model.masking_loss(
        batch, 0.15, atom_type_columns("v2"), BOND_TYPE_COLUMNS, torch.Generator().manual_seed(1)
    )
    assert torch.equal(again.detach(), masking.detach())  # seeded masks: validation losses compare across epochs


def test_masked_atoms_lose_their_features(batch) -> None:
    """The model sees masked atoms as zero rows: predicting their element is then a real task."""
    seen = {}

    class Spy(torch.nn.Module):
        out_dim = 4

        def embed_atoms(self, masked):
            seen["x"] = masked.x
            return torch.zeros(masked.x.shape[0], 4, requires_grad=True)

    model = PretrainModel(Spy(), descriptor_mean=None, descriptor_std=None, atom_types=39)
    model.masking_loss(batch, 0.5, 39, BOND_TYPE_COLUMNS, torch.Generator().manual_seed(0))
    zero = (seen["x"] == 0).all(1)
    assert 0 < int(zero.sum()) < batch.x.shape[0] and not bool((batch.x[zero] == 0).all(1).any())


def test_the_contrastive_loss_prefers_matching_views(batch) -> None:
    """NT-Xent is low when a molecule's two views embed alike and the batch's molecules apart (here: views unmasked)."""
    torch.manual_seed(0)
    encoder = GRAPH_ENCODERS.get("dmpnn")(atom_dim=72, bond_dim=14, hidden_dim=8, depth=2, dropout=0.0)
    model = PretrainModel(encoder, descriptor_mean=None, descriptor_std=None, atom_types=0, contrastive=True)
    same = model.contrastive_loss(batch, 0.0, torch.Generator().manual_seed(0))  # rate 0: one atom masked per view
    noisy = model.contrastive_loss(batch, 0.45, torch.Generator().manual_seed(0))
    assert float(same) < float(noisy)
