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
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from agents.training.config import load_config  # noqa: E402
from agents.training.logger import CSV_NAME  # noqa: E402
from benchmarks.common import append_command  # noqa: E402
from rec_env.checks import InputError  # noqa: E402
from rec_env.cli import run_cli  # noqa: E402

METRICS = {
    "auc": ("eval/valid_auc", "validation AUC"),
    "clicks": ("eval/valid_expected_clicks_per_list", "validation expected clicks per list"),
}
"""``--metric`` -> (scalar tag, axis label)"""


def read_scalar(run_dir: str | Path, tag: str) -> pd.Series:
    """``tag``'s values in a run's ``scalars.csv``, indexed by gradient step.

    :raises InputError: the folder has no ``scalars.csv`` or no value of ``tag``.
    """
    path = Path(run_dir) / CSV_NAME
    if not path.is_file():
        raise InputError(f"{run_dir} is not a run folder: no {CSV_NAME}")
    with open(path, newline="") as handle:
        rows = [
            (int(step), float(value)) for step, name, value in csv.reader(handle) if name == tag
        ]
    if not rows:
        raise InputError(f"{run_dir} has no {tag!r} values (offline runs log AUC, online clicks)")
    return pd.Series(dict(rows), dtype=float)


def curves(run_dirs: list[str | Path], tag: str) -> pd.DataFrame:
    """Tidy ``dataset, method, run, step, value`` rows of ``tag`` for every run."""
    parts = []
    for run_dir in run_dirs:
        config = load_config(run_dir)
        series = read_scalar(run_dir, tag)
        parts.append(
            pd.DataFrame(
                {
                    "dataset": config.dataset,
                    "method": config.agent,
                    "run": str(run_dir),
                    "step": series.index,
                    "value": series.to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def plot_curves(table: pd.DataFrame, ylabel: str, path: str | Path) -> Path:
    """Draw :func:`curves` rows: a panel per dataset, mean line and min-max band per method."""
    datasets = list(dict.fromkeys(table["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4), squeeze=False)
    colours = {m: f"C{i}" for i, m in enumerate(dict.fromkeys(table["method"]))}
    for ax, dataset in zip(axes[0], datasets, strict=True):
        rows = table[table["dataset"] == dataset]
        for method, group in rows.groupby("method", sort=False):
            by_step = group.pivot_table(index="step", columns="run", values="value")
            n = by_step.shape[1]
            label = f"{method} ({n} run{'s' if n > 1 else ''})"
            ax.plot(by_step.index, by_step.mean(axis=1), color=colours[method], label=label)
            if n > 1:
                low, high = by_step.min(axis=1), by_step.max(axis=1)
                ax.fill_between(by_step.index, low, high, color=colours[method], alpha=0.2)
        ax.set(title=dataset, xlabel="gradient step", ylabel=ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def save_figure(fig, path: str | Path) -> Path:
    """Write ``fig`` as a PNG at ``path`` (folders made as needed) and close it."""
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plot", description=__doc__)
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders (any trainer)")
    parser.add_argument("--metric", choices=sorted(METRICS), default="auc", help="what to draw")
    parser.add_argument("--out", default="curves.png", help="the figure (PNG)")
    args = parser.parse_args(argv)
    tag, label = METRICS[args.metric]
    path = plot_curves(curves(args.runs, tag), label, args.out)
    append_command(path.parent)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    run_cli(main)
