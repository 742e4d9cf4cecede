"""Sampling trained generators into SMILES files (``molgen generate``), with or without an objective."""

from __future__ import annotations

import dataclasses
import inspect
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from molgen import io as atomic
from molgen.errors import ConfigError
from molgen.models.generative import Generator, LatentGenerator


@dataclasses.dataclass
class SamplingSummary:
    n: int
    n_invalid: int
    seconds: float
    output: Path

    @property
    def per_second(self) -> float:
        return self.n / max(self.seconds, 1e-9)


def sample_many(
    generator: Generator,
    n: int,
    *,
    seed: int | None = None,
    batch_size: int = 512,
    temperature: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """``n`` samples drawn ``batch_size`` at a time (``progress(k)`` after each batch of ``k``). Batch ``i`` is
    seeded from ``seed`` and ``i``, so the same seed and batch size give the same molecules."""
    if n < 0:
        raise ConfigError(f"n must be >= 0, got {n}")
    if batch_size < 1:
        raise ConfigError(f"batch size must be >= 1, got {batch_size}")
    options: dict[str, Any] = {}
    if temperature is not None:
        if "temperature" not in inspect.signature(generator.sample).parameters:
            raise ConfigError(f"{type(generator).__name__} has no sampling temperature")
        options["temperature"] = temperature
    n_batches = -(-n // batch_size)
    seeds = np.random.SeedSequence(seed).generate_state(n_batches) if seed is not None else [None] * n_batches
    out: list[str] = []
    for i in range(n_batches):
        size = min(batch_size, n - len(out))
        batch_seed = seeds[i]
        batch = generator.sample(
            size, seed=None if batch_seed is None else int(batch_seed), batch_size=batch_size, **options
        )
        if len(batch) != size:
            raise RuntimeError(f"{type(generator).__name__}.sample returned {len(batch)} molecules for {size} asked")
        out.extend(batch)
        if progress is not None:
            progress(size)
    return out


def count_invalid(smiles: list[str]) -> int:
    from molgen.chem.molecules import iter_molecules

    return sum(1 for _, mol, _ in iter_molecules(smiles) if mol is None)


def write_samples(generator: Generator, n: int, output: str | Path, **options: Any) -> SamplingSummary:
    """Samples ``n`` molecules into ``output``: one per line, in sampling order, invalid ones included as
    decoded (an empty line where nothing decoded), so that validity can be measured from the file."""
    start = time.perf_counter()
    smiles = sample_many(generator, n, **options)
    seconds = time.perf_counter() - start
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(output, "".join(s + "\n" for s in smiles))
    return SamplingSummary(n, count_invalid(smiles), seconds, output)


def optimize_to_file(
    generator: Generator, objective_spec: str, n: int, output: str | Path, *, direction: str = "auto", **options: Any
) -> tuple[dict[str, Any], Path]:
    """Latent optimization (:func:`molgen.analysis.design.optimize_latent`) of ``objective_spec``; writes
    ``SMILES<TAB>score`` lines (best first) to ``output`` and the before/after statistics to
    ``<output stem>.objective.json``. Returns the statistics and the JSON path."""
    from molgen.analysis.design import build_objective, optimize_latent

    if not isinstance(generator, LatentGenerator):
        raise ConfigError(
            f"--objective needs a generator with a latent space (a VAE: encode/decode); {type(generator).__name__} has none"
        )
    objective = build_objective(objective_spec, direction)
    result = optimize_latent(generator, objective, n, **options)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(output, "".join(f"{s}\t{v:.6g}\n" for s, v in zip(result.smiles, result.scores)))
    summary = result.summary()
    summary["n_written"] = len(result.smiles)
    path = output.with_name(output.name.rsplit(".", 1)[0] + ".objective.json")
    atomic.write_text(path, json.dumps(_finite(summary), indent=2) + "\n")
    return summary, path


def _finite(value: Any) -> Any:
    """NaN → None (JSON null), recursively."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value
