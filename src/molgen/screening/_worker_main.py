"""What spawned local Dask workers import as their ``__main__`` (nothing): see ``runner._workers_skip_main``."""
