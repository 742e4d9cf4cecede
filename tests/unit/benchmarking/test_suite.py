"""Suite YAML schema: strict keys, profiles, override order, --only patterns, thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from molgen.benchmarking.suite import SuiteError, find_suite, load_suite

SUITE = {
    "name": "tiny",
    "set": {"trainer.progress_bar": False, "model.hidden_dim": 32},
    "datasets": [
        {"name": "esol", "split": "random"},
        {"name": "bbbp", "split": "scaffold", "set": {"data.batch_size": 16}},
    ],
    "models": ["dmpnn", {"name": "gin", "set": {"model.depth": 2}}],
    "profiles": {
        "full": {"seeds": [0, 1, 2], "set": {"trainer.max_epochs": 50}},
        "ci": {
            "seeds": [0],
            "set": {"trainer.max_epochs": 2},
            "datasets": {"bbbp": {"data.max_rows": 100, "data.batch_size": 32}},
            "exclude": ["bbbp/gin"],
            "thresholds": {"esol/dmpnn": {"max": 1.5, "measured": 1.1, "measured_on": "2026-11-23"}},
        },
    },
}


def write(tmp_path: Path, values: dict) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return path


def test_profiles_make_cells_with_overrides_in_order(tmp_path: Path):
    suite = load_suite(write(tmp_path, SUITE))
    full = suite.cells("full")
    assert len(full) == 2 * 2 * 3
    ci = suite.cells("ci")
    assert [c.key for c in ci] == ["esol/dmpnn/seed0", "esol/gin/seed0", "bbbp/dmpnn/seed0"]
    cfg = ci[2].config(tmp_path / "run")
    assert cfg.data.name == "bbbp" and cfg.data.split == "scaffold" and cfg.trainer.seed == 0
    assert (
        cfg.data.max_rows == 100 and cfg.data.batch_size == 32
    )  # the profile's dataset override wins over the dataset's
    assert cfg.trainer.max_epochs == 2 and cfg.model.hidden_dim == 32 and cfg.output == str(tmp_path / "run")
    assert ci[1].config("x").model.depth == 2
    assert suite.profile("ci").thresholds["esol/dmpnn"].max == 1.5
    assert suite.profile("ci").thresholds["esol/dmpnn"].violation(1.6) == "1.6000 > max 1.5"
    assert suite.profile("ci").thresholds["esol/dmpnn"].violation(1.2) is None


def test_a_model_variant_trains_its_architecture_under_its_own_label(tmp_path: Path):
    variant = {"name": "dmpnn-deep", "model": "dmpnn", "set": {"model.depth": 5}}
    suite = load_suite(write(tmp_path, {**SUITE, "models": ["dmpnn", "gin", variant]}))
    cells = suite.cells("full", ["esol/dmpnn-deep"])
    assert [c.key for c in cells] == [f"esol/dmpnn-deep/seed{s}" for s in (0, 1, 2)]
    cfg = cells[0].config("x")
    assert cfg.model.name == "dmpnn" and cfg.model.depth == 5
    assert [c.key for c in suite.cells("full", ["esol/dmpnn"])] == [f"esol/dmpnn/seed{s}" for s in (0, 1, 2)]


def test_seeds_replace_the_profiles(tmp_path: Path):
    suite = load_suite(write(tmp_path, SUITE))
    keys = [c.key for c in suite.cells("ci", ["esol/dmpnn"], seeds=[0, 1, 2])]
    assert keys == [f"esol/dmpnn/seed{s}" for s in (0, 1, 2)]
    assert suite.cells("ci", ["esol/dmpnn"], seeds=[4])[0].config("x").trainer.seed == 4


def test_only_patterns(tmp_path: Path):
    suite = load_suite(write(tmp_path, SUITE))
    assert [c.key for c in suite.cells("full", ["esol"])] == [
        f"esol/{m}/seed{s}" for m in ("dmpnn", "gin") for s in (0, 1, 2)
    ]
    assert {c.group for c in suite.cells("full", ["*/gin"])} == {"esol/gin", "bbbp/gin"}
    with pytest.raises(SuiteError, match="matches no cell.*esol/dmpnn"):
        suite.cells("full", ["qm9"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(datasett=[]), r"unknown key\(s\) datasett in top level; valid keys: name, description"),
        (
            lambda s: s["profiles"]["ci"].update(epochs=3),
            r"unknown key\(s\) epochs in profiles.ci; valid keys: description, seeds",
        ),
        (lambda s: s["profiles"].pop("full"), "profiles is missing full"),
        (lambda s: s["profiles"].update(nightly={}), r"unknown key\(s\) nightly in profiles; valid keys: ci, full"),
        (lambda s: s["datasets"][0].update(spilt="random"), r"unknown key\(s\) spilt in datasets\[0\]"),
        (
            lambda s: s["profiles"]["ci"]["thresholds"].update({"esol/gcn": {"max": 1}}),
            "unknown cell 'esol/gcn'; cells: esol/dmpnn",
        ),
        (lambda s: s["profiles"]["ci"]["thresholds"]["esol/dmpnn"].update(maximum=1), r"unknown key\(s\) maximum"),
        (lambda s: s["profiles"]["ci"]["thresholds"].update({"esol/gin": {"measured": 1}}), "needs min or max"),
        (lambda s: s["profiles"]["ci"].update(seeds=[]), "seeds must be a non-empty list"),
        (lambda s: s["profiles"]["ci"]["datasets"].update(hiv={}), "unknown name 'hiv'; valid names: esol, bbbp"),
        (lambda s: s["profiles"]["ci"].update(exclude=["tox21/*"]), "exclude pattern 'tox21/\\*' matches no cell"),
        (
            lambda s: s["set"].update({"trainer.max_epoch": 3}),
            "unknown config key 'trainer.max_epoch'; valid keys: .*max_epochs",
        ),
        (lambda s: s["models"].append("gin"), "models lists gin more than once"),
    ],
)
def test_bad_suites_name_the_key_and_the_valid_choices(tmp_path: Path, change, message: str):
    values = yaml.safe_load(yaml.safe_dump(SUITE))
    change(values)
    with pytest.raises(SuiteError, match=message):
        load_suite(write(tmp_path, values))


def test_unknown_profile_lists_valid_ones(tmp_path: Path):
    suite = load_suite(write(tmp_path, SUITE))
    with pytest.raises(SuiteError, match="no profile 'nightly'; valid profiles: ci, full"):
        suite.cells("nightly")


def test_find_suite_by_name_or_path(tmp_path: Path):
    path = write(tmp_path, SUITE)
    assert find_suite(str(path)) == path
    (tmp_path / "tiny.yaml").write_text(path.read_text())
    assert find_suite("tiny", tmp_path) == tmp_path / "tiny.yaml"
    with pytest.raises(SuiteError, match="unknown suite 'nope'; suites in .*: suite, tiny"):
        find_suite("nope", tmp_path)


@pytest.mark.parametrize("name", ["moleculenet", "expression", "moses"])
def test_committed_suites_load(name: str):
    suite = load_suite(find_suite(name))
    assert suite.cells("ci") and suite.cells("full")
    assert all(t.measured is not None and t.measured_on for t in suite.profile("ci").thresholds.values())
