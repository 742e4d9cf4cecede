"""Model cards: the molgen version, the evaluation protocol (one split vs k folds) and the stop reason."""

from __future__ import annotations

from molgen import __version__
from molgen.config import RunConfig
from molgen.training.artifacts import model_spec
from molgen.training.model_card import describe_stops, property_model_card

METRICS = {"val": {"rmse": 1.0}, "test": {"rmse": 1.1}}
EARLY = {
    "reason": "early_stopping",
    "epochs": 7,
    "epoch": 7,
    "patience": 5,
    "text": "early stopping at epoch 7 (patience 5)",
}
MAX = {"reason": "max_epochs", "epochs": 50, "text": "max_epochs (50) reached"}


def card(n_folds: int, stopped: list[dict], version: str | None = None) -> str:
    cfg = RunConfig().with_values(
        {"model.name": "dmpnn", "data.name": "tiny.csv", "data.split": "scaffold", "data.n_folds": n_folds}
    )
    spec = model_spec(
        cfg,
        None,
        METRICS,
        input={"kind": "smiles", "column": "smiles"},
        featurizer={"atom_features": "v2"},
        model=cfg.model.model_dump(),
        task={"type": "regression", "targets": ["logp"]},
    )
    spec.trained_on["stopped"] = stopped
    if version is not None:
        spec.molgen_version = version
    return property_model_card(spec, cfg, METRICS)


def test_fold_and_single_run_cards_state_their_own_protocol():
    single, folds = card(1, [EARLY]), card(5, [EARLY, MAX, MAX, MAX, MAX])
    assert "one scaffold split (train/val/test 0.8/0.1/0.1" in single and "cross-validation" not in single
    assert "Test metrics come from one scaffold split." in single
    assert "5-fold cross-validation (scaffold folds" in folds and "mean ± std over the folds" in folds
    assert "one scaffold split" not in folds and "Test metrics come from 5-fold scaffold cross-validation." in folds


def test_card_says_how_training_ended_not_just_the_limit():
    text = card(1, [EARLY])
    assert "early stopping at epoch 7 (patience 5) (limit 50 epochs)" in text and "50 max epochs" not in text
    assert (
        describe_stops([EARLY, MAX, MAX])
        == "early stopping at epoch 7 (patience 5); max_epochs (50) reached (×2 models)"
    )
    assert describe_stops([]) == "stop reason not recorded"


def test_card_version_is_never_empty():
    assert f"**Trained with**: molgen {__version__};" in card(1, [MAX])
    # a spec without a version (format-1 models rendered their card before the version was set)
    assert f"**Trained with**: molgen {__version__};" in card(1, [MAX], version="")


def test_generator_metrics_table_has_no_nan_for_metrics_a_split_does_not_have():
    from molgen.training.model_card import metrics_table

    table = metrics_table({"val": {"loss": 0.61}, "test": {"valid": 0.9, "unique@1000": 1.0, "Scaf": float("nan")}})
    assert "nan" not in table
    rows = {line.split(" | ")[0].strip("| "): line for line in table.splitlines()[2:]}
    assert rows["loss"] == "| loss | 0.6100 | – |" and rows["valid"] == "| valid | – | 0.9000 |"
    assert rows["Scaf"] == "| Scaf | – | NaN |"  # computed but undefined: said so, not hidden
