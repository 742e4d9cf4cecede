"""``molgen.training.privacy``: noise calibration, the Poisson loader and layer fixes (real Opacus)."""

from __future__ import annotations

import numpy as np
import pytest
from opacus.accountants.utils import get_noise_multiplier

from molgen.config import model_config
from molgen.errors import ConfigError
from molgen.families.expression import build_predictor
from molgen.training.batches import FeatureCollate
from molgen.training.datamodules import _CollateIndices, _Indices
from molgen.training.privacy import PrivateTraining, fix_predictor
from molgen.training.tasks import build_task


def _private(**values) -> PrivateTraining:
    options = {"epsilon": 3.0, "delta": 1e-3, "max_grad_norm": 1.0, "n_train": 100, "batch_size": 32, "epochs": 5}
    return PrivateTraining(**{**options, **values})


def test_noise_is_opacus_calibration_for_the_planned_steps():
    private = _private()
    assert private.steps_per_epoch == 4 and private.sample_rate == 0.25
    expected = get_noise_multiplier(target_epsilon=3.0, target_delta=1e-3, sample_rate=0.25, epochs=5, accountant="rdp")
    assert private.noise_multiplier == expected
    assert private.record()["planned_steps"] == 20 and private.spent() == 0.0


def test_unreachable_epsilon_names_the_options():
    with pytest.raises(ConfigError, match=r"--dp-epsilon 1e-09 cannot be met with δ=1e-05 over --max-epochs 5"):
        _private(epsilon=1e-9, delta=1e-5)


def test_poisson_loader_has_empty_batches_the_collate_handles():
    private = _private(n_train=16, batch_size=1, seed=0)
    collate = FeatureCollate(np.ones((16, 4), dtype=np.float32), np.zeros((16, 1), dtype=np.float32))
    batches = list(private.train_loader(_Indices(np.arange(16)), _CollateIndices(collate)))
    sizes = [len(batch) for batch in batches]
    assert len(sizes) == 16 and 0 in sizes and sum(sizes) > 0  # each row joins each batch with probability 1/16
    empty = batches[sizes.index(0)]
    assert tuple(empty.x.shape) == (0, 4) and tuple(empty.y.shape) == (0, 1)


def test_batchnorm_becomes_groupnorm_in_place_and_is_listed():
    task = build_task("regression", ["y"], train_targets=np.zeros((4, 1), dtype=np.float32))
    predictor = build_predictor(model_config({"name": "cnn", "hidden_dim": 16, "depth": 1}), task, 40)
    changes = fix_predictor(predictor)
    assert changes and all(c["from"] == "BatchNorm1d" and c["to"].startswith("GroupNorm(") for c in changes)
    assert not any(type(m).__name__.startswith("BatchNorm") for m in predictor.modules())
    assert fix_predictor(predictor) == []  # already fixed: nothing more to replace


def test_check_private_refuses_other_models_and_unaccountable_options():
    from molgen.config import RunConfig
    from molgen.training.privacy import check_private

    base = {"privacy.epsilon": 3.0, "model.name": "fpmlp"}
    check = {"family": "property", "models": ("fpmlp",), "refusal": "no per-example gradients"}
    check_private(RunConfig().with_values(base), False, **check)  # accountable: no error
    check_private(RunConfig().with_values({"model.name": "dmpnn"}), True, **check)  # no --dp-epsilon: no check
    with pytest.raises(ConfigError, match="'dmpnn' cannot train with DP-SGD: no per-example gradients; property"):
        check_private(RunConfig().with_values({**base, "model.name": "dmpnn"}), False, **check)
    with pytest.raises(ConfigError, match=r"--n-folds > 1 .*; --resume"):
        check_private(RunConfig().with_values({**base, "data.n_folds": 3}), True, **check)


def test_private_training_defaults_delta_to_one_over_n_train():
    from molgen.config import RunConfig
    from molgen.training.privacy import private_training

    cfg = RunConfig().with_values({"privacy.epsilon": 8.0, "model.name": "cnn", "trainer.max_epochs": 2})
    predictor = build_predictor(
        model_config({"name": "cnn", "hidden_dim": 16, "depth": 1}), build_task("regression", ["y"]), 40
    )
    private = private_training(cfg, predictor, 50, seed=0)
    assert private is not None and private.delta == 1 / 50 and private.epochs == 2
    assert private_training(RunConfig(), predictor, 50, seed=0) is None
