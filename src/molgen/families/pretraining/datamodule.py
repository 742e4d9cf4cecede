"""The pretraining DataModule: the streamed training chunks and the fixed validation chunk."""

from __future__ import annotations

from typing import Any

import lightning.pytorch as L
from torch.utils.data import DataLoader

from molgen.families.pretraining.corpus import CorpusStream, StreamBatch, ValidationBatches, stream_loader


class CorpusDataModule(L.LightningDataModule):
    """Training batches from ``stream`` (``workers`` processes featurize chunks), validation from chunk 0."""

    def __init__(self, stream: CorpusStream, validation: ValidationBatches, workers: int) -> None:
        super().__init__()
        self.stream, self.validation, self.workers = stream, validation, workers

    def train_dataloader(self) -> DataLoader:
        return stream_loader(self.stream, self.workers)

    def on_before_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """A worker's numpy :class:`StreamBatch` becomes a graph batch here, in the trainer's process."""
        return batch.to_batch() if isinstance(batch, StreamBatch) else batch

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.validation, batch_size=None, num_workers=0)
