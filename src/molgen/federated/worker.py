"""Entry point of the processes a simulated federation starts (``python -m molgen.federated.worker``).

``serve RUN_DIR`` runs the server, ``site RUN_DIR NAME FILE`` one site; both read ``RUN_DIR/config.yaml`` and
``RUN_DIR/federation.yaml``. A :class:`MolgenError` ends the process with one line on stderr and status 2.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import yaml

from molgen.errors import MolgenError

FEDERATION_FILE = "federation.yaml"


def main(argv: list[str]) -> int:
    from molgen.config import load_config, replace
    from molgen.federated.settings import FederationSettings

    logging.basicConfig(level=logging.INFO, format="molgen: %(message)s", stream=sys.stderr)
    role, run_dir = argv[0], Path(argv[1])
    try:
        settings = FederationSettings.model_validate(yaml.safe_load((run_dir / FEDERATION_FILE).read_text()))
        cfg = load_config(run_dir / "config.yaml")
        names = settings_sites(run_dir)
        from molgen.federated.client import federation_record

        federation = federation_record(settings, names)
        if role == "serve":
            from molgen.federated.server import serve

            serve(settings, federation, run_dir)
        else:
            from molgen.federated.client import run_site

            name, file = argv[2], argv[3]
            site_cfg = replace(cfg, data=replace(cfg.data, name=file))
            run_site(site_cfg, name, settings, run_dir / "sites" / name)
    except MolgenError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def settings_sites(run_dir: Path) -> list[str]:
    """The site names of a simulated federation (``sites.yaml``: name → file)."""
    return list(yaml.safe_load((run_dir / "sites.yaml").read_text()))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
