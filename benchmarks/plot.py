"""Training curves of any runs, from the ``scalars.csv`` every trainer writes.

    python -m benchmarks.plot RUN_DIR [RUN_DIR ...] --metric auc --out curves.png

One panel per dataset, one colour per method (the run's ``agent``: ``teacher``, ``drl-rec``...),
the validation metric against the gradient step. Several runs of one method (its seeds) give
the mean line and a band from the lowest to the highest run at each step. ``auc`` is logged
by offline runs (``eval/valid_auc``), ``clicks`` (expected clicks per list on validation
requests) by online runs. The command line is appended to ``command.txt`` beside the figure.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.harness.report import CURVES, curves, plot_curves
from benchmarks.harness.results import append_command
from rec_env.cli import run_cli


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plot", description=__doc__)
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders (any trainer)")
    parser.add_argument("--metric", choices=sorted(CURVES), default="auc", help="what to draw")
    parser.add_argument("--out", default="curves.png", help="the figure (PNG)")
    args = parser.parse_args(argv)
    tag, label = CURVES[args.metric]
    path = plot_curves(curves(args.runs, tag), label, args.out)
    append_command(path.parent)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    run_cli(main)
