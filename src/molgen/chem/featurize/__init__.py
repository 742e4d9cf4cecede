"""Molecular graph featurization: RDKit atom/bond tables (fast RDKit-pickle decoder with an API fallback),
one-hot atom/bond features, packed (CSR) graph storage, dense graphs for MolGAN, and an on-disk cache."""
