"""``molgen federate``: federated training with Flower (simulation on loopback, or a real server and sites)."""

from __future__ import annotations

import argparse
from typing import Any

from molgen.cli.options import add_config_options, config_from_args

ROLES = ("simulate", "serve", "site")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "federate",
        help="train one model across sites that keep their data (Flower; FedAvg / FedProx)",
        description="Federated training: each --site file stays with its site; only the trunk's weights travel. "
        "Example: molgen federate --site a.csv --site b.csv --rounds 5 --task-type binary --output fed_run",
        conflict_handler="resolve",  # --strategy here is the federation's, not Lightning's (trainer.strategy)
    )
    add_config_options(parser)
    group = parser.add_argument_group("federation")
    group.add_argument("--site", action="append", default=[], metavar="FILE", help="one site's data file (repeat)")
    group.add_argument("--rounds", type=int, default=3, help="communication rounds (default 3)")
    group.add_argument(
        "--strategy", choices=["fedavg", "fedprox"], help="aggregation (default fedprox; docs/federated.md says why)"
    )
    group.add_argument("--proximal-mu", type=float, metavar="MU", help="FedProx's proximal weight μ (default 0.01)")
    group.add_argument(
        "--min-sites", type=int, default=None, metavar="M", help="fewest sites a round needs (default: all sites)"
    )
    group.add_argument(
        "--role",
        choices=ROLES,
        default="simulate",
        help="simulate: server and every --site as local processes on loopback (default); serve: run the server "
        "only; site: run one --site against --server-address",
    )
    group.add_argument("--name", help="--role site: this site's name (default: the file's stem)")
    group.add_argument("--expected-sites", type=int, metavar="N", help="--role serve: sites to wait for (default: M)")
    group.add_argument("--server-address", default="127.0.0.1:8080", metavar="HOST:PORT", help="--role serve/site")
    group.add_argument(
        "--certificates", metavar="DIR", help="TLS files (ca.crt, server.pem, server.key); needed off loopback"
    )
    group.add_argument("--join-timeout", type=float, default=600.0, metavar="S", help="seconds to wait for the sites")
    group.add_argument("--round-timeout", type=float, default=None, metavar="S", help="seconds a round waits")
    group.add_argument(
        "--update-dp-epsilon",
        type=float,
        metavar="E",
        help="local DP on each site's update: ε per round (clipped update + Gaussian noise; default: off)",
    )
    group.add_argument("--update-dp-delta", type=float, default=1e-5, metavar="D", help="δ per round (default 1e-5)")
    group.add_argument("--update-clip-norm", type=float, default=1.0, metavar="C", help="update L2 clip (default 1)")
    group.add_argument("--overwrite", action="store_true", help="replace the run in --output")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pydantic import ValidationError

    from molgen.errors import ConfigError
    from molgen.federated.settings import FederationSettings

    cfg = config_from_args(args)
    if args.role != "serve" and not args.site:
        raise ConfigError("pass --site FILE (one per site; simulate needs two or more)")
    n_sites = len(args.site) if args.role == "simulate" else (args.expected_sites or args.min_sites or 2)
    options = dict(
        rounds=args.rounds,
        local_epochs=vars(args).get("config:trainer.max_epochs") or 1,  # --max-epochs: local epochs per round
        min_sites=args.min_sites or n_sites,
        expected_sites=n_sites,
        server_address=args.server_address,
        certificates=args.certificates,
        join_timeout=args.join_timeout,
        round_timeout=args.round_timeout,
        update_dp_epsilon=args.update_dp_epsilon,
        update_dp_delta=args.update_dp_delta,
        update_clip_norm=args.update_clip_norm,
    )
    chosen = {"strategy": args.strategy, "proximal_mu": args.proximal_mu}  # unset: the settings' defaults
    options.update({key: value for key, value in chosen.items() if value is not None})
    try:
        settings = FederationSettings(**options)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise ConfigError(f"federation options: {problems}") from None
    output = Path(cfg.output or "federated_run")
    if args.role == "simulate":
        from molgen.federated.simulation import simulate

        record = simulate(cfg, args.site, settings, output, overwrite=args.overwrite)
        _print_summary(record)
        print(f"run folder: {output}" + (f"  (model: {output / 'model'})" if (output / "model").is_dir() else ""))
        return 0
    settings.check()
    if args.role == "serve":
        from molgen.federated.client import federation_record
        from molgen.federated.server import serve

        cfg.save(_fresh(output, args.overwrite) / "config.yaml")
        record = serve(settings, federation_record(settings, []), output)
        _print_summary(record)
        return 0
    from molgen.config import replace
    from molgen.federated.client import run_site

    if len(args.site) != 1:
        raise ConfigError("--role site runs one site: pass one --site FILE")
    name = args.name or Path(args.site[0]).name.split(".")[0]
    site_cfg = replace(cfg, data=replace(cfg.data, name=args.site[0]))
    run_dir = run_site(site_cfg, name, settings, output)
    print(f"site {name}: run folder {run_dir}")
    return 0


def _fresh(output: Any, overwrite: bool) -> Any:
    import shutil

    from molgen.errors import ConfigError

    if output.exists() and any(output.iterdir()):
        if not overwrite:
            raise ConfigError(f"--output {output} already holds files; pass --overwrite or choose another --output")
        shutil.rmtree(output)
    output.mkdir(parents=True, exist_ok=True)
    return output


def _print_summary(record: dict[str, Any]) -> None:
    for entry in record.get("rounds", []):
        print(
            f"round {entry['round']}: sites {', '.join(entry.get('sites', [])) or '-'}"
            f"{'' if entry.get('aggregated', True) else ' (not aggregated)'}, "
            f"{len(entry.get('rejected', []))} rejected, {entry.get('failures', 0)} failed, "
            f"{entry['bytes_sent'] + entry['bytes_received']} bytes"
        )
    for site, metrics in record.get("sites", {}).items():
        test = {k: v for k, v in metrics.get("test", {}).items() if "/" not in k}
        print(f"site {site}: test " + ", ".join(f"{k} {v:.4f}" for k, v in test.items()))
