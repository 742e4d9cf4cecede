import logging

import pytest
import yaml

from molgen.config import (
    CharRNNConfig,
    ConfigError,
    DnaTransformerModelConfig,
    GraphModelConfig,
    KmerModelConfig,
    MolGANConfig,
    RunConfig,
    VAEConfig,
    load_config,
    model_config,
    replace,
)


def test_defaults_roundtrip_through_yaml(tmp_path):
    cfg = RunConfig().with_values({"data.name": "bbbp", "trainer.max_epochs": 3, "model.name": "gin"})
    path = tmp_path / "config.yaml"
    cfg.save(path)
    again = load_config(path)
    assert again == cfg
    assert again.trainer.max_epochs == 3 and again.model.name == "gin"


@pytest.mark.parametrize("name", ["dmpnn", "transformer", "kmer", "vae", "molgan"])
def test_every_model_section_roundtrips(tmp_path, name):
    cfg = RunConfig().with_values({"model.name": name, "family": None})
    cfg.save(tmp_path / "c.yaml")
    assert load_config(tmp_path / "c.yaml") == cfg


def test_unknown_key_names_valid_keys(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("trainer:\n  max_epoch: 3\n")
    with pytest.raises(ConfigError, match=r"trainer.max_epoch.*valid keys in trainer: max_epochs"):
        load_config(path)


def test_unknown_section_names_valid_sections():
    with pytest.raises(
        ConfigError, match="valid sections: data, model, optim, pretrain, privacy, task, trainer, uncertainty"
    ):
        RunConfig().with_overrides(["trainr.max_epochs=3"])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "data.split=banana",
            "data.split must be one of random, scaffold, stratified, predefined; got 'banana'",
        ),
        (
            "optim.scheduler=cosine",
            "optim.scheduler must be one of noam, constant; got 'cosine'",
        ),
        (
            "data.on_invalid=bogus",
            "data.on_invalid must be one of error, skip; got 'bogus'",
        ),
        ("data.pad=middle", "data.pad must be one of center, right, left"),
        ("data.n_value=half", "data.n_value must be one of uniform, zero"),
        ("task.type=ranking", "task.type must be one of regression, binary"),
        ("family=chemistry", "family must be one of property, expression, generation"),
        (
            "model.readout=flatten",
            "model.readout must be one of mean, sum, attention; got 'flatten'",
        ),
    ],
)
def test_closed_choices_fail_when_read(override, message):
    with pytest.raises(ConfigError) as err:
        RunConfig().with_overrides([override])
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_literal_in_a_file_names_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  split: banana\n")
    with pytest.raises(ConfigError, match=r"c.yaml: data.split must be one of random, scaffold"):
        load_config(path)


def test_generator_choices_are_checked():
    cfg = RunConfig().with_values({"model.name": "molgan"})
    with pytest.raises(
        ConfigError,
        match="model.gumbel must be one of softmax, soft_gumbel, hard_gumbel",
    ):
        cfg.with_values({"model.gumbel": "gumble"})
    with pytest.raises(ConfigError, match="model.reward must be one of qed, logp, sa"):
        cfg.with_values({"model.reward": "potency"})
    with pytest.raises(ConfigError, match="reward_weight > 0 needs model.reward"):
        cfg.with_values({"model.reward_weight": 0.5})
    with pytest.raises(ConfigError, match="model.tokenizer must be one of smiles, selfies"):
        RunConfig().with_values({"model.name": "vae", "model.tokenizer": "inchi"})


def test_model_sections_are_a_discriminated_union():
    assert isinstance(RunConfig().model, GraphModelConfig)
    assert isinstance(RunConfig().with_values({"model.name": "kmer"}).model, KmerModelConfig)
    transformer = RunConfig.from_dict({"model": {"name": "transformer", "n_heads": 2}}).model
    assert isinstance(transformer, DnaTransformerModelConfig) and transformer.n_heads == 2
    # CPU-sized DNA defaults, not the graph models' 300 (issue 14): cnn/dilated 128, transformer 64 × 2 layers
    assert (transformer.hidden_dim, transformer.depth, transformer.dropout) == (64, 2, 0.1)
    cnn = RunConfig().with_values({"model.name": "cnn"}).model
    assert (cnn.hidden_dim, cnn.ffn_hidden_dim, cnn.dropout) == (128, 128, 0.2)
    charrnn = RunConfig().with_values({"model.name": "charrnn"}).model
    assert isinstance(charrnn, CharRNNConfig) and (
        charrnn.hidden_dim,
        charrnn.max_length,
    ) == (300, 100)


def test_key_of_another_model_names_the_models_keys():
    with pytest.raises(
        ConfigError,
        match=r"model 'dmpnn' has no key 'model.kmer_size'; valid keys for dmpnn: model.name",
    ):
        RunConfig().with_overrides(["model.kmer_size=3"])
    with pytest.raises(ConfigError, match=r"model.kmer_size.*valid keys in model 'gin'"):
        RunConfig.from_dict({"model": {"name": "gin", "kmer_size": 3}})


def test_unknown_model_name_lists_the_models():
    with pytest.raises(ConfigError, match="model.name must be one of dmpnn, gin, .*molgan; got 'bert'"):
        RunConfig().with_values({"model.name": "bert"})
    with pytest.raises(ConfigError, match="model.name must be one of dmpnn"):
        RunConfig.from_dict({"model": {"name": "bert"}})


def test_changing_the_model_revalidates_and_keeps_set_values():
    cfg = RunConfig().with_values({"model.hidden_dim": 128})
    cnn = cfg.with_values({"model.name": "cnn", "model.kernel_size": 9})
    assert (cnn.model.name, cnn.model.hidden_dim, cnn.model.kernel_size) == (
        "cnn",
        128,
        9,
    )
    # the name is applied before the other keys, whatever their order
    vae = cfg.with_values({"model.latent_dim": 32, "model.name": "vae"})
    assert isinstance(vae.model, VAEConfig) and vae.model.latent_dim == 32 and vae.model.hidden_dim == 128
    with pytest.raises(ConfigError, match="model 'kmer' has no key.*model.hidden_dim"):
        cfg.with_values({"model.name": "kmer"})


def test_legacy_generation_section_is_folded_into_the_model(tmp_path, caplog):
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  name: vae\n  hidden_dim: 256\ngeneration:\n  latent_dim: 64\n  tokenizer: selfies\n")
    with caplog.at_level(logging.WARNING, logger="molgen.config"):
        cfg = load_config(path)
    assert isinstance(cfg.model, VAEConfig)
    assert (cfg.model.latent_dim, cfg.model.tokenizer, cfg.model.hidden_dim) == (
        64,
        "selfies",
        256,
    )
    assert "generation" in caplog.text
    legacy = RunConfig().with_values({"model.name": "charrnn"}).with_overrides(["generation.max_length=50"])
    assert legacy.model.max_length == 50


# config.yaml of a run folder written by molgen before the model sections (every key of the flat model
# section and the whole generation section).
OLD_RUN_CONFIG = """\
family: expression
output: runs/ecoli-kmer
data: {name: ecoli_promoters_165, split: predefined, on_invalid: error}
model: {name: kmer, hidden_dim: 300, depth: 3, dropout: 0.0, readout: null, ffn_hidden_dim: 300, ffn_layers: 2,
        kernel_size: null, n_heads: 4, kmer_size: 4}
task: {type: regression, n_classes: null, metrics: [pearson], monitor: pearson}
optim: {lr: 0.001, weight_decay: 0.0, scheduler: noam, warmup_epochs: 2.0, init_lr_ratio: 0.1, final_lr_ratio: 0.1}
trainer: {max_epochs: 5, seed: 0, devices: auto}
generation: {tokenizer: smiles, max_length: 100, embedding_dim: 64, latent_dim: 128, encoder_hidden_dim: 256,
             encoder_depth: 1, kl_weight_start: 0.0, kl_weight_end: 0.05, kl_anneal_start: 0, kl_anneal_epochs: 10,
             val_fraction: 0.05, sample_size: 1000, temperature: 1.0, sample_batch_size: 512, n_critic: 5,
             gradient_penalty: 10.0, lr_discriminator: null, adam_beta1: 0.5, noise_dim: null, val_sample_size: 256,
             autoencoder: null, max_atoms: 9, atom_types: [C, N, O, F], gumbel: hard_gumbel, reward: null,
             reward_weight: 0.0}
"""


def test_old_run_folder_config_loads(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(OLD_RUN_CONFIG)
    cfg = load_config(path)
    assert cfg.model == KmerModelConfig(kmer_size=4)
    assert cfg.family == "expression" and cfg.trainer.max_epochs == 5
    assert "generation" not in cfg.to_dict()


def test_old_model_spec_section_loads_leniently():
    old = yaml.safe_load(OLD_RUN_CONFIG)["model"] | {"name": "cnn", "hidden_dim": 64}
    model = model_config(old, legacy=True)
    assert (model.name, model.hidden_dim) == ("cnn", 64)
    with pytest.raises(ConfigError, match="kmer_size"):
        model_config(old)


def test_dotted_overrides_are_typed():
    cfg = RunConfig().with_overrides(["optim.lr=5e-4", "trainer.devices=2", "data.target_columns=[a, b]"])
    assert cfg.optim.lr == 5e-4
    assert cfg.trainer.devices == 2
    assert cfg.data.target_columns == ["a", "b"]


def test_wrong_type_is_an_error():
    with pytest.raises(ConfigError, match="trainer.max_epochs must be int"):
        RunConfig().with_overrides(["trainer.max_epochs=many"])


def test_int_is_accepted_for_float_and_single_value_for_list():
    cfg = RunConfig().with_values({"optim.lr": 1, "data.target_columns": "y", "trainer.precision": 16})
    assert cfg.optim.lr == 1.0 and isinstance(cfg.optim.lr, float)
    assert cfg.data.target_columns == ["y"]
    assert cfg.trainer.precision == "16"


def test_replace_returns_a_validated_copy():
    cfg = RunConfig()
    assert replace(cfg.data, split="scaffold").split == "scaffold"
    assert cfg.data.split is None
    assert replace(cfg, family="expression").family == "expression"
    with pytest.raises(ConfigError, match="data.split must be one of"):
        replace(cfg.data, split="banana")
    with pytest.raises(ConfigError, match="unknown config key"):
        replace(cfg.optim, learning_rate=1.0)
    assert isinstance(replace(cfg, model=MolGANConfig()).model, MolGANConfig)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_json_schema_names_every_model_section():
    schema = RunConfig.model_json_schema()
    assert {"GraphModelConfig", "KmerModelConfig", "MolGANConfig", "DataConfig"} <= set(schema["$defs"])
    split = schema["$defs"]["DataConfig"]["properties"]["split"]
    assert split["cli"]["help"].startswith("random | scaffold")
