"""Checkpoints written atomically: a full disk or a kill leaves the previous ``best.ckpt`` / ``last.ckpt``
(or none), never a truncated one."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from molgen.io import write_bytes


class AtomicCheckpointIO(TorchCheckpointIO):
    """:class:`TorchCheckpointIO` that saves to a temporary file in the same folder, fsyncs it and renames it."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO takes no storage_options")
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        path = Path(os.fspath(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(path, buffer.getvalue())
