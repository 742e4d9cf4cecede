"""``molgen serve``: exported models behind an HTTP API (see docs/serving.md). Flags come from
:class:`molgen.serving.settings.ServeSettings`."""

from __future__ import annotations

import argparse
import json
import os
import types
import typing
from typing import Any


def add_parser(commands: argparse._SubParsersAction) -> None:
    from molgen.serving.settings import ServeSettings

    parser = commands.add_parser(
        "serve",
        help="serve exported models over HTTP (predict, generate, variant-effect, attribute)",
        description="Serve exported models over HTTP (needs the serve extra: pip install 'molgen[serve]').",
    )
    for name, field in ServeSettings.model_fields.items():
        flag = "--" + ("model" if name == "models" else name.replace("_", "-"))
        annotation = field.annotation
        options: dict[str, Any] = {"dest": f"serve:{name}", "help": field.description}
        if name == "models":
            options.update(action="append", required=True, metavar="NAME=DIR")
        elif typing.get_origin(annotation) is list:
            options.update(nargs="+", metavar="ORIGIN")
        elif typing.get_origin(annotation) is typing.Literal:
            options.update(choices=list(typing.get_args(annotation)))
            options["help"] = f"{field.description} (default: {field.default})"
        else:
            kind = _scalar(annotation)
            options.update(type=kind, metavar=name.upper())
            options["help"] = f"{field.description} (default: {field.default})"
        options["help"] = options["help"].replace("%", "%%")  # argparse formats help with %
        parser.add_argument(flag, **options)
    parser.set_defaults(run=run)


def _scalar(annotation: Any) -> type:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation


def run(args: argparse.Namespace) -> int:
    from molgen.errors import ConfigError
    from molgen.serving.settings import ENV_VAR, build_settings, parse_model_args

    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as err:
        raise ConfigError(
            f"molgen serve needs the serve extra ({err.name} is missing): pip install 'molgen[serve]'"
        ) from None
    from molgen.serving.logs import configure_logging
    from molgen.training.artifacts import read_spec

    values = {k.split(":", 1)[1]: v for k, v in vars(args).items() if k.startswith("serve:") and v is not None}
    values["models"] = parse_model_args(values["models"])
    settings = build_settings(**values)
    settings.token()  # fail now on a missing or short token
    for folder in settings.models.values():  # a folder that is no model fails here, before the workers start
        read_spec(folder if os.path.isfile(os.path.join(folder, "model.yaml")) else os.path.join(folder, "model"))
    os.environ[ENV_VAR] = json.dumps(settings.model_dump())
    configure_logging()
    uvicorn.run(
        "molgen.serving.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=int(settings.timeout_s) + 5,
    )
    return 0
