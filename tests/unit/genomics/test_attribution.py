"""ISM, gradient × input, motif annotation and variant effects on a model whose filter IS a motif.

The hand-built model scores every window with the log-odds matrix of a planted motif (both strands)
and sums ``relu(score − threshold)``: its prediction rises exactly where the motif is, so attributions
must find the planted position, and a variant that breaks the motif must lower the prediction.
The same checks through a really trained model are in ``tests/integration/test_attribution_trained.py``.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from molgen.genomics.attribution import (
    SequenceModel,
    compute_attributions,
    grad_x_input,
    ism,
    ism_importance,
    top_windows,
)
from molgen.genomics.attribution_report import write_attributions
from molgen.genomics.motifs import MotifScanner, parse_meme
from molgen.genomics.variant_effects import score_variants

MEME = """MEME version 4

ALPHABET= ACGT

strands: + -

Background letter frequencies
A 0.25 C 0.25 G 0.25 T 0.25

MOTIF PLANT.1 Planted
letter-probability matrix: alength= 4 w= 8 nsites= 20 E= 0
0.85 0.05 0.05 0.05
0.05 0.05 0.05 0.85
0.05 0.05 0.85 0.05
0.05 0.85 0.05 0.05
0.85 0.05 0.05 0.05
0.05 0.05 0.85 0.05
0.05 0.05 0.05 0.85
0.05 0.85 0.05 0.05

MOTIF DECOY.1 GCbox
letter-probability matrix: alength= 4 w= 6 nsites= 20 E= 0
0.05 0.05 0.85 0.05
0.05 0.05 0.85 0.05
0.05 0.85 0.05 0.05
0.05 0.05 0.85 0.05
0.05 0.05 0.85 0.05
0.05 0.85 0.05 0.05

MOTIF DECOY.2 Ebox
letter-probability matrix: alength= 4 w= 6 nsites= 20 E= 0
0.05 0.85 0.05 0.05
0.85 0.05 0.05 0.05
0.05 0.85 0.05 0.05
0.05 0.05 0.85 0.05
0.05 0.05 0.05 0.85
0.05 0.05 0.85 0.05

MOTIF DECOY.3 ATrich
letter-probability matrix: alength= 4 w= 5 nsites= 20 E= 0
0.60 0.05 0.05 0.30
0.30 0.05 0.05 0.60
0.60 0.05 0.05 0.30
0.30 0.05 0.05 0.60
0.60 0.05 0.05 0.30
"""
MOTIFS = parse_meme(MEME)
PLANTED = MOTIFS[0].consensus  # ATGCAGTC
L = 60


class MotifNet(torch.nn.Module):
    """``sum_positions relu(log-odds score − threshold)`` over both strands; takes a SequenceBatch."""

    def __init__(self, log_odds: np.ndarray, threshold: float) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.tensor(log_odds, dtype=torch.float32)[None], requires_grad=False)
        self.threshold = threshold

    def forward(self, batch) -> torch.Tensor:
        forward = F.conv1d(batch.x, self.weight)
        reverse = F.conv1d(batch.x, self.weight.flip(1, 2))
        score = torch.maximum(forward, reverse) - self.threshold
        return F.relu(score).sum(dim=-1)  # [B, 1]


@pytest.fixture
def model() -> SequenceModel:
    net = MotifNet(MOTIFS[0].log_odds(), threshold=6.0).eval()
    return SequenceModel([net], length=L, targets=["activity"], batch_size=64)


def random_dna(n: int, rng: np.random.Generator) -> str:
    return "".join(rng.choice(list("ACGT"), n))


def planted(rng: np.random.Generator, at: int, length: int = L) -> str:
    seq = random_dna(length, rng)
    return seq[:at] + PLANTED + seq[at + len(PLANTED) :]


def test_ism_matches_brute_force_mutants(model: SequenceModel):
    rng = np.random.default_rng(0)
    seq = planted(rng, 20)
    x = model.encode([seq])[0]
    reference, effects = ism(model.predict, x, chunk_size=50)  # several chunks
    assert effects.shape == (1, 4, L) and reference.shape == (1,)
    assert torch.all(effects[0][x > 0] == 0)  # reference bases: no effect
    for position, base in [(20, "C"), (23, "A"), (45, "T"), (0, "G")]:
        mutant = seq[:position] + base + seq[position + 1 :]
        expected = model.predict(model.encode([mutant]))[0, 0] - reference[0]
        assert effects[0, "ACGT".index(base), position] == pytest.approx(float(expected), abs=1e-5)


def test_ism_mutates_all_four_bases_at_n():
    x = torch.zeros(4, 5)
    x[0] = 1.0
    x[:, 2] = 0.25  # an N
    calls = []

    def predict(batch: torch.Tensor) -> torch.Tensor:
        calls.append(len(batch))
        return batch[:, 1, :].sum(dim=1, keepdim=True)  # counts C

    _, effects = ism(predict, x)
    assert sum(calls) == 1 + 3 * 4 + 4
    assert effects[0, 1, 2] == pytest.approx(0.75)  # N → C
    assert effects[0, 1, 0] == pytest.approx(1.0) and effects[0, 0, 0] == 0


def test_ism_recovers_the_planted_motif_position(model: SequenceModel):
    rng = np.random.default_rng(1)
    for at in rng.integers(0, L - len(PLANTED), size=6):
        seq = planted(rng, int(at))
        x = model.encode([seq])[0]
        _, effects = ism(model.predict, x)
        importance = ism_importance(effects[0].numpy(), x.numpy())
        start, end, total = top_windows(importance, len(PLANTED), 1)[0]
        assert total > 0
        assert max(start, at) < min(end, at + len(PLANTED)), (start, at)  # overlaps the planted site


def test_grad_x_input_recovers_the_planted_motif_position(model: SequenceModel):
    rng = np.random.default_rng(2)
    positions = rng.integers(0, L - len(PLANTED), size=6)
    x = model.encode([planted(rng, int(at)) for at in positions])
    scores = grad_x_input(model.forward, x, 0, batch_size=4)
    assert scores.shape == x.shape
    assert torch.all(scores[x == 0] == 0)  # only the input's bases carry attribution
    for i, at in enumerate(positions):
        start, end, _ = top_windows(scores[i].sum(0).numpy(), len(PLANTED), 1)[0]
        assert max(start, at) < min(end, at + len(PLANTED))


def test_grad_x_input_equals_the_linear_weights():
    weight = torch.randn(4, 10)

    def forward(x: torch.Tensor) -> torch.Tensor:
        return (x * weight).sum(dim=(1, 2))[:, None]

    x = F.one_hot(torch.randint(0, 4, (3, 10)), 4).permute(0, 2, 1).float()
    raw = grad_x_input(forward, x, 0, correct=False)
    torch.testing.assert_close(raw, weight * x)
    centered = grad_x_input(forward, x, 0)
    torch.testing.assert_close(centered, (weight - weight.mean(0)) * x)


def test_top_windows_do_not_overlap_and_stay_in_the_valid_span():
    track = np.zeros(50)
    track[10:14] = 5.0
    track[30:33] = -4.0
    windows = top_windows(track, 5, 3, valid=(2, 48))
    (a1, b1, s1), (a2, b2, s2) = windows[:2]
    assert a1 <= 10 and b1 >= 14 and s1 == pytest.approx(20.0)  # the strongest window holds the 5s
    assert a2 <= 30 and b2 >= 33 and s2 == pytest.approx(-12.0)
    assert windows[1][2] < 0  # a repressive window is found by magnitude and keeps its sign
    spans = sorted((a, b) for a, b, _ in windows)
    assert all(b1 <= a2 for (_, b1), (a2, _) in itertools.pairwise(spans))
    assert all(a >= 2 and b <= 48 for a, b, _ in windows)


@pytest.mark.parametrize("pad", ["center", "left", "right"])
@pytest.mark.parametrize("n", [3, 6, 9, 10])
def test_offset_follows_the_encoders_padding(pad: str, n: int):
    model = SequenceModel([], length=6, targets=["y"], pad=pad)
    seq = "ACGTACGTAC"[:n]
    x = model.encode([seq])[0].numpy()
    offset = model.offset(n)
    for i, base in enumerate(seq):
        if 0 <= offset + i < 6:
            assert x["ACGT".index(base), offset + i] == 1.0
    assert x.sum() == min(n, 6)


def test_attribution_outputs_and_motifs(model: SequenceModel, tmp_path: Path):
    rng = np.random.default_rng(3)
    records = [
        ("s1", planted(rng, 12)),
        ("s2", planted(rng, 40)),
        ("bad", "ACGTXACGT"),
        ("short", planted(rng, 10, length=40)),
    ]
    attributions = compute_attributions(model, records, method="both")
    assert attributions.ism.shape == attributions.gradxinput.shape == (4, 4, L)
    assert list(attributions.valid) == [True, True, False, True]
    assert "invalid character 'X' at position 5" in attributions.errors[2]
    assert attributions.offsets[3] == 10  # 40 bases centered in 60
    assert np.all(attributions.ism[3][:, :10] == 0) and np.all(attributions.ism[3][:, 50:] == 0)  # padding
    assert np.count_nonzero(attributions.ism[3][:, 10:50]) > 0
    scanner = MotifScanner(MOTIFS)
    report = write_attributions(attributions, tmp_path, scanner=scanner, top_motifs=3, n_windows=2, window=10)
    assert report.n_invalid == 1 and "bad" in report.invalid[0]

    with np.load(tmp_path / "attributions.npz", allow_pickle=False) as npz:
        assert npz["ism"].shape == (4, 4, L) and npz["gradxinput"].shape == (4, 4, L)
        assert npz["onehot"].shape == (4, 4, L) and npz["importance"].shape == (4, L)
        assert npz["ids"].tolist() == ["s1", "s2", "bad", "short"] and str(npz["target"]) == "activity"
        assert np.isnan(npz["ism"][2]).all() and not np.isnan(npz["ism"][0]).any()

    positions = pd.read_csv(tmp_path / "positions.csv")
    assert len(positions) == L + L + 40  # every base of each valid sequence, none of the padding
    short = positions[positions.sequence_id == "short"]
    assert short.position.tolist() == list(range(1, 41))
    assert "".join(short.base) == records[3][1]
    assert {"ism_mean", "ism_min", "ism_max", "ism_importance", "gradxinput"} <= set(positions.columns)

    motifs = pd.read_csv(tmp_path / "motifs.csv")
    for seq_id, at in [("s1", 12), ("s2", 40), ("short", 10)]:
        best = motifs[(motifs.sequence_id == seq_id) & (motifs.window_rank == 1)].iloc[0]
        assert best.motif_id == "PLANT.1" and best.motif_rank == 1  # first among the decoys
        assert (best.start, best.end) == (at + 1, at + len(PLANTED))  # 1-based, in the input sequence
        assert best.match == PLANTED and best.strand == "+"

    summary = pd.read_csv(tmp_path / "summary.csv", keep_default_na=False)
    assert summary.sequence_id.tolist() == ["s1", "s2", "bad", "short"]
    assert summary.valid.tolist() == [True, True, False, True]
    assert summary.top_motif_id.tolist() == ["PLANT.1", "PLANT.1", "", "PLANT.1"]
    assert int(summary.top_window_start[0]) <= 12 + len(PLANTED) and int(summary.top_window_end[0]) > 12
    logos = sorted(p.name for p in (tmp_path / "logos").iterdir())
    assert logos == ["0001_s1.png", "0002_s2.png", "0004_short.png"]
    assert (tmp_path / "logos" / logos[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_target_lists_the_targets(model: SequenceModel):
    with pytest.raises(ValueError, match="model's targets are: activity"):
        compute_attributions(model, [("a", "ACGT")], target="nope")


def test_variant_effect_sign_and_per_row_errors(model: SequenceModel):
    rng = np.random.default_rng(4)
    with_motif = planted(rng, 20)
    without = random_dna(L, rng).replace(PLANTED, "A" * len(PLANTED))
    create_at = 30
    without_created = without[:create_at] + PLANTED[:-1] + without[create_at + len(PLANTED) - 1 :]
    last = create_at + len(PLANTED)  # 1-based position of the motif's last base
    variants = pd.DataFrame(
        [
            # (variant_id, sequence_id, position, ref, alt)
            ("break", "m", "24", with_motif[23], "T" if with_motif[23] != "T" else "G"),
            ("create", "c", str(last), without_created[last - 1], PLANTED[-1]),
            ("mismatch", "m", "21", "C" if with_motif[20] != "C" else "G", "T"),
            ("unknown", "nope", "1", "A", "C"),
            ("outside", "m", "61", "A", "C"),
            ("deletion", "m", "50", with_motif[49:51], with_motif[49]),
            ("symbolic", "m", "5", with_motif[4], "<DEL>"),
        ],
        columns=["variant_id", "sequence_id", "position", "ref", "alt"],
    )
    assert without_created[create_at : last - 1] == PLANTED[:-1] and without_created[last - 1] != PLANTED[-1]
    out = score_variants(model, {"m": with_motif, "c": without_created}, variants)
    assert len(out) == len(variants) and out.variant_id.tolist() == variants.variant_id.tolist()
    row = out.set_index("variant_id")
    assert row.loc["break", "activity_diff"] < -1.0
    assert row.loc["create", "activity_diff"] > 1.0
    assert row.loc["break", "activity_diff"] == pytest.approx(
        row.loc["break", "activity_alt"] - row.loc["break", "activity_ref"]
    )
    assert row["valid"].tolist() == [True, True, False, False, False, True, False]
    assert "expected" in row.loc["mismatch", "error"] and "found" in row.loc["mismatch", "error"]
    assert "unknown sequence id 'nope'" in row.loc["unknown", "error"]
    assert "outside" in row.loc["outside", "error"]
    assert "unsupported alt allele" in row.loc["symbolic", "error"]
    assert np.isnan(row.loc["mismatch", "activity_diff"]) and row.loc["deletion", "error"] == ""
