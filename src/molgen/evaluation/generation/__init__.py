"""The MOSES generation metrics: validity, uniqueness, novelty, FCD, SNN, Frag, Scaf, IntDiv, filters."""
