"""FASTA (+ labels), BED intervals on a tiny pyfaidx-indexed reference written here."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from molgen.data.tables import read_table
from molgen.genomics.io import ReferenceGenome, bed_sequences, join_labels, read_bed

CHR1 = "ACGTACGTACGGGGCCCCAA"  # 20 bp
CHR2 = "TTTTTGACAA"  # 10 bp


@pytest.fixture
def reference(tmp_path):
    path = tmp_path / "genome.fa"
    path.write_text(f">chr1 first\n{CHR1[:12]}\n{CHR1[12:]}\n>chr2\n{CHR2}\n")
    return path


def test_fasta_through_read_table(tmp_path):
    path = tmp_path / "s.fa.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(">r1 some description\nACGT\nacgt\n>r2\n>r3\r\nNNA\r\n")
    frame = read_table(path)
    assert frame.to_dict("list") == {"id": ["r1", "r2", "r3"], "sequence": ["ACGTacgt", "", "NNA"]}


def test_labels_join_on_record_id(tmp_path, caplog):
    seqs = pd.DataFrame({"id": ["a", "b", "c"], "sequence": ["AC", "GT", "TT"]})
    (tmp_path / "labels.csv").write_text("name,y\nc,3\na,1\nzz,9\n")
    merged, missing = join_labels(seqs, tmp_path / "labels.csv", id_column="name", source="s.fa")
    assert merged["id"].tolist() == ["a", "b", "c"] and merged["y"].tolist()[::2] == [1.0, 3.0]
    assert list(missing) == [1] and "'b'" in missing[1]
    assert "1 row(s)" in caplog.text  # zz has no record
    with pytest.raises(ValueError, match="id column 'id' not found"):
        join_labels(seqs, tmp_path / "labels.csv")
    with pytest.raises(ValueError, match="no record id"):
        join_labels(seqs, pd.DataFrame({"id": ["x"], "y": [1.0]}))
    with pytest.raises(ValueError, match="duplicated id"):
        join_labels(seqs, pd.DataFrame({"id": ["a", "a"], "y": [1.0, 2.0]}))


def test_bed_coordinates_strand_and_chromosome_aliases(tmp_path, reference):
    bed = tmp_path / "r.bed"
    bed.write_text("track name=x\nchr1\t0\t4\tfirst\t0\t+\n1\t10\t14\trc\t0\t-\nchr2\t5\t10\n")
    frame, problems = bed_sequences(read_bed(bed), reference)
    assert problems == {}
    assert frame["id"].tolist() == ["first", "rc", "chr2:5-10"]
    assert frame["sequence"].tolist() == ["ACGT", "CCCC", "GACAA"]  # chr1[10:14]=GGGG, reverse-complemented
    one_based = tmp_path / "one.bed"
    one_based.write_text("chr1\t1\t4\n")
    frame, _ = bed_sequences(read_bed(one_based), reference, one_based=True)
    assert frame["sequence"].tolist() == ["ACGT"]  # 1-based closed 1..4 == BED 0..4


def test_bad_intervals_are_named_per_record(tmp_path, reference):
    bed = tmp_path / "bad.bed"
    bed.write_text(
        "#chrom\tstart\tend\tname\tsignal\nchr1\t15\t25\tpast_end\t1.5\nchrX\t0\t3\tnowhere\t2\n"
        "chr2\t4\t4\tempty\t3\nchr2\t0\t2\tok\t4\n"
    )
    intervals = read_bed(bed)
    assert intervals["signal"].tolist() == [1.5, 2, 3, 4]  # a header line names the extra columns
    frame, problems = bed_sequences(intervals, reference)
    assert frame["sequence"].tolist()[-1] == "TT"
    assert "chr1:15-25 is outside chr1 (length 20" in problems[0]
    assert "chromosome 'chrX' is not in the reference genome.fa (chr1, chr2)" in problems[1]
    assert "empty" in problems[2] and 3 not in problems


def test_chromosome_naming_mismatch_is_one_clear_error(tmp_path, reference):
    bed = tmp_path / "ensembl.bed"
    bed.write_text("chrUn_1\t0\t3\nscaffold_9\t0\t3\n")
    with pytest.raises(ValueError, match="none of the chromosomes.*chrUn_1.*genome.fa.*chr1, chr2"):
        bed_sequences(read_bed(bed), reference)
    bad = tmp_path / "coords.bed"
    bad.write_text("chr1\t0\t4\nchr1\tten\t20\n")
    with pytest.raises(ValueError, match="coords.bed line 2: start 'ten' is not an integer"):
        read_bed(bad)


def test_plain_gzip_reference_is_decompressed_and_indexed_in_the_cache(tmp_path, monkeypatch):
    with gzip.open(tmp_path / "g.fa.gz", "wt") as fh:  # plain gzip: pyfaidx reads only plain or bgzip
        fh.write(f">chr1\n{CHR1}\n")
    monkeypatch.setenv("MOLGEN_CACHE_DIR", str(tmp_path / "cache"))
    genome = ReferenceGenome(tmp_path / "g.fa.gz")
    assert genome.lengths == {"chr1": 20} and genome.fetch("chr1", 2, 6) == "GTAC"
    assert any((tmp_path / "cache" / "references").glob("*.fai"))
    assert ReferenceGenome(tmp_path / "g.fa.gz").fetch("chr1", 0, 2) == "AC"  # reuses the cached copy


@pytest.mark.parametrize("name", ["s.fa", "s.fa.gz"])
def test_fasta_starting_with_a_byte_order_mark_reads(tmp_path, name):
    path = tmp_path / name
    data = "\ufeff>r1 first\nACGT\n>r2\nGG\n".encode()
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    assert read_table(path).to_dict("list") == {"id": ["r1", "r2"], "sequence": ["ACGT", "GG"]}
