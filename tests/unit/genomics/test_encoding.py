"""DNA encodings: formats, round trips, reverse complement, N and padding, alphabet errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molgen.genomics.encoding import (
    ALPHABET,
    PAD_CODE,
    InvalidSequence,
    decode_onehot,
    encode_indices,
    find_invalid,
    indices_to_onehot,
    one_hot,
    reverse_complement,
    reverse_complement_onehot,
    validate_sequence,
)

RNG = np.random.default_rng(0)
SEQS = ["".join(RNG.choice(list(ALPHABET), n)) for n in (1, 7, 20, 33)]


def test_one_hot_layout_and_round_trip():
    x = one_hot(SEQS, length=33)
    assert x.shape == (4, 4, 33) and x.dtype == np.float32
    assert np.array_equal(one_hot(["ACGT"])[0], np.eye(4, dtype=np.float32))  # channel c ↔ ALPHABET[c]
    assert decode_onehot(x) == SEQS
    assert decode_onehot(torch.from_numpy(x)) == SEQS


def test_indices_format_and_lowercase():
    codes = encode_indices(["ACGTN", "acgtn"])
    assert codes.dtype == np.uint8 and codes.tolist() == [[0, 1, 2, 3, 4]] * 2
    assert encode_indices(["AC"], 4).tolist() == [[4, 0, 1, 4]]  # centred; padding 4 by default
    assert encode_indices(["AC"], 4, pad_value=PAD_CODE).tolist() == [[5, 0, 1, 5]]
    assert np.array_equal(indices_to_onehot(encode_indices(SEQS, 40, pad_value=PAD_CODE)), one_hot(SEQS, length=40))


@pytest.mark.parametrize(
    ("pad", "short", "long"),
    [("center", [4, 0, 1, 4, 4], "CGT"), ("right", [0, 1, 4, 4, 4], "ACG"), ("left", [4, 4, 4, 0, 1], "GTA")],
)
def test_pad_and_crop(pad, short, long):
    assert encode_indices(["AC"], 5, pad=pad).tolist() == [short]
    assert decode_onehot(one_hot(["ACGTA"], length=3, pad=pad)) == [long]


def test_n_and_padding_values():
    uniform = one_hot(["AN"], length=4)[0]
    assert np.allclose(uniform[:, 2], 0.25) and uniform[:, 1].tolist() == [1, 0, 0, 0]
    assert not uniform[:, 0].any() and not uniform[:, 3].any()  # padding is zeros, never N
    zero = one_hot(["AN"], length=2, n_value="zero")[0]
    assert not zero[:, 1].any()
    with pytest.raises(ValueError, match="n_value.*uniform, zero"):
        one_hot(["A"], n_value="half")
    with pytest.raises(ValueError, match="pad.*center"):
        encode_indices(["A"], pad="middle")


def test_reverse_complement():
    assert reverse_complement("AACGTn") == "nACGTT"
    for seq in SEQS:
        assert reverse_complement(reverse_complement(seq)) == seq
    x = one_hot(SEQS, length=33)
    rc = reverse_complement_onehot(x)
    assert np.array_equal(reverse_complement_onehot(rc), x)
    # RC of a one-hot == one-hot of the RC string (same length, so padding stays symmetric)
    fixed = [s for s in SEQS if len(s) == 20] + ["ACGTTGCAAN" * 2]
    assert np.array_equal(reverse_complement_onehot(one_hot(fixed)), one_hot([reverse_complement(s) for s in fixed]))
    t = torch.from_numpy(one_hot(fixed))
    assert torch.equal(reverse_complement_onehot(t), torch.from_numpy(one_hot([reverse_complement(s) for s in fixed])))


def test_validate_sequence_names_record_character_and_position():
    assert validate_sequence("acgtN") == "ACGTN"
    with pytest.raises(ValueError, match=r"chr1:5-9: invalid character 'X' at position 17"):
        validate_sequence("ACGTACGTACGTACGTXA", record="chr1:5-9")
    with pytest.raises(ValueError, match="empty sequence"):
        validate_sequence("", record="r")


def test_find_invalid_lists_every_bad_record():
    bad = find_invalid(["ACGT", "AC-G", "", "ACGR", "AAé", "NNNN"], records=list("abcdef"))
    assert bad == [
        InvalidSequence(1, "b", "invalid character '-' at position 3"),
        InvalidSequence(2, "c", "empty sequence"),
        InvalidSequence(3, "d", "invalid character 'R' at position 4"),
        InvalidSequence(4, "e", "invalid character 'é' at position 3"),
    ]
    assert str(bad[0]) == "b: invalid character '-' at position 3"
    with pytest.raises(ValueError, match="sequence 2: invalid character ' '"):
        encode_indices(["ACGT", "AC G"])


def test_encoding_is_vectorized_and_fast():
    seqs = ["".join(RNG.choice(list(ALPHABET), 1000))] * 2000
    import time

    start = time.perf_counter()
    encode_indices(seqs)
    assert 2000 / (time.perf_counter() - start) > 20_000  # ≥200k seq/s on an idle core; 10× slack for CI load
