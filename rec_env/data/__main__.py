"""Command line: ``python -m rec_env.data info NAME [NAME ...] [--max-levels N]`` prints dataset
statistics (``--max-levels``: most one-hot columns of a log file's categorical feature)."""

from __future__ import annotations

import argparse
import json

from rec_env.checks import check_dataset
from rec_env.cli import add_max_levels, file_options, run_cli
from rec_env.data.registry import DATASETS, load_dataset
from rec_env.data.stats import dataset_stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rec_env.data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="print users, items, requests, clicks, list lengths")
    info.add_argument("names", nargs="+", metavar="NAME", help=f"one of {DATASETS} or a log file")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_max_levels(info)
    args = parser.parse_args(argv)
    for name in args.names:
        check_dataset("NAME", name)
    for name in args.names:
        stats = dataset_stats(load_dataset(name, **file_options(name, args.max_levels)))
        print(json.dumps(stats.as_dict()) if args.json else stats.to_text() + "\n")


if __name__ == "__main__":
    run_cli(main)
