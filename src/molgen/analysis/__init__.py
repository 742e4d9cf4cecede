"""Using a trained model: prediction, sampling and latent-space design of generated molecules."""
