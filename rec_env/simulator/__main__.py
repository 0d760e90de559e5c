"""Command line: ``python -m rec_env.simulator report DATASET_OR_PATH [--out DIR] [--dim 16 ...]``.

Fits the environment's click model on the dataset's training split (or loads it from the
disk cache, exactly as ``gym.make("ListwiseFeed-v0", dataset=...)`` does with the default
options), scores it on the test split next to the reference models of
:mod:`rec_env.simulator.baselines`, prints the configuration it fitted and the table, and
writes ``table.csv``, ``config.json`` and ``reliability.png`` into ``--out``. Every
:class:`~rec_env.simulator.LogClickConfig` field is a flag (``--dim``, ``--embedding-l2``,
``--no-use-context``...); ``--seed`` defaults to ``--split-seed``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rec_env.cli import add_max_levels, file_options, run_cli
from rec_env.data.registry import NAMES, load_dataset
from rec_env.flags import add_arguments, overrides
from rec_env.scenario import SPLIT_KINDS, Scenario
from rec_env.simulator.log_model import LogClickConfig
from rec_env.simulator.report import N_BINS, TRUTH, fit_report, plot_reliability

PLOTTED = ("position", "position_item", "fitted", TRUTH)
"""Curves of the reliability plot (the constant baseline is one point)."""


def report(
    dataset: str,
    out: Path,
    split: str = "request",
    split_seed: int = 0,
    n_bins: int = N_BINS,
    model_options: dict[str, Any] | None = None,
    max_levels: int | None = None,
) -> str:
    """Fit (or load) the env's click model of ``dataset``, write its report into ``out``.

    :param dataset: a dataset name or a ``.csv`` / ``.parquet`` log path.
    :param model_options: :class:`LogClickConfig` fields replacing the defaults (``seed``
        defaults to ``split_seed``).
    :param max_levels: a log file's most one-hot columns per categorical feature (None: the
        loader's default, as ``gym.make`` has it).
    :return: the printed text.
    """
    options = file_options(dataset, max_levels)
    data = load_dataset(dataset, **options) if options else dataset
    scenario = Scenario.build(data, split=split, split_seed=split_seed, user_model="fitted")
    model = scenario.fitted_user_model(**(model_options or {}))
    result = fit_report(model, scenario, n_bins)
    out.mkdir(parents=True, exist_ok=True)
    result.table().to_csv(out / "table.csv", index=False)
    (out / "config.json").write_text(json.dumps(asdict(model.config), indent=2) + "\n")
    curves = {name: curve.curve for name, curve in result.scores().items() if name in PLOTTED}
    plot_reliability(curves, out / "reliability.png", title=scenario.name)
    title = f"{scenario.name}: fitted click model on the test split ({split} split, seed {split_seed})\n"
    written = f"written to {out}/ (table.csv, config.json, reliability.png)\n"
    return title + config_text(model.config) + result.to_text() + written


def config_text(config: LogClickConfig) -> str:
    """One line naming every field of the fitted click model's configuration."""
    fields = ", ".join(f"{name}={value}" for name, value in asdict(config).items())
    return f"fitted LogClickConfig({fields})\n"


def model_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`LogClickConfig` flags given, checked (a bad value exits as argparse does)."""
    given = overrides(args, LogClickConfig)
    try:
        LogClickConfig(**given)
    except ValueError as error:
        parser.error(str(error))
    return given


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rec_env.simulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("report", help="held-out quality of the env's click model")
    command.add_argument("dataset", metavar="DATASET_OR_PATH", help=f"one of {NAMES} or a log file")
    command.add_argument(
        "--out", type=Path, help="output folder (default: results/simulator_report/<dataset>)"
    )
    command.add_argument("--split", choices=SPLIT_KINDS, default="request", help="split kind")
    command.add_argument("--split-seed", type=int, default=0, help="seed of a request split")
    command.add_argument("--bins", type=int, default=N_BINS, help="calibration bins")
    add_max_levels(command)
    options = command.add_argument_group("click model (LogClickConfig fields)")
    add_arguments(options, LogClickConfig)
    args = parser.parse_args(argv)
    if args.bins < 1:
        parser.error(f"--bins must be >= 1, got {args.bins}")
    given = model_options(command, args)
    out = args.out or Path("results/simulator_report") / Path(args.dataset).stem
    run = (args.dataset, out, args.split, args.split_seed, args.bins, given, args.max_levels)
    text = run_cli(report, *run)
    print(text, end="")


if __name__ == "__main__":
    main()
