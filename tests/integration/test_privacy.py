"""DP-SGD (``--dp-epsilon``) through the one supervised loop: real Opacus, real Lightning, real files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from opacus.accountants import RDPAccountant
from tests.integration.test_expression_overfit import planted

from molgen.analysis.prediction import load_model, predict_frame
from molgen.config import RunConfig
from molgen.errors import ConfigError
from molgen.recipes import fit

FAST = {"trainer.accelerator": "cpu", "trainer.devices": 1, "trainer.progress_bar": False, "data.featurize_jobs": 1}


def _config(data: Path, out: Path, **values) -> RunConfig:
    return RunConfig().with_values({"data.name": str(data), "output": str(out), **FAST, **values})


def _fpmlp(data: Path, out: Path, **values) -> RunConfig:
    return _config(
        data,
        out,
        **{
            "model.name": "fpmlp",
            "model.hidden_dims": [16],
            "data.target_columns": ["logp"],
            "data.batch_size": 8,
            "trainer.max_epochs": 3,
            **values,
        },
    )


@pytest.mark.slow
def test_spent_epsilon_is_opacus_accountant_for_the_steps_taken(regression_csv: Path, tmp_path: Path):
    fit(_fpmlp(regression_csv, tmp_path / "run", **{"privacy.epsilon": 4.0, "privacy.max_grad_norm": 0.5}))
    privacy = json.loads((tmp_path / "run" / "metrics.json").read_text())["privacy"]
    n_train = 32  # 40 rows, 80/10/10
    assert privacy["n_train"] == n_train and privacy["delta"] == pytest.approx(1 / n_train)
    assert privacy["sample_rate"] == pytest.approx(1 / 4) and privacy["steps"] == 3 * 4 == privacy["planned_steps"]
    assert privacy["max_grad_norm"] == 0.5 and privacy["accountant"] == "rdp"
    accountant = RDPAccountant()
    accountant.history = [(privacy["noise_multiplier"], privacy["sample_rate"], privacy["steps"])]
    assert privacy["epsilon"] == pytest.approx(accountant.get_epsilon(delta=privacy["delta"]), rel=1e-12)
    assert 3.9 < privacy["epsilon"] <= 4.0  # the noise is calibrated to spend the target over --max-epochs
    spec = yaml.safe_load((tmp_path / "run" / "model" / "model.yaml").read_text())
    assert spec["privacy"]["epsilon"] == privacy["epsilon"]
    card = (tmp_path / "run" / "model" / "README.md").read_text()
    assert f"ε = {privacy['epsilon']:.3f}" in card and "Differential privacy" in card
    log = pd.read_csv(tmp_path / "run" / "logs" / "metrics.csv")
    per_epoch = log["privacy/epsilon"].dropna().tolist()
    assert len(per_epoch) == 3 and per_epoch == sorted(per_epoch) and per_epoch[-1] == pytest.approx(privacy["epsilon"])


@pytest.mark.slow
def test_early_stopping_spends_less_than_the_target(regression_csv: Path, tmp_path: Path):
    no_progress = {"optim.lr": 1e-12, "optim.scheduler": "constant", "trainer.patience": 1, "trainer.max_epochs": 10}
    fit(_fpmlp(regression_csv, tmp_path / "run", **{"privacy.epsilon": 4.0, **no_progress}))
    privacy = json.loads((tmp_path / "run" / "metrics.json").read_text())["privacy"]
    assert privacy["steps"] == 2 * 4 and privacy["planned_steps"] == 10 * 4  # stopped after epoch 2 of 10
    accountant = RDPAccountant()
    accountant.history = [(privacy["noise_multiplier"], privacy["sample_rate"], privacy["steps"])]
    assert privacy["epsilon"] == pytest.approx(accountant.get_epsilon(delta=privacy["delta"]), rel=1e-12)
    assert privacy["epsilon"] < 4.0


def test_unreachable_epsilon_is_refused_before_training(regression_csv: Path, tmp_path: Path):
    with pytest.raises(ConfigError, match=r"--dp-epsilon 1e-09 cannot be met .* --max-epochs 3"):
        fit(_fpmlp(regression_csv, tmp_path / "run", **{"privacy.epsilon": 1e-9, "privacy.delta": 1e-5}))
    assert not (tmp_path / "run" / "checkpoints").exists()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"model.name": "dmpnn"}, r"per atom \(node\), not per molecule.*--model fpmlp"),
        ({"model.name": "gin"}, r"cannot train with DP-SGD.*property models with DP-SGD: fpmlp"),
        ({"model.name": "fpmlp", "trainer.ensemble_size": 2}, r"--ensemble-size > 1"),
        ({"model.name": "fpmlp", "data.n_folds": 3}, r"--n-folds > 1"),
    ],
)
def test_refused_combinations(regression_csv: Path, tmp_path: Path, values: dict, message: str):
    cfg = _config(regression_csv, tmp_path / "run", **{"data.target_columns": ["logp"], "privacy.epsilon": 3.0})
    with pytest.raises(ConfigError, match=message):
        fit(cfg.with_values(values))
    assert not (tmp_path / "run" / "checkpoints").exists()


@pytest.fixture
def dna_csv(tmp_path: Path) -> Path:
    seqs, counts = planted(48, 40)
    path = tmp_path / "dna.csv"
    pd.DataFrame({"sequence": seqs, "motifs": counts[:, 0]}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    "model",
    ["cnn", pytest.param("dilated", marks=pytest.mark.slow), pytest.param("transformer", marks=pytest.mark.slow)],
)
def test_dna_model_trains_under_dp_and_its_export_predicts(
    dna_csv: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, model: str
):
    cfg = _config(
        dna_csv,
        tmp_path / "run",
        **{
            "model.name": model,
            "model.hidden_dim": 16,
            "model.depth": 1,
            "model.ffn_hidden_dim": 8,
            "data.batch_size": 8,
            "trainer.max_epochs": 2,
            "privacy.epsilon": 8.0,
        },
    )
    with caplog.at_level(logging.INFO, logger="molgen"):
        fit(cfg)
    replaced = [r.getMessage() for r in caplog.records if "replaced by" in r.getMessage()]
    assert any("BatchNorm1d replaced by GroupNorm" in m for m in replaced), replaced
    privacy = json.loads((tmp_path / "run" / "metrics.json").read_text())["privacy"]
    assert privacy["replaced_layers"] and 0 < privacy["epsilon"] <= 8.0
    if model == "transformer":
        assert any(r["to"] == "DPMultiheadAttention" for r in privacy["replaced_layers"])
    loaded = load_model(tmp_path / "run" / "model")  # rebuilt with GroupNorm before the weights load (strict)
    out = predict_frame(loaded, pd.DataFrame({"sequence": ["ACGT" * 10, "TGACTCA" * 5]}))
    assert out["valid"].all() and np.isfinite(out["motifs"]).all()


@pytest.mark.slow
def test_cli_refuses_a_graph_model_with_one_line(regression_csv: Path, tmp_path: Path):
    from tests.cli.test_train_predict import molgen

    result = molgen(
        "train", "--data", str(regression_csv), "--target-columns", "logp", "--model", "gin", "--dp-epsilon", "3",
        "--output", str(tmp_path / "run"), check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "cannot train with DP-SGD" in result.stderr and "--model fpmlp" in result.stderr
    assert "Traceback" not in result.stderr
