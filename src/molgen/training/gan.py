"""Wasserstein GANs with gradient penalty (Gulrajani et al. 2017) on the shared Lightning core.

:class:`WGANModule` owns the loop every molgen GAN shares, with Lightning's manual optimization
(``automatic_optimization = False``): each training batch makes one critic update; every ``n_critic``-th
batch also makes one generator update. It logs ``train/critic_loss``, ``train/generator_loss``,
``train/gp`` and ``train/wasserstein``. At each validation it estimates the Wasserstein distance on the
validation molecules (``val/wasserstein``) and samples ``val_sample_size`` molecules with a fixed seed to
log ``val/validity``, ``val/unique``, ``val/novelty``, ``val/connected`` and ``val/valid_unique``
(the fraction of samples that are valid, one fragment and distinct: what checkpointing monitors).

A subclass says what real and fake inputs are and how to sample SMILES: :class:`LatentGANModule` (latent
codes of an autoencoder) and :class:`MolGANModule` (dense graphs, with an optional reward network).
Gradient clipping (``trainer.gradient_clip_val``) is applied here, per optimizer, because Lightning's
automatic clipping does not exist under manual optimization.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import lightning.pytorch as L
import numpy as np
import torch
from lightning.pytorch.core.optimizer import LightningOptimizer
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset, TensorDataset

from molgen.models.generative.latent_gan import LatentGAN
from molgen.models.generative.molgan import GraphGenerator, RelationalGCN, discretize, sample_graphs

MONITOR = "val/valid_unique"
VAL_SEED = 12345


def gradient_penalty(
    critic: Callable[..., torch.Tensor], real: Sequence[torch.Tensor], fake: Sequence[torch.Tensor]
) -> torch.Tensor:
    """WGAN-GP penalty ``E[(‖∇ critic(x̂)‖₂ − 1)²]`` at ``x̂ = ε·real + (1 − ε)·fake``, ``ε ~ U(0, 1)`` per example.

    Args:
        critic: maps the input tensors to scores ``[B]``.
        real, fake: the critic's inputs (e.g. ``(codes,)`` or ``(nodes, edges)``), each ``[B, …]`` float;
            the gradient norm is taken over all of them jointly.
    """
    batch = real[0].shape[0]
    eps = torch.rand(batch, device=real[0].device, dtype=real[0].dtype)
    mixed = [
        (
            eps.view(-1, *([1] * (r.dim() - 1))) * r + (1 - eps.view(-1, *([1] * (r.dim() - 1)))) * f[:batch]
        ).requires_grad_(True)
        for r, f in zip(real, fake)
    ]
    scores = critic(*mixed)
    grads = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    # ``grads`` is never empty (one per input), so the sum is a tensor, not the start value 0.
    squared = cast(torch.Tensor, sum(g.reshape(batch, -1).pow(2).sum(1) for g in grads))
    norm = torch.sqrt(squared + 1e-12)
    return ((norm - 1.0) ** 2).mean()


SampleScorer = Callable[[Sequence[str], set[str]], dict[str, float]]
"""``(sampled SMILES, canonical training SMILES) → {metric: value}``; must return ``valid_unique`` (what
:data:`MONITOR` watches). molgen's is :func:`molgen.evaluation.generation.basic.sample_metrics`."""


class TensorDataModule(L.LightningDataModule):
    """Shuffled training batches and in-order validation batches of tensors (row ``i`` of each tensor together).

    With no validation rows, validation still runs one empty batch, so the sampled metrics are logged.
    """

    def __init__(
        self, train: Sequence[torch.Tensor], val: Sequence[torch.Tensor], batch_size: int, seed: int = 0
    ) -> None:
        super().__init__()
        if len(train[0]) == 0:
            raise ValueError("no training examples")
        self.train, self.val, self.batch_size, self.seed = tuple(train), tuple(val), batch_size, seed

    def train_dataloader(self) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(TensorDataset(*self.train), batch_size=self.batch_size, shuffle=True, generator=generator)

    def val_dataloader(self) -> DataLoader:
        if len(self.val[0]) == 0:
            # A one-item list is a map-style dataset (``__getitem__`` and ``__len__``) though not a ``Dataset``.
            return DataLoader(cast("Dataset[tuple[()]]", [()]), batch_size=1, collate_fn=lambda items: ())
        return DataLoader(TensorDataset(*self.val), batch_size=self.batch_size, shuffle=False)


class WGANModule(L.LightningModule):
    """The shared WGAN-GP loop; subclasses implement the ``real_inputs``/``fake_inputs``/``critic_score``/
    ``sample_smiles`` hooks and may add generator loss terms.

    Args:
        generator_params / critic_params: parameters of the two players (a third optimizer may be added by
            a subclass through ``extra_optimizers``).
        train_smiles: canonical (non-isomeric) training SMILES, for ``val/novelty``.
        score_samples: scores the SMILES sampled at each validation (see :data:`SampleScorer`); the caller
            passes it (molgen's is :func:`~molgen.evaluation.generation.basic.sample_metrics`) so that this
            training core holds no chemistry.
        lr, lr_critic: learning rates; betas: Adam's.
        n_critic: critic updates per generator update; gp_weight: λ of the gradient penalty.
        fake_batch_size: molecules generated per update.
        val_sample_size: molecules sampled per validation.
        gradient_clip_val: clip each optimizer's gradients to this norm (None: no clipping).
    """

    critic_updates: torch.Tensor  # a buffer, registered in ``__init__``

    def __init__(
        self,
        *,
        train_smiles: set[str],
        score_samples: SampleScorer,
        lr: float,
        lr_critic: float | None = None,
        betas: tuple[float, float] = (0.5, 0.999),
        n_critic: int = 5,
        gp_weight: float = 10.0,
        fake_batch_size: int = 64,
        val_sample_size: int = 256,
        gradient_clip_val: float | None = None,
    ) -> None:
        super().__init__()
        if n_critic < 1:
            raise ValueError(f"n_critic must be at least 1, got {n_critic}")
        self.automatic_optimization = False
        self.train_smiles = train_smiles
        self.score_samples = score_samples
        beta1, beta2 = betas
        self.lr, self.lr_critic = lr, lr_critic or lr
        self.betas: tuple[float, float] = (beta1, beta2)
        self.n_critic, self.gp_weight = n_critic, gp_weight
        self.fake_batch_size, self.val_sample_size = fake_batch_size, val_sample_size
        self.gradient_clip_val = gradient_clip_val
        self.register_buffer("critic_updates", torch.zeros((), dtype=torch.long))
        self.results: dict[str, dict[str, float]] = {}
        self._val_wasserstein: list[tuple[float, int]] = []

    # -- hooks ---------------------------------------------------------------------------------------------
    def generator_parameters(self) -> Any:
        raise NotImplementedError

    def critic_parameters(self) -> Any:
        raise NotImplementedError

    def real_inputs(self, batch: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """The critic's inputs for a batch of real examples."""
        raise NotImplementedError

    def fake_inputs(self, n: int) -> tuple[torch.Tensor, ...]:
        """The critic's inputs for ``n`` generated examples (differentiable w.r.t. the generator)."""
        raise NotImplementedError

    def critic_score(self, *inputs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def sample_smiles(self, n: int, seed: int) -> list[str]:
        raise NotImplementedError

    def extra_generator_loss(self, fake: tuple[torch.Tensor, ...], wgan_loss: torch.Tensor) -> torch.Tensor:
        """The generator's loss given its WGAN term (MolGAN mixes in the reward)."""
        return wgan_loss

    def extra_updates(self, batch: Sequence[torch.Tensor], fake: tuple[torch.Tensor, ...]) -> None:
        """Updates of other networks after each critic update (MolGAN's reward network)."""

    def extra_optimizers(self) -> list[torch.optim.Optimizer]:
        return []

    # -- Lightning -------------------------------------------------------------------------------------------
    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        critic = torch.optim.Adam(self.critic_parameters(), lr=self.lr_critic, betas=self.betas)
        generator = torch.optim.Adam(self.generator_parameters(), lr=self.lr, betas=self.betas)
        return [critic, generator, *self.extra_optimizers()]

    def _optimizer_list(self) -> list[LightningOptimizer]:
        """The optimizers of :meth:`configure_optimizers`, in order (Lightning hands back a bare optimizer
        only when there is one, and there are always at least two here)."""
        optimizers = self.optimizers()
        if not isinstance(optimizers, list):
            raise RuntimeError(f"{type(self).__name__} expects at least two optimizers, got one")
        return optimizers

    def _step(self, optimizer: Any, loss: torch.Tensor) -> None:
        optimizer.zero_grad()
        self.manual_backward(loss)
        if self.gradient_clip_val:
            self.clip_gradients(optimizer, gradient_clip_val=self.gradient_clip_val, gradient_clip_algorithm="norm")
        optimizer.step()

    def training_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> None:
        critic_opt, generator_opt = self._optimizer_list()[:2]
        real = self.real_inputs(batch)
        n_real = real[0].shape[0]
        with torch.no_grad():
            fake = self.fake_inputs(self.fake_batch_size)
        critic_real = self.critic_score(*real).mean()
        critic_fake = self.critic_score(*fake).mean()
        gp = gradient_penalty(self.critic_score, real, fake) if n_real <= len(fake[0]) else self._gp_tiled(real, fake)
        critic_loss = critic_fake - critic_real + self.gp_weight * gp
        self._step(critic_opt, critic_loss)
        self.critic_updates += 1
        self.extra_updates(batch, fake)
        log = {
            "train/critic_loss": critic_loss.detach(),
            "train/gp": gp.detach(),
            "train/wasserstein": (critic_real - critic_fake).detach(),
        }
        if int(self.critic_updates) % self.n_critic == 0:
            fake = self.fake_inputs(self.fake_batch_size)
            wgan_loss = -self.critic_score(*fake).mean()
            generator_loss = self.extra_generator_loss(fake, wgan_loss)
            self._step(generator_opt, generator_loss)
            log["train/generator_loss"] = generator_loss.detach()
        self.log_dict(log, on_step=False, on_epoch=True, batch_size=n_real)

    def _gp_tiled(self, real: tuple[torch.Tensor, ...], fake: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Gradient penalty when a real batch is larger than the fake batch: the fakes are repeated."""
        n = real[0].shape[0]
        repeat = -(-n // len(fake[0]))
        return gradient_penalty(
            self.critic_score, real, tuple(f.repeat(repeat, *([1] * (f.dim() - 1)))[:n] for f in fake)
        )

    def validation_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> None:
        if not batch:
            return
        real = self.real_inputs(batch)
        fake = self.fake_inputs(real[0].shape[0])
        distance = self.critic_score(*real).mean() - self.critic_score(*fake).mean()
        self._val_wasserstein.append((float(distance), real[0].shape[0]))

    def on_validation_epoch_end(self) -> None:
        samples = self.sample_smiles(self.val_sample_size, VAL_SEED)
        metrics = {k: float(v) for k, v in self.score_samples(samples, self.train_smiles).items()}
        metrics.update(self.extra_val_metrics(samples))
        if self._val_wasserstein:
            total = sum(n for _, n in self._val_wasserstein)
            metrics["wasserstein"] = sum(d * n for d, n in self._val_wasserstein) / total
            self._val_wasserstein.clear()
        self.results["val"] = metrics
        self.log_dict({f"val/{k}": v for k, v in metrics.items()}, sync_dist=False)

    def extra_val_metrics(self, samples: list[str]) -> dict[str, float]:
        """More validation metrics of the sampled SMILES (MolGAN: the mean reward)."""
        return {}

    def test_step(self, batch: Any, batch_idx: int) -> None:  # sampling metrics come from the recipe
        return None


class LatentGANModule(WGANModule):
    """WGAN-GP on standardized autoencoder codes; ``decode`` turns codes ``[n, latent_dim]`` into SMILES."""

    def __init__(self, model: LatentGAN, decode: Callable[[np.ndarray], list[str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model, self.decode = model, decode

    def generator_parameters(self) -> Any:
        return self.model.generator.parameters()

    def critic_parameters(self) -> Any:
        return self.model.critic.parameters()

    def real_inputs(self, batch: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        return (self.model.standardize(batch[0]),)

    def fake_inputs(self, n: int) -> tuple[torch.Tensor, ...]:
        noise = torch.randn(n, self.model.generator.noise_dim, device=self.device)
        return (self.model.generator(noise),)

    def critic_score(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model.critic(*inputs)

    def sample_smiles(self, n: int, seed: int) -> list[str]:
        codes = self.model.sample_codes(n, torch.Generator().manual_seed(seed))
        return self.decode(codes.float().cpu().numpy())


class MolGANModule(WGANModule):
    """MolGAN on dense graphs: a batch is ``(atoms [B, N] long, bonds [B, N, N] long, reward [B] float)``.

    Args:
        generator, critic: the two players; reward_net: optional :class:`RelationalGCN` with a sigmoid.
        decode: ``(atoms [n, N], bonds [n, N, N])`` int arrays → SMILES (``""`` when invalid).
        score: SMILES → normalized rewards ``[n]`` in [0, 1] (0 for invalid ones); needed with a reward net.
        reward_weight: ``w`` in ``(1 − w)·WGAN + w·(−reward)``.
        gumbel, temperature: how generator logits become critic inputs (see ``discretize``).
    """

    def __init__(
        self,
        generator: GraphGenerator,
        critic: RelationalGCN,
        decode: Callable[[np.ndarray, np.ndarray], list[str]],
        *,
        reward_net: RelationalGCN | None = None,
        score: Callable[[list[str]], np.ndarray] | None = None,
        reward_weight: float = 0.0,
        gumbel: str = "hard_gumbel",
        temperature: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if reward_weight and (reward_net is None or score is None):
            raise ValueError("reward_weight > 0 needs a reward network and a score (set model.reward)")
        if not 0.0 <= reward_weight <= 1.0:
            raise ValueError(f"reward_weight must be in [0, 1], got {reward_weight}")
        self.generator, self.critic, self.reward_net = generator, critic, reward_net
        self.decode, self.score = decode, score
        self.reward_weight, self.gumbel, self.temperature = reward_weight, gumbel, temperature

    def generator_parameters(self) -> Any:
        return self.generator.parameters()

    def critic_parameters(self) -> Any:
        return self.critic.parameters()

    def extra_optimizers(self) -> list[torch.optim.Optimizer]:
        if self.reward_net is None:
            return []
        return [torch.optim.Adam(self.reward_net.parameters(), lr=self.lr_critic, betas=self.betas)]

    def real_inputs(self, batch: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        atoms, bonds = batch[0], batch[1]
        return (
            F.one_hot(atoms, self.generator.n_atom_types).float(),
            F.one_hot(bonds, self.generator.n_bond_types).float(),
        )

    def fake_inputs(self, n: int) -> tuple[torch.Tensor, ...]:
        z = torch.randn(n, self.generator.noise_dim, device=self.device)
        node_logits, edge_logits = self.generator(z)
        return discretize(node_logits, edge_logits, mode=self.gumbel, temperature=self.temperature)

    def critic_score(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.critic(*inputs)

    def _fake_rewards(self, fake: tuple[torch.Tensor, ...]) -> torch.Tensor:
        if self.score is None:
            raise ValueError("a reward network needs a score to train against (set model.reward)")
        nodes, edges = fake
        smiles = self.decode(nodes.argmax(-1).cpu().numpy(), edges.argmax(-1).cpu().numpy())
        return torch.as_tensor(self.score(smiles), dtype=torch.float32, device=nodes.device)

    def extra_updates(self, batch: Sequence[torch.Tensor], fake: tuple[torch.Tensor, ...]) -> None:
        if self.reward_net is None:
            return
        real = self.real_inputs(batch)
        fake = tuple(f.detach() for f in fake)
        loss = F.mse_loss(self.reward_net(*real), batch[2].float()) + F.mse_loss(
            self.reward_net(*fake), self._fake_rewards(fake)
        )
        self._step(self._optimizer_list()[2], loss)
        self.log("train/reward_loss", loss.detach(), on_step=False, on_epoch=True, batch_size=len(batch[0]))

    def extra_generator_loss(self, fake: tuple[torch.Tensor, ...], wgan_loss: torch.Tensor) -> torch.Tensor:
        if self.reward_net is None or not self.reward_weight:
            return wgan_loss
        reward_loss = -self.reward_net(*fake).mean()
        return (1.0 - self.reward_weight) * wgan_loss + self.reward_weight * reward_loss

    def extra_val_metrics(self, samples: list[str]) -> dict[str, float]:
        if self.reward_net is None or self.score is None:
            return {}
        return {"reward": float(np.mean(self.score(samples))) if samples else 0.0}

    @torch.no_grad()
    def sample_smiles(self, n: int, seed: int) -> list[str]:
        return sample_graphs(self.generator, self.decode, n, seed=seed, batch_size=max(n, 1))
