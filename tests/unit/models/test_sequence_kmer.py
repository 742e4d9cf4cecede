"""k-mer count baseline: exact counts, N/padding skipped, a planted k-mer signal is recovered."""

from __future__ import annotations

import numpy as np
import torch

from molgen.genomics.encoding import one_hot
from molgen.models.kmer import KmerCounts, fit_linear, kmer_feature_names


def test_counts_are_exact_and_skip_n_and_padding():
    names = kmer_feature_names(2)
    assert names[:5] == ["A", "C", "G", "T", "AA"] and len(names) == KmerCounts(2).out_dim == 20
    counts = KmerCounts(2).counts(torch.from_numpy(one_hot(["AACGN", "AA"], length=6)))
    first = dict(zip(names, counts[0].tolist(), strict=True))
    assert first["A"] == 2 and first["C"] == 1 and first["G"] == 1 and first["T"] == 0
    assert first["AA"] == 1 and first["AC"] == 1 and first["CG"] == 1 and sum(counts[0, 4:]) == 3  # GN not counted
    second = dict(zip(names, counts[1].tolist(), strict=True))
    assert second["A"] == 2 and second["AA"] == 1 and sum(counts[1]) == 3  # padding not counted


def test_planted_kmer_signal_is_recovered():
    rng = np.random.default_rng(0)
    seqs, y = [], []
    for _ in range(1000):
        seq = list(rng.choice(list("ACGT"), 60))
        hits = int(rng.integers(0, 4))
        for start in rng.choice(np.arange(0, 56, 8), hits, replace=False):
            seq[start : start + 4] = "GATA"
        seqs.append("".join(seq))
        y.append(hits + 0.1 * rng.normal())
    encoder = KmerCounts(4)
    counts = encoder.counts(torch.from_numpy(one_hot(seqs)))
    encoder.fit_scaling(counts[:800])
    features = encoder(torch.from_numpy(one_hot(seqs))).numpy()
    targets = np.asarray(y, dtype=np.float32)[:, None]
    coef, intercept = fit_linear("ridge", features[:800], targets[:800], alphas=[30.0])[0]
    preds = features[800:] @ coef.T + intercept
    assert np.corrcoef(preds[:, 0], targets[800:, 0])[0, 1] > 0.9
    gata = kmer_feature_names(4).index("GATA")
    assert np.argmax(coef[0]) == gata  # the planted motif carries the largest weight
    labels = (targets > 1.5).astype(np.float32)
    labels[::7] = np.nan  # missing labels are left out of the fit
    coef, intercept = fit_linear("logistic", features[:800], labels[:800], alphas=[1.0])[0]
    scores = features[800:] @ coef.T + intercept
    truth = labels[800:, 0]
    keep = ~np.isnan(truth)
    assert ((scores[keep, 0] > 0) == (truth[keep] > 0.5)).mean() > 0.9
