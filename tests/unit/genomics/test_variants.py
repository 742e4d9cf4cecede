"""Variant tables and VCFs, 1-based ref checks, and the ref/alt windows (SNVs, indels, contigs)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from molgen.genomics.variants import (
    Reference,
    VariantError,
    check_ref,
    parse_position,
    read_sequences,
    read_variant_table,
    read_vcf,
    variant_windows,
)

SEQ = "ACGTACGTTT"  # position 1 = A, position 5 = A, position 9 = T


def test_check_ref_is_one_based():
    check_ref(SEQ, 1, "A")
    check_ref(SEQ, 5, "ACG")
    check_ref(SEQ, 10, "T")
    with pytest.raises(VariantError, match="expected G, found A"):
        check_ref(SEQ, 1, "G", sequence_id="s1")
    with pytest.raises(VariantError, match="outside sequence 's1' \\(length 10\\)"):
        check_ref(SEQ, 10, "TT", sequence_id="s1")


def test_snv_in_a_short_sequence_replaces_one_base():
    w = variant_windows(SEQ, 2, "c", "G", length=10)
    assert (w.ref, w.alt) == (SEQ, "AGGTACGTTT")


def test_indels_change_only_the_allele():
    deletion = variant_windows(SEQ, 4, "TAC", "T", length=12)  # VCF-style anchored deletion
    assert deletion.alt == "ACGTGTTT"
    insertion = variant_windows(SEQ, 3, "-", "NN", length=12)  # '-' = empty: insert before position 3
    assert insertion.alt == "ACNNGTACGTTT"


def test_a_long_sequence_gives_windows_centered_on_the_variant():
    contig = "A" * 50 + "C" + "G" * 49
    w = variant_windows(contig, 51, "C", "T", length=10)
    assert len(w.ref) == len(w.alt) == 10
    assert w.ref == "AAAAACGGGG" and w.alt == "AAAAATGGGG"  # the variant at index length // 2
    d = variant_windows(contig, 50, "AC", "A", length=10)  # deletion: each allele centered, real flanks
    assert d.ref == "AAAAACGGGG" and d.alt == "AAAAAAGGGG"
    edge = variant_windows(contig, 1, "A", "G", length=10)  # past the contig start: N padding
    assert edge.ref == "NNNNNAAAAA" and edge.alt == "NNNNNGAAAA"


@pytest.mark.parametrize(
    ("position", "ref", "alt", "message"),
    [
        (3, "A", "T", "expected A, found G"),
        (11, "A", "T", "outside"),
        (2, "C", "<DEL>", "unsupported alt allele"),
        (2, "C", "*", "unsupported alt allele"),
        (2, "-", "-", "both empty"),
        (2, "C", "R", "unsupported alt allele"),
    ],
)
def test_bad_variants_raise_variant_error(position, ref, alt, message):
    with pytest.raises(VariantError, match=message):
        variant_windows(SEQ, position, ref, alt, length=10)


def test_parse_position():
    assert parse_position("7") == 7
    with pytest.raises(VariantError, match="1-based"):
        parse_position("0")
    with pytest.raises(VariantError, match="not an integer"):
        parse_position("x")


def test_read_variant_table_accepts_aliases_and_fills_ids(tmp_path: Path):
    path = tmp_path / "v.tsv"
    path.write_text("chrom\tpos\tREF\tALT\ns1\t3\tG\tA\ns2\t1\t-\tTT\n")
    table = read_variant_table(path)
    assert list(table.columns) == ["variant_id", "sequence_id", "position", "ref", "alt"]
    assert table.iloc[0].tolist() == ["s1:3:G>A", "s1", "3", "G", "A"]
    assert table.iloc[1].variant_id == "s2:1:->TT"


def test_read_variant_table_missing_column_names_what_is_needed(tmp_path: Path):
    path = tmp_path / "v.csv"
    path.write_text("sequence_id,ref,alt\ns1,A,C\n")
    with pytest.raises(ValueError, match="no 'position' column.*1-based"):
        read_variant_table(path)


def test_read_vcf_splits_multiallelic_records(tmp_path: Path):
    path = tmp_path / "v.vcf.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        fh.write("chr1\t5\trs1\tA\tC,G\t.\t.\t.\nchr1\t9\t.\tT\tTA\t.\t.\t.\n")
    vcf = read_vcf(path)
    assert vcf.variant_id.tolist() == ["rs1:C", "rs1:G", "chr1:9:T>TA"]
    assert vcf.alt.tolist() == ["C", "G", "TA"] and vcf.position.tolist() == ["5", "5", "9"]


def test_read_vcf_rejects_a_broken_record(tmp_path: Path):
    path = tmp_path / "v.vcf"
    path.write_text("#CHROM\tPOS\tID\tREF\tALT\nchr1 5 rs1 A C\n")
    with pytest.raises(ValueError, match="line 2"):
        read_vcf(path)


def test_read_sequences_fasta_and_table(tmp_path: Path):
    fasta = tmp_path / "s.fa"
    fasta.write_text(">s1 first\nACGT\nAC\n>s2\nGGGG\n")
    assert read_sequences(fasta) == [("s1", "ACGTAC"), ("s2", "GGGG")]
    table = tmp_path / "s.csv"
    table.write_text("name,seq,other\n7,ACGT,x\nb,TTTT,y\n")
    assert read_sequences(table) == [("7", "ACGT"), ("b", "TTTT")]
    with pytest.raises(ValueError, match="no sequence column 'dna'"):
        read_sequences(table, sequence_column="dna")


@pytest.mark.parametrize("compressed", [False, True])
def test_reference_windows_from_a_fasta(tmp_path: Path, compressed: bool):
    contig = "A" * 30 + "CGT" + "T" * 30
    path = tmp_path / ("ref.fa.gz" if compressed else "ref.fa")
    text = f">chr1 test\n{contig[:40]}\n{contig[40:]}\n>chr2\nACGT\n"
    if compressed:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    ref = Reference(path)
    assert ref.contigs == ["chr1", "chr2"] and ref.length("chr1") == 63
    w = ref.variant_windows("chr1", 32, "G", "A", length=11)
    assert w.ref == contig[26:37] and w.alt == contig[26:31] + "A" + contig[32:37]
    with pytest.raises(VariantError, match="mismatch at position 32: expected C, found G in contig 'chr1'"):
        ref.variant_windows("chr1", 32, "C", "A", length=11)
    with pytest.raises(VariantError, match="contig 'chrX' is not in the reference"):
        ref.variant_windows("chrX", 1, "A", "C", length=11)
    with pytest.raises(VariantError, match="outside contig 'chr2'"):
        ref.variant_windows("chr2", 9, "A", "C", length=11)
    short = ref.variant_windows("chr2", 2, "C", "G", length=11)  # a contig shorter than the window: whole
    assert (short.ref, short.alt) == ("ACGT", "AGGT")


@pytest.mark.parametrize(("written", "named"), [("1", "chr1"), ("chr1", "1"), ("MT", "chrM")])
def test_vcf_contig_names_match_the_reference_with_or_without_chr(tmp_path: Path, written: str, named: str):
    contig = "A" * 30 + "CGT" + "T" * 30
    path = tmp_path / "ref.fa"
    path.write_text(f">{named}\n{contig}\n")
    ref = Reference(path)
    assert written in ref and ref.length(written) == 63
    w = ref.variant_windows(written, 32, "G", "A", length=11)
    assert w.ref == contig[26:37] and w.alt == contig[26:31] + "A" + contig[32:37]
    with pytest.raises(VariantError, match="contig '2' is not in the reference"):
        ref.variant_windows("2", 1, "A", "C", length=11)


def test_vcf_starting_with_a_byte_order_mark_reads(tmp_path: Path):
    path = tmp_path / "v.vcf"
    path.write_bytes("\ufeff##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\n1\t5\trs1\tA\tC\n".encode())
    assert read_vcf(path).variant_id.tolist() == ["rs1"]
