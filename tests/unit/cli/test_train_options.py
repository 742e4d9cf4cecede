"""``molgen train`` / ``molgen tune`` options generated from the config schema; errors and start-up."""

import subprocess
import sys

import pytest
import yaml

from molgen.cli.main import build_parser, main

# Every flag of molgen train before the options were generated from the schema (README), with a value.
OLD_FLAGS = [
    ["--data", "x.csv"], ["--smiles-column", "smi"], ["--target-columns", "a", "b"], ["--split", "scaffold"],
    ["--split-sizes", "0.7", "0.2", "0.1"], ["--split-column", "fold"], ["--n-folds", "3"], ["--on-invalid", "skip"],
    ["--descriptors"], ["--batch-size", "32"], ["--max-rows", "100"], ["--featurize-jobs", "2"],
    ["--sequence-column", "seq"], ["--labels", "y.csv"], ["--reference", "g.fa"], ["--seq-length", "200"],
    ["--no-rc-augment"], ["--family", "expression"], ["--model", "gin"], ["--hidden-dim", "64"], ["--depth", "2"],
    ["--dropout", "0.1"], ["--readout", "sum"], ["--task-type", "binary"], ["--metrics", "roc_auc", "f1"],
    ["--monitor", "roc_auc"], ["--lr", "3e-4"], ["--max-epochs", "2"], ["--max-minutes", "1.5"], ["--patience", "0"],
    ["--seed", "7"], ["--ensemble-size", "2"], ["--accelerator", "cpu"], ["--devices", "[0, 1]"],
    ["--strategy", "ddp"], ["--precision", "bf16-mixed"], ["--deterministic"], ["--output", "runs/x"],
]  # fmt: skip


def _print_config(capsys, *argv):
    assert main(["train", *argv, "--print-config"]) == 0
    return yaml.safe_load(capsys.readouterr().out)


def test_every_old_flag_still_sets_its_key(capsys):
    cfg = _print_config(capsys, *[arg for flag in OLD_FLAGS for arg in flag])
    assert cfg["data"]["target_columns"] == ["a", "b"] and cfg["data"]["split_sizes"] == [0.7, 0.2, 0.1]
    assert cfg["data"]["split"] == "scaffold" and cfg["data"]["on_invalid"] == "skip" and cfg["data"]["descriptors"]
    assert cfg["data"]["rc_augment"] is False and cfg["data"]["seq_length"] == 200
    assert cfg["model"] == {"name": "gin", "hidden_dim": 64, "depth": 2, "dropout": 0.1, "readout": "sum",
                            "ffn_hidden_dim": 300, "ffn_layers": 2}  # fmt: skip
    assert cfg["task"]["type"] == "binary" and cfg["task"]["metrics"] == ["roc_auc", "f1"]
    assert cfg["optim"]["lr"] == 3e-4 and cfg["trainer"]["devices"] == [0, 1] and cfg["trainer"]["deterministic"]
    assert cfg["output"] == "runs/x" and cfg["family"] == "expression"


def test_print_config_resolves_the_family_and_set(capsys, tmp_path):
    cfg = _print_config(capsys, "--data", str(tmp_path / "x.fasta"), "--set", "optim.weight_decay=1e-5")
    assert cfg["family"] == "expression" and cfg["optim"]["weight_decay"] == 1e-5


def test_model_flags_apply_after_the_name(capsys):
    cfg = _print_config(capsys, "--hidden-dim", "64", "--set", "model.name=transformer", "--set", "model.n_heads=2")
    assert cfg["model"]["name"] == "transformer" and cfg["model"]["hidden_dim"] == 64 and cfg["model"]["n_heads"] == 2
    cfg = _print_config(capsys, "--model", "charrnn", "--hidden-dim", "512", "--set", "generation.max_length=80")
    assert (cfg["model"]["hidden_dim"], cfg["model"]["max_length"], cfg["family"]) == (512, 80, "generation")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.split=banana", "data.split must be one of random, scaffold, stratified, predefined; got 'banana'"),
        ("optim.scheduler=cosine", "optim.scheduler must be one of noam, constant; got 'cosine'"),
        ("data.on_invalid=bogus", "data.on_invalid must be one of error, skip; got 'bogus'"),
        ("model.kmer_size=3", "model 'dmpnn' has no key 'model.kmer_size'; valid keys for dmpnn: model.name"),
    ],
)
def test_bad_values_fail_at_once_naming_the_valid_ones(capsys, tmp_path, override, message):
    missing = tmp_path / "not-read.csv"  # never read: the config fails first
    assert main(["train", "--data", str(missing), "--set", override]) == 2
    err = capsys.readouterr().err
    assert err.startswith("molgen train: error: ") and message in err and err.count("\n") == 1


def test_argparse_choices_come_from_the_literals(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["train", "--split", "banana"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'banana'" in err and "stratified" in err


def test_help_is_grouped_by_section():
    train = build_parser()._subparsers._group_actions[0].choices["train"]  # type: ignore[union-attr]
    titles = [group.title for group in train._action_groups]
    assert titles[2:] == [
        "data",
        "DNA sequences (expression family)",
        "model and task",
        "training",
        "uncertainty",
        "differential privacy (DP-SGD)",
    ]
    text = train.format_help()
    assert "--split SPLIT         random | scaffold | stratified | predefined" in text
    assert "--print-config" in text and "--set KEY=VALUE" in text


def test_tune_takes_the_run_options():
    args = build_parser().parse_args(["tune", "--space", "s.yaml", "--n-trials", "2", "--lr", "1e-3", "--output", "t"])
    assert args.output == "t" and vars(args)["config:optim.lr"] == 1e-3


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\nfrom molgen.cli.main import main\n"
        "for argv in (['--help'], ['train', '--help'], ['tune', '--help']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "heavy = sorted(m for m in ('torch', 'rdkit', 'lightning', 'pandas', 'molgen.families', 'molgen.recipes')"
        " if m in sys.modules)\nprint(heavy, file=sys.stderr)\nassert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
