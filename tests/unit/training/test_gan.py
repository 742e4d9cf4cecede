"""WGAN-GP pieces: the gradient penalty, sampled-molecule metrics, and the manual-optimization loop."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from molgen.config import TrainerConfig, replace
from molgen.evaluation.generation.basic import canonical_set, sample_metrics
from molgen.models.generative.latent_gan import LatentCritic, LatentGAN, LatentGenerator
from molgen.training.gan import (
    MONITOR,
    LatentGANModule,
    TensorDataModule,
    gradient_penalty,
)
from molgen.training.trainer import build_trainer, run


@pytest.mark.parametrize("scale", [0.3, 1.0, 4.0])
def test_gradient_penalty_of_a_linear_critic_is_known(scale: float) -> None:
    torch.manual_seed(0)
    w = torch.randn(7)
    w = w / w.norm() * scale  # ‖∇(w·x)‖ = ‖w‖ = scale everywhere
    gp = gradient_penalty(lambda x: x @ w, (torch.randn(16, 7),), (torch.randn(16, 7),))
    assert gp.item() == pytest.approx((scale - 1.0) ** 2, rel=1e-5, abs=1e-7)


def test_gradient_penalty_takes_the_norm_over_all_inputs_and_is_differentiable() -> None:
    w1 = torch.full((3, 2), 0.5, requires_grad=True)  # ‖w1‖ = sqrt(1.5)
    w2 = torch.full((4,), 0.5, requires_grad=True)  # ‖w2‖ = 1

    def critic(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a * w1).sum((1, 2)) + b @ w2

    real, fake = (torch.randn(5, 3, 2), torch.randn(5, 4)), (torch.randn(8, 3, 2), torch.randn(8, 4))
    gp = gradient_penalty(critic, real, fake)  # the larger fake batch is cut to the real one
    assert gp.item() == pytest.approx((np.sqrt(2.5) - 1.0) ** 2, rel=1e-5)
    gp.backward()
    assert w1.grad is not None and w1.grad.abs().sum() > 0


def test_sample_metrics() -> None:
    samples = ["CCO", "OCC", "C1CC1", "", "not-smiles", "CC.O", "c1ccccc1", "C[C@H](N)O"]
    metrics = sample_metrics(samples, train={"CCO", "CC(N)O"})
    assert metrics["validity"] == pytest.approx(6 / 8)
    assert metrics["unique"] == pytest.approx(5 / 6)  # CCO twice
    assert metrics["novelty"] == pytest.approx(3 / 5)  # CCO and CC(N)O (stereo ignored) are known
    assert metrics["connected"] == pytest.approx(5 / 8)
    assert metrics["valid_unique"] == pytest.approx(4 / 8)
    empty = sample_metrics(["", ""], train=set())
    assert empty == {"validity": 0.0, "unique": 0.0, "novelty": 0.0, "connected": 0.0, "valid_unique": 0.0}
    assert canonical_set(["OCC", "C[C@H](N)O", "xx"], isomeric=False) == {
        "CCO",
        "CC(N)O",
    }  # non-isomeric, invalid skipped


def test_training_core_does_not_import_rdkit() -> None:
    """Validity is decided in molgen.chem/evaluation and injected; the GAN loop itself holds no chemistry."""
    code = "import sys, molgen.training.gan; assert 'rdkit' not in sys.modules, 'rdkit imported'"
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=os.environ.copy()
    )
    assert result.returncode == 0, result.stderr


def _decode(codes: np.ndarray) -> list[str]:
    """A stand-in decoder: the sign of the first two coordinates picks one of four molecules."""
    table = ["CCO", "CCN", "CC=O", "C1CC1"]
    return [table[int(c[0] > 0) * 2 + int(c[1] > 0)] for c in codes]


def _fit(tmp_path: Path, n_critic: int, batches: int) -> tuple[LatentGANModule, dict, dict]:
    torch.manual_seed(0)
    model = LatentGAN(LatentGenerator(4, 6, (16, 16)), LatentCritic(6, (16,)))
    codes = torch.randn(16 * batches, 6)
    model.set_code_statistics(codes)
    module = LatentGANModule(
        model,
        _decode,
        train_smiles={"CCO"},
        score_samples=sample_metrics,
        lr=1e-3,
        n_critic=n_critic,
        fake_batch_size=16,
        val_sample_size=32,
        gradient_clip_val=0.5,
    )
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cfg = TrainerConfig(max_epochs=1, patience=0, accelerator="cpu", progress_bar=False, log_every_n_steps=1)
    trainer = build_trainer(replace(cfg, gradient_clip_val=None), tmp_path, monitor=MONITOR, mode="max")
    outcome = run(module, TensorDataModule([codes], [codes[:5]], batch_size=16), trainer, test=False)
    import csv

    with open(tmp_path / "logs" / "metrics.csv") as handle:
        logged = {k for row in csv.DictReader(handle) for k, v in row.items() if v}
    return module, before, {"outcome": outcome, "metrics": logged}


def test_critic_updates_every_batch_and_generator_every_n_critic(tmp_path: Path) -> None:
    module, before, info = _fit(tmp_path / "a", n_critic=5, batches=3)
    after = module.model.state_dict()
    assert int(module.critic_updates) == 3
    assert not torch.equal(before["critic.net.0.weight"], after["critic.net.0.weight"])
    assert torch.equal(before["generator.net.0.weight"], after["generator.net.0.weight"])  # 3 < n_critic
    for key in (
        "train/critic_loss",
        "train/gp",
        "val/validity",
        "val/unique",
        "val/novelty",
        "val/wasserstein",
        MONITOR,
    ):
        assert key in info["metrics"], key
    assert "train/generator_loss" not in info["metrics"]
    assert info["outcome"].val["validity"] == 1.0 and info["outcome"].best_checkpoint

    module, before, info = _fit(tmp_path / "b", n_critic=1, batches=3)
    assert not torch.equal(before["generator.net.0.weight"], module.model.state_dict()["generator.net.0.weight"])
    assert "train/generator_loss" in info["metrics"]


def test_validation_runs_without_validation_rows(tmp_path: Path) -> None:
    model = LatentGAN(LatentGenerator(4, 6, (8,)), LatentCritic(6, (8,)))
    module = LatentGANModule(
        model,
        _decode,
        train_smiles=set(),
        score_samples=sample_metrics,
        lr=1e-3,
        n_critic=1,
        fake_batch_size=8,
        val_sample_size=8,
    )
    cfg = TrainerConfig(max_epochs=1, patience=2, accelerator="cpu", progress_bar=False)
    trainer = build_trainer(cfg, tmp_path, monitor=MONITOR, mode="max")
    outcome = run(module, TensorDataModule([torch.randn(8, 6)], [torch.zeros(0, 6)], batch_size=8), trainer, test=False)
    assert "wasserstein" not in outcome.val and outcome.val["validity"] == 1.0


def test_molgan_module_trains_its_reward_network_and_mixes_the_losses(tmp_path: Path) -> None:
    from molgen.chem.featurize.dense_graphs import (
        DenseGraphSpec,
        decode_graphs,
        encode_smiles,
    )
    from molgen.chem.scores import reward_scores
    from molgen.models.generative.molgan import build_networks
    from molgen.training.gan import MolGANModule

    torch.manual_seed(0)
    spec = DenseGraphSpec(max_atoms=6)
    graphs = encode_smiles(["CCO", "CC(=O)O", "c1ccoc1", "CC#N", "OCCO", "CN(C)C"] * 3, spec)
    score = reward_scores("qed")
    sizes = {
        "noise_dim": 8,
        "generator_dims": [16],
        "conv_dims": [8, 4],
        "aggregation_dim": 8,
        "mlp_dims": [8],
        "dropout": 0.0,
    }
    networks = build_networks(spec, sizes, reward=True)
    module = MolGANModule(
        networks.generator,
        networks.critic,
        lambda a, b: decode_graphs(a, b, spec),
        reward_net=networks.reward_net,
        score=score,
        reward_weight=0.5,
        train_smiles=set(graphs.smiles),
        score_samples=sample_metrics,
        lr=1e-3,
        n_critic=1,
        fake_batch_size=8,
        val_sample_size=16,
    )
    before = {k: v.clone() for k, v in networks.state_dict().items()}
    tensors = [torch.as_tensor(graphs.atoms), torch.as_tensor(graphs.bonds), torch.as_tensor(score(graphs.smiles))]
    cfg = TrainerConfig(max_epochs=1, patience=0, accelerator="cpu", progress_bar=False, log_every_n_steps=1)
    trainer = build_trainer(cfg, tmp_path, monitor=MONITOR, mode="max")
    outcome = run(module, TensorDataModule(tensors, [t[:4] for t in tensors], batch_size=8), trainer, test=False)
    after = networks.state_dict()
    for name in ("generator.node_out.weight", "critic.out.weight", "reward_net.out.weight"):
        assert not torch.equal(before[name], after[name]), name
    assert 0.0 <= outcome.val["reward"] <= 1.0 and "validity" in outcome.val
    import csv

    with open(tmp_path / "logs" / "metrics.csv") as handle:
        logged = {k for row in csv.DictReader(handle) for k, v in row.items() if v}
    assert {"train/reward_loss", "train/generator_loss", "val/reward"} <= logged
    with pytest.raises(ValueError, match="needs a reward network"):
        MolGANModule(
            networks.generator,
            networks.critic,
            lambda a, b: [],
            reward_weight=0.5,
            train_smiles=set(),
            score_samples=sample_metrics,
            lr=1e-3,
        )
