"""Command-line options generated from the config schema (:mod:`molgen.config`).

Each :class:`~molgen.config.RunConfig` field that carries :func:`molgen.config.cli` metadata becomes one option
of ``molgen train`` / ``molgen tune``: its flag, help and ``--help`` group come from the field, its type and
choices from the annotation (a ``Literal`` gives the choices). A model field that several model sections
share (``--hidden-dim``) is one option; every option defaults to None so that only given options override.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic.fields import FieldInfo

from molgen.config import CLI_GROUPS, MODEL_SECTIONS, PRETRAINING, SECTIONS, RunConfig, load_config

DEST_PREFIX = "config:"
"""argparse destinations of config options are ``config:<dotted key>`` (kept apart from command options)."""


def config_fields() -> Iterator[tuple[str, FieldInfo, list[FieldInfo]]]:
    """``(dotted key, field, same-named fields of the other model sections)`` of every field with CLI metadata,
    in schema order (each model key once)."""
    for name, field in RunConfig.model_fields.items():
        if name == "model":
            seen: set[str] = set()
            for section in MODEL_SECTIONS.values():
                for key, sub in section.model_fields.items():
                    if key in seen or not _meta(sub):
                        continue
                    seen.add(key)
                    others = [s.model_fields[key] for s in MODEL_SECTIONS.values() if key in s.model_fields]
                    yield f"model.{key}", sub, others
        elif name in SECTIONS:
            for key, sub in SECTIONS[name].model_fields.items():
                if _meta(sub):
                    yield f"{name}.{key}", sub, [sub]
        elif _meta(field):
            yield name, field, [field]


def add_config_options(parser: argparse.ArgumentParser, skip_groups: tuple[str, ...] = (PRETRAINING,)) -> None:
    """Adds ``--config``, one option per config field with CLI metadata (grouped as in the schema, except the
    ``skip_groups``: by default the pretraining options, which only ``molgen pretrain`` shows) and ``--set KEY=VALUE``."""
    parser.add_argument("--config", help="YAML run config; flags given here override it")
    titles = [title for title in CLI_GROUPS if title not in skip_groups]
    groups = {title: parser.add_argument_group(title) if title else parser for title in titles}
    for key, field, same_named in config_fields():
        meta = _meta(field)
        if meta.get("group", "") in skip_groups:
            continue
        flag = meta.get("flag") or "--" + key.rpartition(".")[2].replace("_", "-")
        options: dict[str, Any] = {"dest": DEST_PREFIX + key, "default": None}
        if meta.get("help"):
            options["help"] = meta["help"]
        action = meta.get("action")
        if action == "store_true":
            options["action"] = "store_true"
        elif action == "append":  # a repeatable flag: its values replace the config's list
            options.update(action="append", metavar=meta.get("metavar"))
        elif action == "boolean_optional":
            options["action"] = argparse.BooleanOptionalAction
        else:
            if meta.get("parse") == "yaml":
                options["type"] = yaml.safe_load
            else:
                scalar = _scalar_type(field.annotation)
                if scalar in (int, float):
                    options["type"] = scalar
            choices = _choices([f.annotation for f in same_named])
            if choices:
                options["choices"] = choices
            if "nargs" in meta:
                options["nargs"] = meta["nargs"]
            if "const" in meta:  # the value of a flag given without one (nargs "?")
                options["const"] = meta["const"]
            metavar = meta.get("metavar")
            if isinstance(metavar, list):
                metavar = tuple(metavar)
            if metavar is None and not (choices and len(choices) <= 2):  # as argparse names it, not the dest
                metavar = flag.lstrip("-").replace("-", "_").upper()
            if metavar is not None:
                options["metavar"] = metavar
        groups[meta.get("group", "")].add_argument(flag, **options)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any config key, e.g. optim.weight_decay=1e-5",
    )


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The config file (or the defaults) with every given option and then every ``--set`` applied."""
    cfg = load_config(args.config) if getattr(args, "config", None) else RunConfig()
    values = {
        dest[len(DEST_PREFIX) :]: value
        for dest, value in vars(args).items()
        if dest.startswith(DEST_PREFIX) and value is not None
    }
    return cfg.with_values(values, where="command line").with_overrides(getattr(args, "set", None) or [])


def _meta(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    return dict(extra.get("cli", {})) if isinstance(extra, dict) else {}  # type: ignore[arg-type]


def _scalar_type(hint: Any) -> Any:
    """int / float / str / bool behind ``X | None`` and ``list[X]``."""
    origin = get_origin(hint)
    if origin is Literal:
        return str
    if origin is list:
        return _scalar_type(get_args(hint)[0])
    if origin is Union or (origin is not None and type(None) in get_args(hint)):
        options = [a for a in get_args(hint) if a is not type(None)]
        return _scalar_type(options[0]) if len(options) == 1 else None
    metadata = getattr(hint, "__metadata__", None)
    if metadata is not None:  # Annotated[int, Strict()]
        return _scalar_type(get_args(hint)[0])
    return hint


def _choices(hints: list[Any]) -> list[str] | None:
    """The values of the ``Literal`` behind the hints (their union, in order), else None."""
    values: list[str] = []
    for hint in hints:
        literal = _literal(hint)
        if literal is None:
            return None
        values += [v for v in literal if v not in values]
    return values or None


def _literal(hint: Any) -> tuple[Any, ...] | None:
    if get_origin(hint) is Literal:
        return get_args(hint)
    args = [a for a in get_args(hint) if a is not type(None)]
    if len(args) == 1 and get_origin(args[0]) is Literal:
        return get_args(args[0])
    return None
