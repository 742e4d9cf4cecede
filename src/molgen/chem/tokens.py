"""SMILES and SELFIES tokenizers and the token vocabulary of the language-model generators.

A SMILES is split with the usual regular expression (bracket atoms such as ``[nH]`` or ``[C@@H]`` are one
token, ``Cl`` and ``Br`` are one token, ``%12`` is one two-digit ring closure); SELFIES come from the
``selfies`` package (imported on first use). A :class:`TokenCodec` (tokenizer + :class:`Vocabulary`) turns
SMILES into integer ids ``<bos> t1 … tn <eos>`` and back; it is saved as primitives (``to_dict``) in
``model.yaml``, so loading a model never unpickles. A token outside the vocabulary is an error naming the token
and the SMILES.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from molgen.errors import InvalidInputError
from molgen.registry import Registry

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = range(4)

_SMILES_TOKEN = re.compile(r"\[[^\[\]]+\]|Br|Cl|%\d{2}|[BCNOPSFIbcnops]|[()=#\-+\\/:~@?>*$.]|\d")

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "SPECIAL_TOKENS",
    "TOKENIZERS",
    "UNK",
    "SelfiesTokenizer",
    "SmilesTokenizer",
    "TokenCodec",
    "TokenizationError",
    "Vocabulary",
]


class TokenizationError(InvalidInputError):
    """A SMILES that cannot be split into tokens, or holds a token outside the vocabulary."""


class Tokenizer(Protocol):
    kind: str

    def tokenize(self, smiles: str) -> list[str]: ...

    def detokenize(self, tokens: Sequence[str]) -> str: ...


class SmilesTokenizer:
    """Regex SMILES tokenizer: ``"C[C@@H](Cl)c1ccccc1%10"`` → ``C [C@@H] ( Cl ) c 1 c c c c c 1 %10``."""

    kind = "smiles"

    def tokenize(self, smiles: str) -> list[str]:
        tokens = _SMILES_TOKEN.findall(smiles)
        if sum(map(len, tokens)) != len(smiles):
            position = _first_gap(smiles, tokens)
            raise TokenizationError(
                f"cannot tokenize SMILES {smiles!r}: unexpected character {smiles[position]!r} at position {position}"
            )
        return tokens

    def detokenize(self, tokens: Sequence[str]) -> str:
        return "".join(tokens)


def _first_gap(smiles: str, tokens: list[str]) -> int:
    position = 0
    for match in _SMILES_TOKEN.finditer(smiles):
        if match.start() != position:
            return position
        position = match.end()
    return position


class SelfiesTokenizer:
    """SELFIES tokens of a SMILES (``selfies.encoder`` then ``split_selfies``); decoding returns a SMILES."""

    kind = "selfies"

    def tokenize(self, smiles: str) -> list[str]:
        import selfies

        try:
            encoded = selfies.encoder(smiles)
        except selfies.EncoderError as err:
            raise TokenizationError(f"cannot encode SMILES {smiles!r} as SELFIES: {err}") from None
        return list(selfies.split_selfies(encoded))

    def detokenize(self, tokens: Sequence[str]) -> str:
        import selfies

        try:
            return selfies.decoder("".join(tokens)) or ""
        except selfies.DecoderError:
            return ""


TOKENIZERS: Registry[type] = Registry("tokenizer", {"smiles": SmilesTokenizer, "selfies": SelfiesTokenizer})


@dataclass(frozen=True)
class Vocabulary:
    """Tokens by id; ids 0–3 are ``<pad> <bos> <eos> <unk>``. ``<unk>`` is never produced: encoding an unknown
    token is an error and sampling masks it out."""

    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        if tuple(self.tokens[:4]) != SPECIAL_TOKENS:
            raise ValueError(f"a vocabulary must start with the special tokens {SPECIAL_TOKENS}, got {self.tokens[:4]}")
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("a vocabulary holds each token once")
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.tokens)})

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]]) -> Vocabulary:
        """Every token seen, most frequent first (ties alphabetical), after the special tokens."""
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        ordered = sorted((t for t in counts if t not in SPECIAL_TOKENS), key=lambda t: (-counts[t], t))
        return cls((*SPECIAL_TOKENS, *ordered))

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index  # type: ignore[attr-defined]

    def index(self, token: str, smiles: str) -> int:
        """Id of ``token``; ``smiles`` names the molecule in the error for an unknown token."""
        try:
            return self._index[token]  # type: ignore[attr-defined]
        except KeyError:
            shown = " ".join(t for t in self.tokens[4:40]) + (" …" if len(self.tokens) > 40 else "")
            raise TokenizationError(
                f"token {token!r} of SMILES {smiles!r} is not in the model's vocabulary ({len(self.tokens) - 4} tokens: {shown})"
            ) from None


class TokenCodec:
    """A tokenizer and a vocabulary: SMILES ↔ id sequences ``<bos> t1 … tn <eos>``.

    Args:
        kind: ``smiles`` or ``selfies``.
        vocabulary: the token ids.
    """

    def __init__(self, kind: str, vocabulary: Vocabulary) -> None:
        self.tokenizer: Tokenizer = TOKENIZERS.get(kind)()
        self.kind, self.vocabulary = kind, vocabulary

    @classmethod
    def fit(cls, kind: str, smiles: Iterable[str]) -> TokenCodec:
        """A codec whose vocabulary holds every token of ``smiles``."""
        tokenizer = TOKENIZERS.get(kind)()
        return cls(kind, Vocabulary.build(tokenizer.tokenize(s) for s in smiles))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "tokens": list(self.vocabulary.tokens)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TokenCodec:
        return cls(values["kind"], Vocabulary(tuple(values["tokens"])))

    def __len__(self) -> int:
        return len(self.vocabulary)

    def encode(self, smiles: str) -> list[int]:
        """``[BOS, t1 … tn, EOS]``; TokenizationError for untokenizable SMILES or unknown tokens."""
        return [BOS_ID, *(self.vocabulary.index(t, smiles) for t in self.tokenizer.tokenize(smiles)), EOS_ID]

    def decode(self, ids: Iterable[int]) -> str:
        """Tokens up to the first ``<eos>`` (``<bos>``/``<pad>`` skipped) joined back into a SMILES."""
        tokens = []
        for i in ids:
            i = int(i)
            if i == EOS_ID:
                break
            if i in (PAD_ID, BOS_ID, UNK_ID):
                continue
            tokens.append(self.vocabulary.tokens[i])
        return self.tokenizer.detokenize(tokens)

    def decode_batch(self, ids: np.ndarray) -> list[str]:
        """``[B, L]`` id array → ``B`` strings."""
        return [self.decode(row) for row in np.asarray(ids)]

    def encode_many(self, smiles: Sequence[str], max_length: int) -> tuple[list[np.ndarray], list[int]]:
        """Id arrays (int64, with ``<bos>``/``<eos>``) of the SMILES with at most ``max_length`` tokens, and
        the positions of those that are longer (left out)."""
        encoded, too_long = [], []
        for i, s in enumerate(smiles):
            ids = self.encode(s)
            if len(ids) - 2 > max_length:
                too_long.append(i)
                continue
            encoded.append(np.asarray(ids, dtype=np.int64))
        return encoded, too_long
