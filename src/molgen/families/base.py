"""What a model family is, and the registries that list the families and the generators.

A family is a plug-in: a class registered with ``@register_family("name")`` that says which model names
it trains, fills its config from the catalog, trains and exports (``fit``), and rebuilds and runs an
exported model (``load_predictors`` / ``predict_frame``). ``molgen.families`` imports every family
module, so ``FAMILIES`` lists them all once that package is imported; the CLI imports it inside commands.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from molgen.registry import Registry

if TYPE_CHECKING:
    import pandas as pd

    from molgen.config import RunConfig
    from molgen.data.catalog import DatasetSpec
    from molgen.families.common import RunResult
    from molgen.training.artifacts import ModelSpec

__all__ = ["FAMILIES", "GENERATORS", "Family", "GeneratorRecipe", "register_family", "register_generator"]


@runtime_checkable
class Family(Protocol):
    """A model family: one kind of input and output (molecules → properties, DNA → expression, …).

    Attributes:
        name: the ``family`` value of configs and ``model.yaml``.
        models: the ``model.name`` values this family trains.
    """

    name: str
    models: tuple[str, ...]

    def resolve_config(self, cfg: RunConfig) -> tuple[RunConfig, DatasetSpec | None]:
        """``cfg`` with unset data/task options filled from the catalog (or defaults), and the catalog entry."""
        ...

    def fit(self, cfg: RunConfig, **options: Any) -> RunResult:
        """Trains, evaluates and exports (``resume``, ``extra_callbacks``, ``export``, ``test``)."""
        ...

    def load_predictors(self, spec: ModelSpec, states: list[dict[str, Any]]) -> list[Any]:
        """The exported members rebuilt from ``model.yaml`` and their weights."""
        ...

    def predict_frame(self, spec: ModelSpec, members: list[Any], frame: pd.DataFrame, **options: Any) -> pd.DataFrame:
        """One output row per input row, with ``valid`` and ``invalid_reason``."""
        ...


class GeneratorRecipe(Protocol):
    """One generator of the generation family: how it trains and how its export is loaded."""

    @staticmethod
    def train(
        cfg: RunConfig, data: Any, run_dir: Path, *, resume: bool = False, callbacks: list | None = None
    ) -> Any: ...

    @staticmethod
    def load(model_dir: Path, spec: ModelSpec) -> Any: ...


FAMILIES: Registry[Family] = Registry("model family")
GENERATORS: Registry[GeneratorRecipe] = Registry("generator")

F = TypeVar("F")


def register_family(name: str) -> Callable[[type[F]], type[F]]:
    """Class decorator: registers one instance of the class as family ``name``."""

    def decorate(cls: type[F]) -> type[F]:
        instance = cls()
        instance.name = name  # type: ignore[attr-defined]
        FAMILIES.register(name, instance)  # type: ignore[arg-type]
        return cls

    return decorate


def register_generator(name: str) -> Callable[[type[F]], type[F]]:
    """Class decorator: registers a generator recipe (a class with static ``train`` and ``load``)."""

    def decorate(cls: type[F]) -> type[F]:
        GENERATORS.register(name, cls)  # type: ignore[arg-type]
        return cls

    return decorate
