"""The learning-rate schedules of ``build_optimizer``, stepped as Lightning steps them (once per batch)."""

import math
from itertools import pairwise

import pytest
import torch

from molgen.config import OptimConfig, RunConfig
from molgen.errors import ConfigError
from molgen.training.optim import build_optimizer, noam_lambda


def _rates(cfg: OptimConfig, steps_per_epoch: float, max_epochs: int) -> list[float]:
    """The rate in force at every optimizer step 0..total (the one after the last step included)."""
    param = torch.nn.Parameter(torch.zeros(1))
    built = build_optimizer([param], cfg, steps_per_epoch, max_epochs)
    optimizer = built["optimizer"]
    scheduler = built.get("lr_scheduler", {}).get("scheduler")
    rates = []
    for _ in range(math.ceil(steps_per_epoch) * max_epochs + 1):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return rates


def test_noam_warms_up_peaks_then_decays_to_the_final_ratio():
    cfg = OptimConfig(lr=2e-3, warmup_epochs=2.0, init_lr_ratio=0.1, final_lr_ratio=0.05)
    rates = _rates(cfg, steps_per_epoch=5, max_epochs=10)  # warm-up 10 steps, 50 in all
    assert rates[0] == pytest.approx(0.1 * 2e-3)
    assert rates[5] == pytest.approx((0.1 + 0.9 * 0.5) * 2e-3)  # linear half-way
    assert rates[10] == pytest.approx(2e-3) and max(rates) == pytest.approx(2e-3)
    assert rates.index(max(rates)) == 10
    assert rates[50] == pytest.approx(0.05 * 2e-3)
    assert all(a < b for a, b in pairwise(rates[:11]))  # rising during warm-up
    assert all(a > b for a, b in pairwise(rates[10:51]))  # falling after it
    # exponential decay: equal ratios between equally spaced steps
    assert rates[30] / rates[20] == pytest.approx(rates[40] / rates[30])


def test_noam_steps_per_epoch_round_up_and_the_rate_stays_at_the_end():
    cfg = OptimConfig(lr=1e-3, warmup_epochs=1.0, init_lr_ratio=0.2, final_lr_ratio=0.1)
    rates = _rates(cfg, steps_per_epoch=2.5, max_epochs=4)  # 3 steps per epoch, 12 in all
    assert rates[0] == pytest.approx(2e-4) and rates[3] == pytest.approx(1e-3) and rates[12] == pytest.approx(1e-4)
    assert noam_lambda(100, warmup_steps=3, total_steps=12, init_ratio=0.2, final_ratio=0.1) == pytest.approx(0.1)


def test_noam_without_warmup_starts_at_the_peak():
    rates = _rates(OptimConfig(lr=1e-3, warmup_epochs=0.0, final_lr_ratio=0.1), steps_per_epoch=4, max_epochs=2)
    assert rates[0] == pytest.approx(1e-3) and rates[8] == pytest.approx(1e-4)


def test_constant_keeps_the_rate_and_has_no_scheduler():
    cfg = OptimConfig(lr=3e-4, scheduler="constant", weight_decay=1e-5)
    built = build_optimizer([torch.nn.Parameter(torch.zeros(1))], cfg, 4, 3)
    assert set(built) == {"optimizer"}
    assert isinstance(built["optimizer"], torch.optim.Adam)
    assert built["optimizer"].param_groups[0]["weight_decay"] == 1e-5
    assert set(_rates(cfg, 4, 3)) == {3e-4}


def test_unknown_scheduler_is_refused_when_the_config_is_read():
    with pytest.raises(ConfigError, match="scheduler must be one of noam, constant; got 'cosine'"):
        RunConfig().with_overrides(["optim.scheduler=cosine"])
