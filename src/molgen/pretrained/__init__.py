"""Pretrained encoders shipped with molgen (package data): ``molgen train --init-from molgen:NAME`` reads
``molgen/pretrained/NAME/`` (``model.yaml``, ``model.safetensors``, ``README.md``). See docs/pretraining.md."""
