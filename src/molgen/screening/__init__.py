"""Virtual screening: streaming, sharded, resumable scoring of large molecule libraries.

``screen(models, library, output)`` reads a library (``.smi``, CSV/TSV, SDF, Parquet; a file, a
glob or a folder; gzip accepted) in fixed shards, featurizes and predicts each shard on
workers (in-process, a Dask ``LocalCluster`` or an existing Dask cluster), writes one Parquet
file per shard as it finishes and a merged ``top_k.csv`` at the end. Every input row gets one
result row; rerunning the same call resumes.

Modules: :mod:`~molgen.data.shards` (libraries and shards), :mod:`~molgen.screening.scoring`
(one shard → predictions), :mod:`~molgen.screening.filters`, :mod:`~molgen.screening.ranking`
(acquisition and top-k), :mod:`~molgen.screening.store` (output folder, manifest),
:mod:`~molgen.screening.runner` (serial and Dask execution). Dask is imported only when used.
"""

from molgen.data.shards import FORMATS, plan_library, read_shard
from molgen.screening.filters import FILTERS
from molgen.screening.ranking import ACQUISITIONS, Ranking, TopK
from molgen.screening.runner import ScreenResult, screen
from molgen.screening.scoring import ScreenJob

__all__ = [
    "ACQUISITIONS",
    "FILTERS",
    "FORMATS",
    "Ranking",
    "ScreenJob",
    "ScreenResult",
    "TopK",
    "plan_library",
    "read_shard",
    "screen",
]
