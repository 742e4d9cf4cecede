"""DP-SGD (Abadi et al. 2016) with Opacus inside the one Lightning loop: per-example clipping, Gaussian noise,
Poisson sampling and the RDP accountant.

A :class:`PrivateTraining` is built per model before training (it calibrates the noise, so an unreachable ε is
refused before any step). It makes the model Opacus-compatible (:meth:`PrivateTraining.fix`, e.g. BatchNorm →
GroupNorm, logged), gives the train loader Poisson sampling (:meth:`PrivateTraining.train_loader`) and, from
``SupervisedModule.configure_optimizers``, wraps model and optimizer with Opacus's
``PrivacyEngine.make_private_with_epsilon`` (:meth:`PrivateTraining.make_private`). The spent ε is the RDP
accountant's over the steps actually taken (early stopping spends less; see docs/privacy.md).
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from molgen.config import RunConfig
from molgen.errors import ConfigError
from molgen.training.predictor import Predictor

log = logging.getLogger("molgen")

ACCOUNTANT = "rdp"
"""Opacus's Rényi-DP accountant (Mironov 2017), used to calibrate the noise and to report the spent ε."""


def check_private(cfg: RunConfig, resume: bool, *, family: str, models: tuple[str, ...], refusal: str) -> None:
    """Refuses DP-SGD (``--dp-epsilon``) for a model or options whose privacy could not be accounted.

    Args:
        family: the family's name; models: its models that train with DP-SGD; refusal: why the others cannot.
    """
    if cfg.privacy.epsilon is None:
        return
    if cfg.model.name not in models:
        valid = ", ".join(models) or "none"
        raise ConfigError(
            f"--dp-epsilon: model {cfg.model.name!r} cannot train with DP-SGD: {refusal}; "
            f"{family} models with DP-SGD: {valid}"
        )
    why = {
        "--ensemble-size > 1 or --uncertainty ensemble (each member would spend ε again)": (
            cfg.trainer.ensemble_size > 1
        ),
        "--n-folds > 1 (each fold's model would spend ε again)": cfg.data.n_folds > 1,
        "--resume (the privacy accountant is not checkpointed)": resume,
        "trainer.gradient_clip_val (DP-SGD clips each example's gradient: --dp-max-grad-norm)": (
            cfg.trainer.gradient_clip_val is not None
        ),
        "trainer.num_nodes > 1 (DP-SGD trains on one device)": cfg.trainer.num_nodes > 1,
    }
    refused = [text for text, bad in why.items() if bad]
    if refused:
        raise ConfigError("--dp-epsilon cannot be combined with " + "; ".join(refused))


def private_training(cfg: RunConfig, predictor: Predictor, n_train: int, seed: int) -> PrivateTraining | None:
    """DP-SGD for one model of ``n_train`` training examples (noise calibrated, unreachable ε refused, layers
    fixed in ``predictor``), or None without ``--dp-epsilon``."""
    if cfg.privacy.epsilon is None:
        return None
    private = PrivateTraining(
        epsilon=cfg.privacy.epsilon,
        delta=cfg.privacy.delta if cfg.privacy.delta is not None else 1.0 / n_train,
        max_grad_norm=cfg.privacy.max_grad_norm,
        n_train=n_train,
        batch_size=cfg.data.batch_size,
        epochs=cfg.trainer.max_epochs,
        seed=seed,
    )
    private.fix(predictor, f"model {cfg.model.name}")
    return private


class PrivateTraining:
    """DP-SGD settings and state of one model.

    Args:
        epsilon: target ε over ``epochs`` epochs.
        delta: δ (Opacus's convention: the probability of failure; default of the CLI: 1 / n_train).
        max_grad_norm: per-example gradient clipping norm C.
        n_train: training examples (the dataset the guarantee is about).
        batch_size: expected batch size; the sampling rate is ``1 / ceil(n_train / batch_size)``.
        epochs: the epochs the budget is spread over (``--max-epochs``).
        seed: seeds the Poisson sampler.

    Raises:
        ConfigError: the target ε cannot be reached over ``epochs`` epochs (Opacus finds no noise multiplier).
    """

    def __init__(
        self,
        *,
        epsilon: float,
        delta: float,
        max_grad_norm: float,
        n_train: int,
        batch_size: int,
        epochs: int,
        seed: int = 0,
    ) -> None:
        from opacus.accountants.utils import get_noise_multiplier

        self.epsilon, self.delta, self.max_grad_norm = epsilon, delta, max_grad_norm
        self.n_train, self.epochs, self.seed = n_train, epochs, seed
        self.steps_per_epoch = max(math.ceil(n_train / batch_size), 1)
        self.sample_rate = 1.0 / self.steps_per_epoch
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*Optimal order is the largest alpha.*")  # a looser bound
                self.noise_multiplier = float(
                    get_noise_multiplier(
                        target_epsilon=epsilon,
                        target_delta=delta,
                        sample_rate=self.sample_rate,
                        epochs=epochs,
                        accountant=ACCOUNTANT,
                    )
                )
        except ValueError as err:  # "The privacy budget is too low."
            raise ConfigError(
                f"--dp-epsilon {epsilon} cannot be met with δ={delta:.3g} over --max-epochs {epochs} "
                f"({self.steps_per_epoch} steps/epoch, sampling rate {self.sample_rate:.4g}): Opacus finds no noise "
                f"multiplier below 1e6 ({err}); raise --dp-epsilon, lower --max-epochs or raise --batch-size"
            ) from None
        self.engine: Any = None
        self.hooks: Any = None
        self.replaced: list[dict[str, str]] = []

    # --- before training --------------------------------------------------------------------------------------
    def fix(self, predictor: Predictor, what: str) -> None:
        """Makes ``predictor``'s encoder and head Opacus-compatible in place (:func:`fix_predictor`: BatchNorm →
        GroupNorm, MultiheadAttention → DPMultiheadAttention …; each change logged and kept in :attr:`replaced`),
        then checks them.

        Raises:
            ConfigError: a layer Opacus cannot train privately, named.
        """
        self.replaced = fix_predictor(predictor)
        for change in self.replaced:
            log.info("DP-SGD: %s layer %s: %s replaced by %s", what, change["layer"], change["from"], change["to"])
        check_layers(nn.ModuleDict({"encoder": predictor.encoder, "head": predictor.head}), what)

    def train_loader(self, dataset: Dataset, collate_fn: Any) -> DataLoader:
        """The train loader with Poisson sampling (Opacus's ``UniformWithReplacementSampler``): every example joins
        each batch with probability :attr:`sample_rate`, :attr:`steps_per_epoch` batches per epoch (some may be
        empty; the collate must accept an empty index list)."""
        from opacus.utils.uniform_sampler import UniformWithReplacementSampler

        sampler = UniformWithReplacementSampler(
            num_samples=len(dataset),  # type: ignore[arg-type]
            sample_rate=self.sample_rate,
            generator=torch.Generator().manual_seed(self.seed),
        )
        sampler.steps = self.steps_per_epoch  # int(1 / rate) could round one below in floating point
        return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_fn, num_workers=0)

    # --- inside Lightning -------------------------------------------------------------------------------------
    def make_private(self, module: nn.Module, optimizer: torch.optim.Optimizer, loader: DataLoader) -> Any:
        """Opacus's ``make_private_with_epsilon`` on ``module`` (hooks added in place, not wrapped) and ``optimizer``;
        returns the ``DPOptimizer``. ``loader`` is :meth:`train_loader`'s (already Poisson-sampled)."""
        from opacus import PrivacyEngine

        if len(loader) != self.steps_per_epoch:
            raise ConfigError(
                f"DP-SGD needs the Poisson train loader ({self.steps_per_epoch} steps), got {len(loader)}"
            )
        self.engine = PrivacyEngine(accountant=ACCOUNTANT)
        self.hooks, dp_optimizer, _ = self.engine.make_private_with_epsilon(
            module=module,
            optimizer=optimizer,
            data_loader=loader,
            target_epsilon=self.epsilon,
            target_delta=self.delta,
            epochs=self.epochs,
            max_grad_norm=self.max_grad_norm,
            poisson_sampling=False,  # the loader samples already; Opacus's DPDataLoader cannot read index datasets
            wrap_model=False,
        )
        if not math.isclose(dp_optimizer.noise_multiplier, self.noise_multiplier, rel_tol=1e-9):
            raise RuntimeError("Opacus calibrated another noise multiplier than the one checked before training")
        return dp_optimizer

    def close(self) -> None:
        """Removes Opacus's hooks from the model (after training)."""
        if self.hooks is not None:
            self.hooks.cleanup()
            self.hooks = None

    def spent(self) -> float:
        """ε spent so far for :attr:`delta` (0 before the first step)."""
        if self.engine is None or not self.engine.accountant.history:
            return 0.0
        return float(self.engine.accountant.get_epsilon(delta=self.delta))

    def steps(self) -> int:
        return int(sum(steps for _, _, steps in self.engine.accountant.history)) if self.engine is not None else 0

    def record(self) -> dict[str, Any]:
        """``metrics.json``'s and ``model.yaml``'s ``privacy`` section: plain numbers (and the replaced layers)."""
        return {
            "epsilon": self.spent(),
            "delta": self.delta,
            "target_epsilon": self.epsilon,
            "max_grad_norm": self.max_grad_norm,
            "noise_multiplier": self.noise_multiplier,
            "sample_rate": self.sample_rate,
            "steps": self.steps(),
            "planned_steps": self.epochs * self.steps_per_epoch,
            "n_train": self.n_train,
            "accountant": ACCOUNTANT,
            "replaced_layers": self.replaced,
        }


def fix_predictor(predictor: Predictor) -> list[dict[str, str]]:
    """Replaces, in place, the layers of ``predictor.encoder`` and ``predictor.head`` that Opacus cannot train
    privately (``ModuleValidator.fix``); returns the changes (:func:`replaced_layers`). Also rebuilds an exported
    DP model's architecture before its weights load."""
    from opacus.validators import ModuleValidator

    parts = nn.ModuleDict({"encoder": predictor.encoder, "head": predictor.head})
    fixed = ModuleValidator.fix(parts)
    changes = replaced_layers(parts, fixed)
    if changes:
        predictor.encoder, predictor.head = fixed["encoder"], fixed["head"]
    return changes


def replaced_layers(before: nn.Module, after: nn.Module) -> list[dict[str, str]]:
    """``{"layer", "from", "to"}`` for each sub-module whose type differs between ``before`` and ``after``."""
    new = dict(after.named_modules())
    changes = []
    for name, module in before.named_modules():
        other = new.get(name)
        if name and other is not None and type(other) is not type(module):
            shown = repr(other) if "\n" not in repr(other) else type(other).__name__
            changes.append({"layer": name, "from": type(module).__name__, "to": shown})
    return changes


def check_layers(model: nn.Module, what: str) -> None:
    """Refuses (``ConfigError``, naming the layer) a model that Opacus's validator rejects after the fixes."""
    from opacus.validators import ModuleValidator

    was_training = model.training
    model.train()
    errors = ModuleValidator.validate(model, strict=False)
    model.train(was_training)
    if errors:
        raise ConfigError(f"DP-SGD cannot train {what}: " + "; ".join(str(e) for e in errors))
