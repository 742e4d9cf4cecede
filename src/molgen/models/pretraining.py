"""A graph encoder with self-supervised heads: descriptor regression and attribute masking (plain torch).

- **descriptors** (CheMeleon-style, `Burns et al. 2025 <https://arxiv.org/abs/2506.15792>`_): an MLP on the
  molecule embedding predicts standardized RDKit 2D descriptors; a random fraction of the targets is left out of
  each step's loss, and missing values (NaN) always are.
- **masking** (`Hu et al. 2020 <https://arxiv.org/abs/1905.12265>`_, attribute masking): a fraction of the atoms
  get an all-zero feature row and a fraction of the bonds an all-zero bond row (both directions); linear heads on
  the atom embeddings (a bond: the sum of its two atoms') predict each masked atom's element and bond's type.
- **contrastive** (GraphCL, `You et al. 2020 <https://arxiv.org/abs/2010.13902>`_; MolCLR, Wang et al. 2022): two
  views of each molecule, each with its own random atom and bond masks (rate ``2 × mask_rate``), are embedded and
  projected; the NT-Xent loss (temperature 0.1) pulls the two views of a molecule together and pushes the other
  molecules of the batch away.

The encoder is any molgen graph encoder with ``embed_atoms`` (``[A, hidden]``) and ``out_dim``; its state-dict keys
(``encoder.*``) are the ones a property model's encoder has, so ``--init-from`` copies them as they are.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from molgen.models.heads import PredictionHead

OBJECTIVES = ("descriptors", "masking", "contrastive")
TEMPERATURE = 0.1
"""NT-Xent temperature of the contrastive objective (GraphCL's and MolCLR's)."""
DESCRIPTOR_CLIP = 10.0
"""Standardized descriptor targets are clipped to ±this (heavy-tailed descriptors would dominate the loss)."""


class PretrainModel(nn.Module):
    """``encoder`` plus the heads of the chosen objectives.

    Args:
        encoder: a graph encoder with ``embed_atoms`` and ``out_dim``.
        descriptor_mean / descriptor_std: ``[D]`` standardization of the descriptor targets (None: no descriptor head).
        atom_types: classes of the atom-type head (the atomic-number one-hot width; 0: no masking heads).
        bond_types: classes of the bond-type head.
        contrastive: add the projection head of the contrastive objective.
        ffn_hidden_dim / ffn_layers / dropout: the descriptor head's MLP.

    Shapes:
        :meth:`descriptor_loss` reads ``batch.descriptors [B, D]``; :meth:`masking_loss` reads ``x [A, atom_dim]``,
        ``edge_attr [E, bond_dim]`` (edges ``2k``/``2k+1`` are one bond).
    """

    descriptor_mean: Tensor
    descriptor_std: Tensor

    def __init__(
        self,
        encoder: nn.Module,
        *,
        descriptor_mean: Tensor | None,
        descriptor_std: Tensor | None,
        atom_types: int,
        bond_types: int = 4,
        contrastive: bool = False,
        ffn_hidden_dim: int = 300,
        ffn_layers: int = 2,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = int(encoder.out_dim)  # type: ignore[arg-type]
        self.descriptor_head: nn.Module | None = None
        if descriptor_mean is not None and descriptor_std is not None:
            mean = torch.nan_to_num(torch.as_tensor(descriptor_mean, dtype=torch.float32))
            std = torch.as_tensor(descriptor_std, dtype=torch.float32)
            std = torch.where(torch.isfinite(std) & (std > 1e-8), std, torch.ones_like(std))
            self.register_buffer("descriptor_mean", mean)
            self.register_buffer("descriptor_std", std)
            self.descriptor_head = PredictionHead(
                hidden, mean.numel(), hidden_dim=ffn_hidden_dim, n_layers=ffn_layers, dropout=dropout
            )
        self.atom_head = nn.Linear(hidden, atom_types) if atom_types else None
        self.bond_head = nn.Linear(hidden, bond_types) if atom_types else None
        self.projection = PredictionHead(hidden, hidden, hidden_dim=hidden, n_layers=2) if contrastive else None

    def forward(self, batch: Any) -> Tensor:
        """The molecule embeddings ``[B, out_dim]``."""
        return self.encoder(batch)

    def descriptor_loss(self, batch: Any, mask_rate: float, generator: torch.Generator | None = None) -> Tensor:
        """Mean squared error on the standardized descriptors kept this step (NaN targets and a random
        ``mask_rate`` of the others left out)."""
        if self.descriptor_head is None:
            raise ValueError("this model has no descriptor head")
        prediction = self.descriptor_head(self.encoder(batch))
        target = ((batch.descriptors - self.descriptor_mean) / self.descriptor_std).clamp(
            -DESCRIPTOR_CLIP, DESCRIPTOR_CLIP
        )
        keep = torch.isfinite(target)
        if mask_rate > 0:
            keep &= _uniform(target.shape, generator, target.device) >= mask_rate
        if not bool(keep.any()):
            return prediction.sum() * 0.0
        return F.mse_loss(prediction[keep], target[keep])

    def masking_loss(
        self,
        batch: Any,
        mask_rate: float,
        atom_columns: int,
        bond_columns: tuple[int, int],
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Cross-entropy of the masked atoms' element (column of the atomic-number one-hot, the first
        ``atom_columns`` atom features) plus that of the masked bonds' type (``bond_columns`` of the bond features)."""
        if self.atom_head is None or self.bond_head is None:
            raise ValueError("this model has no masking heads")
        x, edge_attr = batch.x, batch.edge_attr
        masked, atoms, bonds = _masked_view(batch, mask_rate, generator)
        atom_target = x[:, :atom_columns].argmax(1)
        h = self.encoder.embed_atoms(masked)  # type: ignore[operator]
        loss = F.cross_entropy(self.atom_head(h[atoms]), atom_target[atoms])
        if bool(bonds.any()):
            first = torch.nonzero(bonds).squeeze(1) * 2  # edge 2k of each masked bond k
            src, dst = batch.edge_index[0, first], batch.edge_index[1, first]
            bond_target = edge_attr[first, bond_columns[0] : bond_columns[1]].argmax(1)
            loss = loss + F.cross_entropy(self.bond_head(h[src] + h[dst]), bond_target)
        return loss

    def contrastive_loss(self, batch: Any, mask_rate: float, generator: torch.Generator | None = None) -> Tensor:
        """NT-Xent between two randomly masked views of each molecule (the other ``2B - 2`` views are negatives)."""
        if self.projection is None:
            raise ValueError("this model has no projection head")
        rate = min(2 * mask_rate, 0.9)
        z = torch.cat([self.projection(self.encoder(_masked_view(batch, rate, generator)[0])) for _ in range(2)])
        z = F.normalize(z, dim=1)
        n = z.size(0) // 2
        similarity = (z @ z.t()) / TEMPERATURE
        similarity = similarity.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
        positives = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
        return F.cross_entropy(similarity, positives)


def _masked_view(batch: Any, rate: float, generator: torch.Generator | None) -> tuple[Any, Tensor, Tensor]:
    """``(batch with a random ``rate`` of atom rows and of bonds (both directions) zeroed, atom mask [A], bond mask
    [E / 2])``; at least one atom is masked."""
    x, edge_attr = batch.x, batch.edge_attr
    device = x.device
    atoms = _uniform((x.size(0),), generator, device) < rate
    if not bool(atoms.any()):
        atoms[int(_uniform((1,), generator, device).item() * x.size(0)) % max(x.size(0), 1)] = True
    bonds = _uniform((edge_attr.size(0) // 2,), generator, device) < rate
    view = SimpleNamespace(
        x=x.masked_fill(atoms[:, None], 0.0),
        edge_index=batch.edge_index,
        edge_attr=edge_attr.masked_fill(bonds.repeat_interleave(2)[:, None], 0.0),
        batch=getattr(batch, "batch", None),
        num_graphs=getattr(batch, "num_graphs", 1),
    )
    return view, atoms, bonds


def _uniform(shape: tuple[int, ...] | torch.Size, generator: torch.Generator | None, device: torch.device) -> Tensor:
    """Uniform draws made on the CPU (so a seeded CPU generator serves every device), moved to ``device``."""
    return torch.rand(tuple(shape), generator=generator).to(device)
