"""DNA sequence encoders: one-hot ``[B, 4, L]`` → ``[B, out_dim]`` (plain ``torch.nn``, one file each)."""

from molgen.models.sequence.base import READOUTS, SequenceReadout
from molgen.models.sequence.cnn import BassetCNN
from molgen.models.sequence.dilated import DilatedCNN, DilatedResidualBlock
from molgen.models.sequence.transformer import ConvTransformer

__all__ = ["READOUTS", "BassetCNN", "ConvTransformer", "DilatedCNN", "DilatedResidualBlock", "SequenceReadout"]
