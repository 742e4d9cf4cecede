"""CharRNN recipe: tokens → LSTM language model on the shared training core → ``CharRNNGenerator``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from molgen.chem.smiles_sets import SmilesSplits
from molgen.config import CharRNNConfig, RunConfig, model_section
from molgen.families.base import register_generator
from molgen.families.generation.family import TrainedGenerator
from molgen.families.generation.tokens import load_token_model, train_token_model
from molgen.models.generative.charrnn import CharRNN, CharRNNGenerator
from molgen.training.artifacts import ModelSpec

NAME = "charrnn"


def build(sizes: dict[str, Any], vocab_size: int) -> CharRNN:
    return CharRNN(vocab_size, sizes["embedding_dim"], sizes["hidden_dim"], sizes["depth"], sizes["dropout"])


def train(
    cfg: RunConfig, data: SmilesSplits, run_dir: Path, *, resume: bool = False, callbacks: list | None = None
) -> TrainedGenerator:
    from molgen.training.generative import LanguageModelModule

    model_section(cfg, CharRNNConfig)  # a clear error when the model section is not CharRNN's
    return train_token_model(
        cfg,
        data,
        run_dir,
        name=NAME,
        build=build,
        make_module=lambda model: LanguageModelModule(model, cfg.optim),
        make_generator=CharRNNGenerator,
        resume=resume,
        callbacks=callbacks,
    )


def load(model_dir: Path, spec: ModelSpec) -> CharRNNGenerator:
    return load_token_model(model_dir, spec, build, CharRNNGenerator)


@register_generator("charrnn")
class CharRNNRecipe:
    train = staticmethod(train)
    load = staticmethod(load)
