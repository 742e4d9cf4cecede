"""Catalog entries of kind "sequences": consistent, and their mirror files resolve with the catalog's columns."""

from __future__ import annotations

import json

from molgen.data.catalog import dataset_names, get_dataset
from molgen.data.sources import resolve
from molgen.data.tables import read_table

SEQUENCE_SETS = [
    "chipseq_oct4_mafk",
    "ecoli_promoters_165",
    "ecoli_promoters_50",
    "pombe_utr3_halflife",
    "yeast_random_promoters",
    "yeast_regulatory_1000",
]


def test_names_and_conventions():
    assert dataset_names("sequences") == SEQUENCE_SETS
    for name in SEQUENCE_SETS:
        spec = get_dataset(name)
        assert spec.kind == "sequences" and spec.remote.filename.startswith("genomics/")
        assert spec.metric == ("roc_auc" if name == "chipseq_oct4_mafk" else "pearson")
        assert spec.task_type == ("binary" if name == "chipseq_oct4_mafk" else "regression")
        json.dumps(spec.to_dict())
    assert get_dataset("pombe_utr3_halflife").target_columns == ("hlt",)  # never the motif-count columns
    assert get_dataset("ecoli_promoters_165").default_split == "predefined"
    assert len(get_dataset("chipseq_oct4_mafk").extra_files) == 1


def test_mirror_files_resolve_with_their_columns(data_mirror):
    for name in SEQUENCE_SETS:
        spec = get_dataset(name)
        paths = [resolve(spec.remote, download=False), *(resolve(f, download=False) for f in spec.extra_files)]
        if name == "chipseq_oct4_mafk":
            continue  # FASTA pair, assembled by genomics.io.catalog_frame (tested in integration)
        columns = list(read_table(paths[0]).columns)
        assert spec.input_column in columns and set(spec.target_columns) <= set(columns), name
