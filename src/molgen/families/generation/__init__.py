"""Molecule generators: CharRNN, SMILES/SELFIES VAE, LatentGAN and MolGAN on the shared run folder and export."""
