"""Jobs, layouts and model references: what a worker is sent and what a resume compares."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from molgen.screening import scoring
from molgen.screening.scoring import ModelRef, PredictionLayout, ScreenJob


def test_export_layout_names_match_the_artifacts_module():
    from molgen.training import artifacts

    assert (scoring.MODEL_DIR, scoring.SPEC_FILE, scoring.WEIGHTS_FILE) == (
        artifacts.MODEL_DIR,
        artifacts.SPEC_FILE,
        artifacts.WEIGHTS_FILE,
    )


def test_model_refs_resolve_run_folders_and_fingerprint_contents(models, tmp_path):
    ensemble, single = models
    ref = ModelRef.of(ensemble)
    assert ref.path.endswith("/model") and ref == ModelRef.of(Path(ensemble) / "model")
    copy = tmp_path / "copy"
    shutil.copytree(Path(ensemble) / "model", copy)
    assert ModelRef.of(copy).fingerprint == ref.fingerprint != ModelRef.of(single).fingerprint
    with pytest.raises(FileNotFoundError, match="not a model folder"):
        ModelRef.of(tmp_path)


def test_a_job_pools_members_and_refuses_models_with_other_targets(models, tmp_path):
    ensemble, single = models
    job = ScreenJob.create([ensemble, single], ["lipinski"])
    assert job.layout == PredictionLayout("regression", ("logp",), None, 3)
    assert job.columns()[:6] == ["source", "row", "id", "smiles", "valid", "invalid_reason"]
    assert job.layout.columns() == ["logp", "logp_std"] and job.input_column == "smiles"
    assert job.domain and job.columns()[-5:-3] == ["train_similarity", "in_domain"]  # models with a domain
    assert "in_domain" not in ScreenJob.create([single], domain=False).columns()
    other = tmp_path / "other"
    shutil.copytree(Path(single) / "model", other)
    spec = yaml.safe_load((other / "model.yaml").read_text())
    spec["task"]["targets"] = ["solubility"]
    (other / "model.yaml").write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError, match="models disagree.*\\['logp'\\].*\\['solubility'\\]"):
        ScreenJob.create([single, other])
    with pytest.raises(ValueError, match="at least one --model"):
        ScreenJob.create([])


def test_layout_of_classifiers_and_name_clashes():
    multiclass = PredictionLayout("multiclass", ("kind",), 3, 2)
    assert multiclass.columns() == [
        "kind",
        "kind_prob_0",
        "kind_prob_0_std",
        "kind_prob_1",
        "kind_prob_1_std",
        "kind_prob_2",
        "kind_prob_2_std",
    ]
    assert list(multiclass.quantities()) == ["kind_prob_0", "kind_prob_1", "kind_prob_2"]
    clash = PredictionLayout("binary", ("valid", "toxic"), None, 1)
    assert clash.quantities() == {"valid_pred": None, "toxic": None}


@pytest.mark.parametrize("which", [(0, 1), (1,)], ids=["two-models", "one-model-its-domain-searched-ahead"])
def test_featurizing_ahead_in_a_worker_scores_every_block_as_this_process_does(models, tmp_path, which):
    """Blocks of 16 molecules (120 rows, invalid ones among them) featurized by a worker process ahead of the
    model (with one model, the worker also searches its domain): the same rows, reasons, predictions and domain
    columns as featurizing each block here."""
    from dataclasses import replace

    import pandas as pd
    from tests.unit.screening.helpers import INVALID, library_frame

    from molgen.data.shards import plan_library

    path = tmp_path / "lib.csv"
    library_frame(120).to_csv(path, index=False)
    (_, shards) = plan_library(path, 1000)
    here = replace(ScreenJob.create([models[i] for i in which], ["lipinski"]), block_size=16)
    ahead = replace(here, featurize_workers=1)
    assert ahead == here and ahead.describe() == here.describe()  # how it runs is not what it computes
    assert len({scoring._featurizer_key(ahead, ref) for ref in ahead.models}) == 1  # so a worker featurizes
    expected, got = scoring.score_shard(shards[0], here), scoring.score_shard(shards[0], ahead)
    assert sorted(got.index[~got["valid"]]) == sorted(INVALID) and got["logp"].notna().sum() == 120 - len(INVALID)
    assert got["train_similarity"].notna().sum() == 120 - len(INVALID)
    pd.testing.assert_frame_equal(got, expected)
