"""SMILES/SELFIES tokenizers, the vocabulary and the codec: round trips and clear errors."""

from __future__ import annotations

import pytest

from molgen.chem.tokens import (
    BOS,
    EOS,
    PAD,
    SPECIAL_TOKENS,
    UNK,
    SelfiesTokenizer,
    SmilesTokenizer,
    TokenCodec,
    TokenizationError,
    Vocabulary,
)

SMILES = [
    "CCO",
    "C[C@@H](Cl)c1ccccc1Br",
    "[Na+].[Cl-]",
    "c1cc[nH]c1",
    "C1CC2CCC1CC2",
    "C%10CCCCC%10",
    "O=C(O)/C=C/c1ccccc1",
    "[13CH3]C#N",
    "C1=CC=C2C=CC=CC2=C1",
]


@pytest.mark.parametrize("smiles", SMILES)
def test_smiles_tokens_join_back(smiles: str) -> None:
    tokenizer = SmilesTokenizer()
    assert tokenizer.detokenize(tokenizer.tokenize(smiles)) == smiles


def test_smiles_tokens_keep_bracket_atoms_halogens_and_two_digit_rings() -> None:
    tokens = SmilesTokenizer().tokenize("C[C@@H](Cl)c1ccc(Br)cc1%12.[nH+]")
    assert tokens == [
        "C",
        "[C@@H]",
        "(",
        "Cl",
        ")",
        "c",
        "1",
        "c",
        "c",
        "c",
        "(",
        "Br",
        ")",
        "c",
        "c",
        "1",
        "%12",
        ".",
        "[nH+]",
    ]


def test_untokenizable_smiles_names_character_and_position() -> None:
    with pytest.raises(TokenizationError, match=r"'CC&C'.*'&' at position 2"):
        SmilesTokenizer().tokenize("CC&C")


@pytest.mark.parametrize("smiles", SMILES)
def test_selfies_round_trip_gives_the_same_molecule(smiles: str) -> None:
    from rdkit import Chem

    tokenizer = SelfiesTokenizer()
    decoded = tokenizer.detokenize(tokenizer.tokenize(smiles))
    assert Chem.MolToSmiles(Chem.MolFromSmiles(decoded)) == Chem.MolToSmiles(Chem.MolFromSmiles(smiles))


@pytest.mark.parametrize("kind", ["smiles", "selfies"])
def test_codec_round_trip_and_saved_as_primitives(kind: str) -> None:
    codec = TokenCodec.fit(kind, SMILES)
    saved = codec.to_dict()
    assert saved["kind"] == kind and all(isinstance(t, str) for t in saved["tokens"])
    restored = TokenCodec.from_dict(saved)
    for smiles in SMILES:
        ids = restored.encode(smiles)
        assert ids[0] == 1 and ids[-1] == 2  # <bos> … <eos>
        assert ids == codec.encode(smiles)
        decoded = restored.decode(ids)
        assert decoded == smiles if kind == "smiles" else decoded


def test_unknown_token_names_token_and_smiles() -> None:
    codec = TokenCodec.fit("smiles", ["CCO", "c1ccccc1"])
    with pytest.raises(TokenizationError, match=r"token 'Cl' of SMILES 'CCCl' is not in the model's vocabulary"):
        codec.encode("CCCl")


def test_decoding_stops_at_eos_and_skips_specials() -> None:
    codec = TokenCodec.fit("smiles", ["CCO"])
    c, o = codec.vocabulary.index("C", ""), codec.vocabulary.index("O", "")
    assert codec.decode([1, c, 3, c, 0, o, 2, c, c]) == "CCO"


def test_vocabulary_starts_with_special_tokens_and_is_deterministic() -> None:
    vocab = Vocabulary.build([["C", "C", "O"], ["N", "C"]])
    assert vocab.tokens[:4] == SPECIAL_TOKENS == (PAD, BOS, EOS, UNK)
    assert vocab.tokens[4:] == ("C", "N", "O")  # by frequency, then alphabetically
    with pytest.raises(ValueError, match="special tokens"):
        Vocabulary(("C", "O"))


def test_encode_many_leaves_out_long_molecules() -> None:
    codec = TokenCodec.fit("smiles", ["CCO", "CCCCCCCCCC"])
    encoded, too_long = codec.encode_many(["CCO", "CCCCCCCCCC"], max_length=5)
    assert too_long == [1] and len(encoded) == 1 and encoded[0].tolist() == codec.encode("CCO")
