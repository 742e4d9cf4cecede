"""molgen: property prediction, molecule generation and DNA sequence models on one Lightning core."""

__version__ = "0.1.0"
