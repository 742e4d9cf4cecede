"""``molgen variant-effect`` and ``molgen attribute`` as a user runs them, on a model really trained (by
``molgen train``) to detect a motif planted in half of 300 random sequences."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from molgen.cli.main import main

MOLGEN = str(Path(sys.executable).parent / "molgen")
MOTIF = "ATGCAGTC"  # planted; not a palindrome, so the strand of a match is meaningful
DECOYS = ("GGGCGG", "CACGTG", "TTTAAA")
L = 50


def molgen(*args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    result = subprocess.run([MOLGEN, *args], capture_output=True, text=True, env=env, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"molgen {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def random_dna(n: int, rng: np.random.Generator) -> str:
    return "".join(rng.choice(list("ACGT"), n)).replace(MOTIF, "AAAAAAAA")


def plant(seq: str, at: int) -> str:
    return seq[:at] + MOTIF + seq[at + len(MOTIF) :]


def meme(consensi: dict[str, str]) -> str:
    """MEME minimal text with one 0.85/0.05 motif per consensus."""
    out = [
        "MEME version 4",
        "",
        "ALPHABET= ACGT",
        "",
        "strands: + -",
        "",
        "Background letter frequencies",
        "A 0.25 C 0.25 G 0.25 T 0.25",
        "",
    ]
    for name, consensus in consensi.items():
        out += [f"MOTIF {name}.1 {name}", f"letter-probability matrix: alength= 4 w= {len(consensus)} nsites= 20 E= 0"]
        out += [" ".join("0.85" if b == base else "0.05" for b in "ACGT") for base in consensus] + [""]
    return "\n".join(out)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """label = 1 when the motif is planted (at a random position), else 0."""
    folder = tmp_path_factory.mktemp("planted")
    rng = np.random.default_rng(0)
    rows = []
    for i in range(300):
        seq, label = random_dna(L, rng), 0.0
        if i % 2 == 0:
            seq, label = plant(seq, int(rng.integers(0, L - len(MOTIF) + 1))), 1.0
        rows.append((f"s{i}", seq, label))
    pd.DataFrame(rows, columns=["id", "sequence", "y"]).to_csv(folder / "planted.csv", index=False)
    run = folder / "run"
    molgen(
        "train",
        "--data",
        str(folder / "planted.csv"),
        "--sequence-column",
        "sequence",
        "--target-columns",
        "y",
        "--task-type",
        "regression",
        "--monitor",
        "mse",
        "--model",
        "cnn",
        "--hidden-dim",
        "16",
        "--depth",
        "1",
        "--readout",
        "max",
        "--set",
        "model.kernel_size=7",
        "--set",
        "model.ffn_hidden_dim=16",
        "--set",
        "model.ffn_layers=1",
        "--max-epochs",
        "20",
        "--batch-size",
        "32",
        "--lr",
        "0.01",
        "--seed",
        "0",
        "--output",
        str(run),
    )
    return run


def test_variant_effect_table(trained: Path, tmp_path: Path):
    rng = np.random.default_rng(1)
    with_motif = plant(random_dna(L, rng), 20)  # motif at 1-based positions 21..28
    without = random_dna(L, rng)
    created = plant(without, 29)[:31] + "TTTT" + without[35:]  # the motif without its middle: 32..35
    (tmp_path / "seqs.fa").write_text(f">m\n{with_motif[:25]}\n{with_motif[25:]}\n>c desc\n{created}\n")
    variants = pd.DataFrame(
        [
            ("break", "m", 23, with_motif[22:26], "TTTT"),  # the motif's middle GCAG, replaced
            ("create", "c", 32, "TTTT", MOTIF[2:6]),
            ("mismatch", "m", 22, "G" if with_motif[21] != "G" else "C", "A"),
            ("unknown", "zzz", 3, "A", "C"),
            ("deletion", "m", 40, with_motif[39:42], with_motif[39]),
            ("insertion", "c", 5, "-", "TT"),
        ],
        columns=["variant_id", "sequence_id", "position", "ref", "alt"],
    )
    variants.to_csv(tmp_path / "variants.csv", index=False)
    result = molgen(
        "variant-effect",
        "--model",
        str(trained),
        "--sequences",
        str(tmp_path / "seqs.fa"),
        "--variants",
        str(tmp_path / "variants.csv"),
        "--output",
        str(tmp_path / "out" / "effects.csv"),
    )
    assert "wrote 6 variants (2 invalid)" in result.stdout
    assert "mismatch" in result.stderr and "unknown sequence id 'zzz'" in result.stderr
    out = pd.read_csv(tmp_path / "out" / "effects.csv", keep_default_na=False).set_index("variant_id")
    assert out.index.tolist() == variants.variant_id.tolist()  # one row per variant, in order
    assert {"y_ref", "y_alt", "y_diff", "valid", "error"} <= set(out.columns)
    assert out["valid"].tolist() == [True, True, False, False, True, True]
    assert f"expected {variants.ref[2]}, found {with_motif[21]}" in out.loc["mismatch", "error"]
    assert out.loc["mismatch", "y_diff"] == ""  # no prediction for an invalid row
    assert float(out.loc["break", "y_diff"]) < -0.2  # breaking the motif lowers the prediction
    assert float(out.loc["create", "y_diff"]) > 0.2  # completing it raises it
    assert float(out.loc["break", "y_diff"]) == pytest.approx(
        float(out.loc["break", "y_alt"]) - float(out.loc["break", "y_ref"]), abs=1e-6
    )
    # the reference prediction is exactly what `molgen predict` gives for the sequence
    assert (
        main(
            [
                "predict",
                "--model",
                str(trained),
                "--input",
                str(tmp_path / "seqs.fa"),
                "--output",
                str(tmp_path / "predicted.csv"),
            ]
        )
        == 0
    )
    predicted = pd.read_csv(tmp_path / "predicted.csv").set_index("id")
    assert float(out.loc["break", "y_ref"]) == pytest.approx(predicted.loc["m", "y"], abs=1e-5)
    assert float(out.loc["create", "y_ref"]) == pytest.approx(predicted.loc["c", "y"], abs=1e-5)


@pytest.mark.slow
def test_variant_effect_vcf_with_reference(trained: Path, tmp_path: Path):
    rng = np.random.default_rng(2)
    contig = plant(random_dna(300, rng), 150)  # motif at 1-based 151..158
    with gzip.open(tmp_path / "genome.fa.gz", "wt") as fh:
        fh.write(">chrT test contig\n" + "\n".join(contig[i : i + 60] for i in range(0, 300, 60)) + "\n")
    far = "A" if contig[9] != "A" else "C"
    vcf = [
        "##fileformat=VCFv4.2",
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
        f"chrT\t153\tbreak\t{contig[152:156]}\tTTTT\t.\t.\t.",
        f"chrT\t10\tfar\t{contig[9]}\t{far}\t.\t.\t.",
        f"chrT\t154\tbad\t{'T' if contig[153] != 'T' else 'G'}\tA\t.\t.\t.",
        "chrZ\t5\tnocontig\tA\tC\t.\t.\t.",
    ]
    (tmp_path / "v.vcf").write_text("\n".join(vcf) + "\n")
    molgen(
        "variant-effect",
        "--model",
        str(trained),
        "--vcf",
        str(tmp_path / "v.vcf"),
        "--reference",
        str(tmp_path / "genome.fa.gz"),
        "--output",
        str(tmp_path / "effects.csv"),
    )
    out = pd.read_csv(tmp_path / "effects.csv", keep_default_na=False).set_index("variant_id")
    assert out["valid"].tolist() == [True, True, False, False]
    assert float(out.loc["break", "y_diff"]) < -0.2
    assert float(out.loc["far", "y_ref"]) < float(out.loc["break", "y_ref"])  # its window misses the motif
    assert "ref allele mismatch at position 154" in out.loc["bad", "error"]  # the contig's coordinates
    assert "not in the reference" in out.loc["nocontig", "error"]


def test_variant_effect_help_says_positions_are_one_based(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_info:
        main(["variant-effect", "--help"])
    assert exit_info.value.code == 0 and "1-BASED" in capsys.readouterr().out


@pytest.mark.slow
def test_attribute_recovers_the_planted_motif(trained: Path, tmp_path: Path):
    rng = np.random.default_rng(3)
    positions = [3, 17, 30, 40]
    records = [(f"p{at}", plant(random_dna(L, rng), at)) for at in positions] + [("bad", "ACGU" * 10)]
    pd.DataFrame(records, columns=["name", "seq"]).to_csv(tmp_path / "seqs.tsv", sep="\t", index=False)
    (tmp_path / "motifs.meme").write_text(meme({"PLANT": MOTIF, **{f"DECOY{i}": d for i, d in enumerate(DECOYS)}}))
    out = tmp_path / "attr"
    result = molgen(
        "attribute",
        "--model",
        str(trained),
        "--sequences",
        str(tmp_path / "seqs.tsv"),
        "--output",
        str(out),
        "--motifs",
        str(tmp_path / "motifs.meme"),
        "--top-motifs",
        "3",
        "--windows",
        "2",
        "--window-size",
        "10",
    )
    assert "attributed 4 of 5 sequences (y)" in result.stdout and "invalid character 'U'" in result.stderr

    with np.load(out / "attributions.npz", allow_pickle=False) as npz:
        assert npz["ism"].shape == npz["gradxinput"].shape == npz["onehot"].shape == (5, 4, L)
        assert npz["importance"].shape == (5, L) and npz["predictions"].shape == (5, 1)
        ism, gxi = npz["ism"], npz["gradxinput"]
        assert np.all(ism[:4][npz["onehot"][:4] == 1] == 0)
    for i, at in enumerate(positions):  # the strongest base-level signal sits on the planted site
        for track in (-(ism[i].sum(0) / 3), gxi[i].sum(0)):
            best = int(np.argmax(np.convolve(track, np.ones(len(MOTIF)), mode="valid")))
            assert abs(best - at) < len(MOTIF), (i, at, best)

    motifs = pd.read_csv(out / "motifs.csv")
    for at in positions:
        top = motifs[(motifs.sequence_id == f"p{at}") & (motifs.window_rank == 1)].sort_values("motif_rank")
        assert len(top) == 3 and top.iloc[0].motif_id == "PLANT.1", top  # the planted motif beats the decoys
        assert (top.iloc[0].start, top.iloc[0].end, top.iloc[0].strand) == (at + 1, at + len(MOTIF), "+")
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False)
    assert summary.sequence_id.tolist() == [r[0] for r in records]
    assert summary.valid.tolist() == [True] * 4 + [False] and summary.top_motif_id.tolist()[:4] == ["PLANT.1"] * 4
    assert len(pd.read_csv(out / "positions.csv")) == 4 * L
    logos = sorted(p.name for p in (out / "logos").iterdir())
    assert logos == [f"{i + 1:04d}_p{at}.png" for i, at in enumerate(positions)]


def test_attribute_ism_only_and_clear_errors(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    (tmp_path / "s.fa").write_text(">a\n" + "ACGT" * 12 + "\n")
    out = tmp_path / "ism"
    # in-process: the same parser, commands and error handling, without a process start each
    assert (
        main(
            [
                "attribute",
                "--model",
                str(trained),
                "--sequences",
                str(tmp_path / "s.fa"),
                "--output",
                str(out),
                "--method",
                "ism",
                "--top-motifs",
                "0",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "predict",
                "--model",
                str(trained),
                "--input",
                str(tmp_path / "s.fa"),
                "--output",
                str(tmp_path / "predicted.csv"),
            ]
        )
        == 0
    )
    with np.load(out / "attributions.npz", allow_pickle=False) as npz:
        assert "ism" in npz and "gradxinput" not in npz
        assert npz["predictions"][0, 0] == pytest.approx(pd.read_csv(tmp_path / "predicted.csv").y[0], abs=1e-5)
    assert not (out / "motifs.csv").exists() and (out / "logos" / "0001_a.png").is_file()
    capsys.readouterr()

    def fails(*args: str) -> str:
        assert main(list(args)) == 2
        return capsys.readouterr().err

    sequences = ["--model", str(trained), "--sequences", str(tmp_path / "s.fa"), "--output", str(tmp_path / "x")]
    monkeypatch.setenv("MOLGEN_DATA_DIR", str(tmp_path / "no-mirror"))
    err = fails("attribute", *sequences)
    assert "molgen attribute: error:" in err and "jaspar2024_core_latest_versions.meme" in err and "--motifs" in err
    monkeypatch.delenv("MOLGEN_DATA_DIR")
    assert "set MOLGEN_DATA_DIR" in fails("attribute", *sequences)
    assert "the model's targets are: y" in fails("attribute", *sequences, "--top-motifs", "0", "--target", "nope")
    err = fails(
        "variant-effect",
        "--model",
        str(trained),
        "--vcf",
        "x.vcf",
        "--variants",
        "v.csv",
        "--output",
        str(tmp_path / "e.csv"),
    )
    assert "either --sequences with --variants, or --vcf with --reference" in err
    assert "variant file not found" in fails(
        "variant-effect",
        "--model",
        str(trained),
        "--sequences",
        str(tmp_path / "s.fa"),
        "--variants",
        str(tmp_path / "nope.csv"),
        "--output",
        str(tmp_path / "e.csv"),
    )


@pytest.mark.slow
def test_attribute_motif_taxon_filters_and_says_so(trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    rng = np.random.default_rng(5)
    (tmp_path / "s.fa").write_text(f">p\n{plant(random_dna(L, rng), 20)}\n")
    (tmp_path / "tiny.meme").write_text(meme({"PLANT": MOTIF, **{f"DECOY{i}": d for i, d in enumerate(DECOYS)}}))
    table = ["motif_id\tname\ttax_group", "PLANT.1\tPLANT\tplants"] + [
        f"DECOY{i}.1\tDECOY{i}\tvertebrates" for i in range(len(DECOYS))
    ]
    (tmp_path / "tiny.tsv").write_text("\n".join(table) + "\n")
    common = ["attribute", "--model", str(trained), "--sequences", str(tmp_path / "s.fa"), "--method", "gradxinput"]
    common += ["--motifs", str(tmp_path / "tiny.meme"), "--top-motifs", "5", "--windows", "1"]
    capsys.readouterr()
    assert main([*common, "--output", str(tmp_path / "vert"), "--motif-taxon", "vertebrates"]) == 0
    assert "matched 3 motifs (tax_group vertebrates)" in capsys.readouterr().out
    assert set(pd.read_csv(tmp_path / "vert" / "motifs.csv").motif_id) <= {f"DECOY{i}.1" for i in range(3)}
    assert main([*common, "--output", str(tmp_path / "plants"), "--motif-taxon", "plants"]) == 0
    assert set(pd.read_csv(tmp_path / "plants" / "motifs.csv").motif_id) == {"PLANT.1"}
    capsys.readouterr()
    assert main([*common, "--output", str(tmp_path / "x"), "--motif-taxon", "mammals"]) == 2
    assert "unknown motif taxon mammals; valid: plants (1), vertebrates (3)" in capsys.readouterr().err
