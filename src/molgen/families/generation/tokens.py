"""One module per generator: ``train(cfg, data, run_dir, *, resume, callbacks) -> TrainedGenerator`` and
``load(model_dir, spec) -> Generator``; looked up by name through ``molgen.families.generation.family.GENERATORS``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from molgen.chem.tokens import TokenCodec
from molgen.config import RunConfig, TokenModelConfig, model_section
from molgen.errors import InvalidInputError

log = logging.getLogger("molgen")


@dataclass
class EncodedSplits:
    """Token ids of the train and val molecules (at most ``model.max_length`` tokens each)."""

    codec: TokenCodec
    train: list[np.ndarray]
    val: list[np.ndarray]
    n_too_long: int

    @property
    def n_train_tokens(self) -> int:
        """Predicted tokens per training epoch (each sequence minus its ``<bos>``)."""
        return sum(len(s) - 1 for s in self.train)


def encode_splits(cfg: RunConfig, train: list[str], val: list[str]) -> EncodedSplits:
    """Fits the vocabulary on all molecules and encodes them; molecules longer than ``model.max_length``
    tokens are left out with a warning (counted in ``n_too_long``)."""
    section = model_section(cfg, TokenModelConfig)
    kind, max_length = section.tokenizer, section.max_length
    codec = TokenCodec.fit(kind, [*train, *val])
    train_ids, long_train = codec.encode_many(train, max_length)
    val_ids, long_val = codec.encode_many(val, max_length)
    n_too_long = len(long_train) + len(long_val)
    if n_too_long:
        log.warning(
            "%d molecule(s) longer than model.max_length=%d %s tokens left out (e.g. %s)",
            n_too_long, max_length, kind, (train[long_train[0]] if long_train else val[long_val[0]]),
        )
    if not train_ids or not val_ids:
        raise InvalidInputError(
            f"no training or validation molecule has at most model.max_length={max_length} {kind} tokens; raise it"
        )
    return EncodedSplits(codec, train_ids, val_ids, n_too_long)


def sizes_of(cfg: RunConfig) -> dict[str, Any]:
    """Network sizes recorded in ``model.yaml`` (primitives)."""
    keys = ("embedding_dim", "hidden_dim", "depth", "dropout", "latent_dim", "encoder_hidden_dim", "encoder_depth")
    return {key: getattr(cfg.model, key) for key in keys if hasattr(cfg.model, key)}
