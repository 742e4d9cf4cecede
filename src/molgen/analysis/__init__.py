"""Using a trained model: prediction, atom-level interpretation, sampling and latent-space design of generated molecules."""
