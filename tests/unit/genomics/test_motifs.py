"""MEME parsing, log-odds scanning on both strands, p-values, and the default JASPAR location."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from molgen.errors import DataSourceError, InvalidInputError
from molgen.genomics.motifs import Motif, MotifScanner, default_motif_file, encode, load_motifs, parse_meme

# A TATA-box-like motif, a GC box and two decoys, written the way JASPAR's MEME export is.
MEME = """MEME version 4

ALPHABET= ACGT

strands: + -

Background letter frequencies
A 0.25 C 0.25 G 0.25 T 0.25

MOTIF TEST0001.1 TATAbox
letter-probability matrix: alength= 4 w= 6 nsites= 20 E= 0
0.05 0.05 0.05 0.85
0.85 0.05 0.05 0.05
0.05 0.05 0.05 0.85
0.85 0.05 0.05 0.05
0.70 0.05 0.05 0.20
0.05 0.05 0.05 0.85

MOTIF TEST0002.1 GCbox
letter-probability matrix: alength= 4 w= 8 nsites= 20 E= 0
0.05 0.05 0.85 0.05
0.05 0.05 0.85 0.05
0.05 0.05 0.85 0.05
0.05 0.85 0.05 0.05
0.05 0.05 0.85 0.05
0.05 0.05 0.85 0.05
0.05 0.05 0.85 0.05
0.05 0.85 0.05 0.05

MOTIF TEST0003.1 Ebox
letter-probability matrix: alength= 4 w= 6 nsites= 20 E= 0
0.05 0.85 0.05 0.05
0.85 0.05 0.05 0.05
0.05 0.85 0.05 0.05
0.05 0.05 0.85 0.05
0.05 0.05 0.05 0.85
0.05 0.05 0.85 0.05

MOTIF TEST0004.1
letter-probability matrix: alength= 4 w= 4 nsites= 20 E= 0
0.40 0.20 0.20 0.20
0.20 0.40 0.20 0.20
0.20 0.20 0.40 0.20
0.20 0.20 0.20 0.40
"""


def random_dna(n: int, seed: int) -> str:
    return "".join(np.random.default_rng(seed).choice(list("ACGT"), n))


def test_parse_meme_ids_names_and_matrices():
    motifs = parse_meme(MEME)
    assert [m.id for m in motifs] == ["TEST0001.1", "TEST0002.1", "TEST0003.1", "TEST0004.1"]
    assert [m.name for m in motifs] == ["TATAbox", "GCbox", "Ebox", "TEST0004.1"]  # no name → the id
    assert [m.width for m in motifs] == [6, 8, 6, 4]
    assert motifs[0].consensus == "TATAAT"
    np.testing.assert_allclose(motifs[1].pwm.sum(axis=0), 1.0)
    assert motifs[0].pwm[3, 0] == pytest.approx(0.85)


def test_parse_meme_rejects_text_without_motifs():
    with pytest.raises(ValueError, match="no motifs"):
        parse_meme("this is not a motif file\n")


def test_motif_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match=r"\[4, W\]"):
        Motif("x", "x", np.ones((3, 5)))


def test_scan_finds_a_planted_site_on_each_strand():
    scanner = MotifScanner(parse_meme(MEME))
    seq = random_dna(60, 0)
    forward = seq[:10] + "TATAAT" + seq[16:]
    hit = scanner.best_hits(forward, top=1)[0]
    assert (hit["motif_id"], hit["start"], hit["end"], hit["strand"], hit["match"]) == (
        "TEST0001.1",
        10,
        16,
        "+",
        "TATAAT",
    )
    reverse = seq[:40] + "ATTATA" + seq[46:]  # reverse complement of TATAAT
    hit = scanner.best_hits(reverse, top=1)[0]
    assert (hit["motif_id"], hit["start"], hit["strand"]) == ("TEST0001.1", 40, "-")


def test_scores_match_a_direct_sum_of_log_odds():
    motifs = parse_meme(MEME)
    scanner = MotifScanner(motifs)
    seq = random_dna(30, 1)
    x = encode(seq)[None]
    scores = scanner.score(x)
    lo = scanner.log_odds[1]  # the motif's log-odds on the p-value grid
    assert np.abs(lo - motifs[1].log_odds()).max() <= scanner.resolution / 2
    group = list(scanner.width_groups[8]).index(1)
    for start in (0, 7, 22):
        expected = sum(lo["ACGT".index(seq[start + j]), j] for j in range(8))
        assert scores[8][0, group, 0, start] == pytest.approx(expected)


def test_p_values_are_exact_for_the_consensus_and_monotone():
    motifs = parse_meme(MEME)
    scanner = MotifScanner(motifs, resolution=0.001)
    best = scanner.log_odds[0].max(axis=0).sum()
    # only the consensus reaches the maximum score: p = 4^-6 under a uniform background
    assert scanner.p_values(0, np.array([best]))[0] == pytest.approx(4.0**-6, rel=1e-6)
    low = scanner.log_odds[0].min(axis=0).sum()
    assert scanner.p_values(0, np.array([low]))[0] == pytest.approx(1.0)
    grid = np.linspace(low, best, 50)
    assert np.all(np.diff(scanner.p_values(0, grid)) <= 1e-12)


def test_planted_motif_ranks_first_among_decoys():
    scanner = MotifScanner(parse_meme(MEME))
    for seed in range(5):
        seq = random_dna(40, seed)
        seq = seq[:15] + "GGGCGGGC" + seq[23:]
        hits = scanner.best_hits(seq, top=None, region=(12, 28))
        assert hits[0]["motif_id"] == "TEST0002.1", hits[:2]
        assert hits[0]["p_value"] < hits[1]["p_value"]
        assert len(hits) == 4  # every motif reported once, ranked


def test_scanning_many_sequences_together_matches_one_by_one():
    scanner = MotifScanner(parse_meme(MEME))
    rng = np.random.default_rng(7)
    seqs = [random_dna(n, int(rng.integers(1000))) for n in (5, 40, 23, 60, 3)]  # some shorter than motifs
    regions = [(0, 5), (10, 30), (0, 23), (30, 60), (0, 3)]
    together = scanner.best_hits_many(seqs, regions, top=None, chunk_size=2)
    assert together == [scanner.best_hits(s, top=None, region=r) for s, r in zip(seqs, regions)]
    assert [h["motif_id"] for h in together[0]] == ["TEST0004.1"]  # only the 4-wide motif fits in 5 bases
    assert together[4] == []
    for seq, hits in zip(seqs, together):
        assert all(h["end"] <= len(seq) and len(h["match"]) == h["end"] - h["start"] for h in hits)


def test_region_keeps_only_sites_centered_inside_it():
    scanner = MotifScanner(parse_meme(MEME))
    seq = "C" * 5 + "TATAAT" + "C" * 30
    hits = scanner.best_hits(seq, top=None, region=(20, 36))
    tata = next(h for h in hits if h["motif_id"] == "TEST0001.1")
    assert tata["start"] + 3 >= 20 and tata["match"] != "TATAAT"


def test_n_bases_score_zero():
    assert encode("ANc")[:, 1].sum() == 0 and encode("ANc")[1, 2] == 1


def test_default_motif_file_needs_molgen_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("MOLGEN_DATA_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="MOLGEN_DATA_DIR.*--motifs"):
        default_motif_file()
    monkeypatch.setenv("MOLGEN_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="jaspar2024_core_latest_versions.meme"):
        load_motifs()
    (tmp_path / "motifs").mkdir()
    (tmp_path / "motifs" / "jaspar2024_core_latest_versions.meme").write_text(MEME)
    assert len(load_motifs()) == 4


def test_load_motifs_missing_file(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_motifs(tmp_path / "nope.meme")


def test_jaspar_2024_from_the_mirror(data_mirror: Path):
    motifs = load_motifs(data_mirror / "motifs" / "jaspar2024_core_latest_versions.meme")
    assert len(motifs) == 2346
    by_id = {m.id: m for m in motifs}
    assert by_id["MA0139.2"].name == "CTCF"
    scanner = MotifScanner(motifs)
    ctcf = by_id["MA0139.2"]
    seq = random_dna(60, 3)
    seq = seq[:20] + ctcf.consensus + seq[20 + ctcf.width :]
    hits = scanner.best_hits(seq, top=3, region=(15, 40))
    assert hits[0]["motif_id"] == "MA0139.2" and hits[0]["start"] == 20


TAXA = "motif_id\tname\ttax_group\tclass\tfamily\ttype\nTEST0001.1\tTATAbox\tplants\t\t\t\nTEST0002.1\tGCbox\tvertebrates\t\t\t\nTEST0003.1\tEbox\tvertebrates\t\t\t\nTEST0004.1\t\tfungi\t\t\t\n"


def test_motif_taxon_keeps_that_tax_group(tmp_path: Path):
    (tmp_path / "tiny.meme").write_text(MEME)
    (tmp_path / "tiny.tsv").write_text(TAXA)
    assert [m.name for m in load_motifs(tmp_path / "tiny.meme", taxon="plants")] == ["TATAbox"]
    assert [m.name for m in load_motifs(tmp_path / "tiny.meme", taxon="Vertebrates")] == ["GCbox", "Ebox"]
    assert len(load_motifs(tmp_path / "tiny.meme", taxon="plants,fungi")) == 2
    assert len(load_motifs(tmp_path / "tiny.meme")) == 4  # no taxon: every motif
    with pytest.raises(
        InvalidInputError, match=r"unknown motif taxon insects; valid: fungi \(1\), plants \(1\), vertebrates \(2\)"
    ):
        load_motifs(tmp_path / "tiny.meme", taxon="insects")


def test_motif_taxon_needs_the_jaspar_table(tmp_path: Path):
    (tmp_path / "tiny.meme").write_text(MEME)
    with pytest.raises(DataSourceError, match=r"tiny.tsv: a tab-separated table with columns motif_id and tax_group"):
        load_motifs(tmp_path / "tiny.meme", taxon="plants")
    (tmp_path / "tiny.tsv").write_text("id\tgroup\n")
    with pytest.raises(InvalidInputError, match="no column motif_id, tax_group"):
        load_motifs(tmp_path / "tiny.meme", taxon="plants")


def test_jaspar_2024_plants_from_the_mirror(data_mirror: Path):
    plants = load_motifs(data_mirror / "motifs" / "jaspar2024_core_latest_versions.meme", taxon="plants")
    assert len(plants) == 805 and "MA0139.2" not in {m.id for m in plants}  # CTCF is a vertebrate motif
