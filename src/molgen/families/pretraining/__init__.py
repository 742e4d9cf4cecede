"""The pretraining family (``molgen pretrain``): self-supervised molecule encoders to fine-tune with ``--init-from``."""
