"""CharRNN recipe: tokens → LSTM language model on the shared training core → ``CharRNNGenerator``."""

from __future__ import annotations

from typing import Any

from molgen.config import CharRNNConfig, RunConfig
from molgen.families.base import register_generator
from molgen.families.generation.tokens import TokenRecipe
from molgen.models.generative.charrnn import CharRNN, CharRNNGenerator


@register_generator("charrnn")
class CharRNNRecipe(TokenRecipe):
    name = "charrnn"
    section = CharRNNConfig
    generator = CharRNNGenerator

    @staticmethod
    def build(sizes: dict[str, Any], vocab_size: int) -> CharRNN:
        return CharRNN(vocab_size, sizes["embedding_dim"], sizes["hidden_dim"], sizes["depth"], sizes["dropout"])

    @classmethod
    def module(cls, cfg: RunConfig, network: Any) -> Any:
        from molgen.training.generative import LanguageModelModule

        return LanguageModelModule(network, cfg.optim)
