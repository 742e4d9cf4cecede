"""Search spaces: YAML mapping dotted run-config keys to Optuna distributions.

A space file looks like::

    params:
      optim.lr:         {type: float, low: 1.0e-4, high: 3.0e-3, log: true}
      model.depth:      {type: int, low: 2, high: 6}
      model.hidden_dim: {type: int, low: 100, high: 500, step: 100}
      model.name:       {type: categorical, choices: [dmpnn, gin]}

Every key must be a leaf of :class:`~molgen.config.RunConfig` (``set_dotted`` semantics: an unknown key is an
error listing the valid ones), every distribution must be well formed (unknown type or field → error listing
the valid ones), and every value a distribution can produce must be accepted by that config key.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    distribution_to_json,
)
from optuna.trial import Trial

from molgen.config import MODEL_SECTIONS, ConfigError, RunConfig, set_dotted

# Keys that change what the trials are compared on (data, split, metric) or where they write.
FIXED_KEYS = frozenset(
    {
        "family",
        "output",
        "data.name",
        "data.smiles_column",
        "data.target_columns",
        "data.split",
        "data.split_sizes",
        "data.split_column",
        "data.max_rows",
        "task.type",
        "task.n_classes",
        "task.metrics",
        "task.monitor",
    }
)

# type → (required fields, optional fields)
_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "int": (("low", "high"), ("step", "log")),
    "float": (("low", "high"), ("step", "log")),
    "log": (("low", "high"), ()),
    "categorical": (("choices",), ()),
}
SPACE_SECTIONS = ("params",)


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """Dotted config key → Optuna distribution, in file order."""

    params: dict[str, BaseDistribution]

    def suggest(self, trial: Trial) -> dict[str, Any]:
        """Draws one value per key from ``trial`` (a retried trial gets its stored values back)."""
        values: dict[str, Any] = {}
        for key, dist in self.params.items():
            if isinstance(dist, CategoricalDistribution):
                values[key] = trial.suggest_categorical(key, dist.choices)
            elif isinstance(dist, IntDistribution):
                values[key] = trial.suggest_int(key, dist.low, dist.high, step=dist.step, log=dist.log)
            else:
                assert isinstance(dist, FloatDistribution)
                values[key] = trial.suggest_float(key, dist.low, dist.high, step=dist.step, log=dist.log)
        return values

    def apply(self, base: RunConfig, values: Mapping[str, Any]) -> RunConfig:
        """``base`` with a trial's values set (types checked like a config file)."""
        return base.with_values(self.tidy(values), where="search space values")

    def tidy(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """0.15000000000000002 → 0.15 for float ranges with a step (Optuna computes low + k * step)."""
        tidied = dict(values)
        for key, value in values.items():
            dist = self.params.get(key)
            if isinstance(dist, FloatDistribution) and dist.step is not None and isinstance(value, float):
                tidied[key] = float(f"{value:.12g}")
        return tidied

    def to_json(self) -> dict[str, str]:
        """A comparable, storable form (kept in the study so a resumed study can check its space)."""
        return {key: distribution_to_json(dist) for key, dist in self.params.items()}


def load_space(path: str | Path, base: RunConfig | None = None) -> SearchSpace:
    """Reads and validates a search-space YAML file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"search space file not found: {path}")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    return parse_space(values, where=str(path), base=base)


def parse_space(values: Any, *, where: str = "search space", base: RunConfig | None = None) -> SearchSpace:
    """Validates ``{"params": {dotted key: distribution spec}}`` against ``base`` (the run config the trials
    start from). Without one, the defaults with the first model whose section has every ``model.*`` key of the
    space (a space of ``model.embedding_dim`` is checked against a generator)."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where}: expected a mapping with a 'params' section")
    unknown = sorted(set(values) - set(SPACE_SECTIONS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown section(s) {', '.join(map(str, unknown))}; valid sections: {', '.join(SPACE_SECTIONS)}"
        )
    params = values.get("params")
    if not isinstance(params, Mapping) or not params:
        raise ConfigError(
            f"{where}: 'params' must map at least one dotted config key (e.g. optim.lr) to a distribution"
        )
    defaults = base if base is not None else _default_base(params)
    parsed: dict[str, BaseDistribution] = {}
    for key, spec in params.items():
        key = str(key)
        _check_key(key, defaults, where)
        dist = _distribution(key, spec, where)
        _check_values(key, dist, defaults, where)
        parsed[key] = dist
    return SearchSpace(parsed)


def _default_base(params: Mapping[Any, Any]) -> RunConfig:
    names = params.get("model.name", {}).get("choices") if isinstance(params.get("model.name"), Mapping) else None
    if isinstance(names, list) and names and isinstance(names[0], str) and names[0] in MODEL_SECTIONS:
        return RunConfig().with_values({"model.name": names[0]})
    keys = {str(k).partition(".")[2] for k in params if str(k).startswith("model.") and str(k) != "model.name"}
    for name, section in MODEL_SECTIONS.items():
        if keys <= set(section.model_fields):
            return RunConfig().with_values({"model.name": name})
    return RunConfig()


def _check_key(key: str, defaults: RunConfig, where: str) -> None:
    tree = defaults.to_dict()
    try:
        set_dotted(tree, key, None)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    node: Any = defaults.to_dict()
    for part in key.split("."):
        node = node[part]
    if isinstance(node, dict):
        keys = ", ".join(f"{key}.{k}" for k in node)
        raise ConfigError(f"{where}: {key!r} is a config section; name one of its keys: {keys}")
    if key in FIXED_KEYS:
        raise ConfigError(
            f"{where}: {key!r} cannot be searched: it changes the data, split or metric the trials are compared on "
            f"(set it in the run config instead); fixed keys: {', '.join(sorted(FIXED_KEYS))}"
        )


def _distribution(key: str, spec: Any, where: str) -> BaseDistribution:
    at = f"{where}: {key}"
    if not isinstance(spec, Mapping) or "type" not in spec:
        raise ConfigError(f"{at}: expected a mapping with a 'type' ({', '.join(_FIELDS)})")
    kind = spec["type"]
    if kind not in _FIELDS:
        raise ConfigError(f"{at}: unknown distribution type {kind!r}; valid types: {', '.join(_FIELDS)}")
    required, optional = _FIELDS[kind]
    fields = {k: v for k, v in spec.items() if k != "type"}
    unknown = sorted(set(fields) - set(required) - set(optional), key=str)
    if unknown:
        raise ConfigError(
            f"{at}: unknown field(s) {', '.join(map(str, unknown))} for type {kind}; "
            f"valid fields: {', '.join(('type', *required, *optional))}"
        )
    missing = [f for f in required if f not in fields]
    if missing:
        raise ConfigError(f"{at}: type {kind} needs {', '.join(missing)}")
    if kind == "categorical":
        choices = fields["choices"]
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{at}: choices must be a non-empty list")
        if any(c is not None and not isinstance(c, bool | int | float | str) for c in choices):
            raise ConfigError(f"{at}: choices must be numbers, strings, booleans or null, got {choices!r}")
        if len(set(map(repr, choices))) != len(choices):
            raise ConfigError(f"{at}: choices must not repeat, got {choices!r}")
        return CategoricalDistribution(choices)
    log = fields.get("log", kind == "log")
    if not isinstance(log, bool):
        raise ConfigError(f"{at}: log must be true or false, got {log!r}")
    if kind == "int":
        low, high = (_number(fields[f], f, at, integer=True) for f in ("low", "high"))
        step = _number(fields.get("step", 1), "step", at, integer=True)
    else:
        low, high = (_number(fields[f], f, at) for f in ("low", "high"))
        step = None if fields.get("step") is None else _number(fields["step"], "step", at)
    if low > high:
        raise ConfigError(f"{at}: low ({low}) is above high ({high})")
    if log and low <= 0:
        raise ConfigError(f"{at}: a log-scale range needs low > 0, got {low}")
    if step is not None and step <= 0:
        raise ConfigError(f"{at}: step must be positive, got {step}")
    if log and step not in (None, 1):
        raise ConfigError(f"{at}: step cannot be combined with log: true")
    try:
        if kind == "int":
            return IntDistribution(low, high, log=log, step=step)
        return FloatDistribution(low, high, log=log, step=step)
    except ValueError as err:
        raise ConfigError(f"{at}: {err}") from None


def _number(value: Any, name: str, at: str, *, integer: bool = False) -> Any:
    if isinstance(value, str):  # YAML 1.1 reads 1e-4 (no dot) as a string
        with contextlib.suppress(ValueError):  # not a number: reported below
            value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{at}: {name} must be a number, got {value!r}")
    if integer:
        if float(value) != int(value):
            raise ConfigError(f"{at}: {name} must be an integer for type int, got {value!r}")
        return int(value)
    return float(value)


def _check_values(key: str, dist: BaseDistribution, defaults: RunConfig, where: str) -> None:
    """Every value the distribution can produce must be accepted by the config key."""
    if isinstance(dist, CategoricalDistribution):
        samples = list(dist.choices)
    else:
        samples = [dist.low, dist.high]  # type: ignore[attr-defined]
    for value in samples:
        try:
            defaults.with_values({key: value}, where=where)
        except ConfigError as err:
            raise ConfigError(f"{err} (from the distribution of {key})") from None
