"""``molgen datasets list|info``: the public dataset catalog."""

from __future__ import annotations

import argparse

import yaml


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("datasets", help="list public datasets and show their details")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="one line per dataset")
    listing.set_defaults(run=run_list)
    info = actions.add_parser("info", help="everything the catalog knows about one dataset")
    info.add_argument("name")
    info.set_defaults(run=run_info)


def run_list(args: argparse.Namespace) -> int:
    from molgen.data.catalog import dataset_names, get_dataset

    rows = [("name", "task", "targets", "metric", "split", "file")]
    for name in dataset_names():
        spec = get_dataset(name)
        rows.append(
            (
                spec.name,
                spec.task_type,
                str(len(spec.target_columns)),
                spec.metric,
                spec.default_split,
                spec.remote.filename,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def run_info(args: argparse.Namespace) -> int:
    from molgen.data.catalog import get_dataset

    print(yaml.safe_dump(get_dataset(args.name).to_dict(), sort_keys=False, width=100).rstrip())
    return 0
