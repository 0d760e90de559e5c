"""What every benchmark report is made of: the markdown table, ``mean +- std``, the 95%
interval over seeds, training curves and the figure file.

The one interval of the benchmarks is Student's t over seeds (:func:`t_half_width`): with 3
to 5 seeds the normal quantile 1.96 would understate it (t = 4.30 with 3 seeds, 2.78 with 5).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from agents.training.config import load_config
from agents.training.logger import CSV_NAME
from rec_env.checks import InputError

CURVES = {
    "auc": ("eval/valid_auc", "validation AUC"),
    "clicks": ("eval/valid_expected_clicks_per_list", "validation expected clicks per list"),
}
"""a curve's name -> (scalar tag in ``scalars.csv``, axis label)"""


def markdown_table(table: pd.DataFrame, floatfmt: str = ".3g") -> str:
    """``table`` as a GitHub markdown table (no extra dependency)."""

    def cell(value) -> str:
        return format(value, floatfmt) if isinstance(value, float) else str(value)

    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *rows]) + "\n"


def formatted(values: pd.Series, spec: str) -> list[str]:
    """Each value in ``spec`` format, empty where missing."""
    return [format(v, spec) if pd.notna(v) else "" for v in values]


def mean_std(mean: float, std: float, digits: int) -> str:
    """``mean +- std`` to ``digits`` decimals; the mean alone where std is missing (one seed)."""
    return f"{mean:.{digits}f}" + (f" +- {std:.{digits}f}" if pd.notna(std) else "")


def spread(values: pd.Series, digits: int) -> str:
    """:func:`mean_std` of ``values`` (sample std) over seeds."""
    return mean_std(values.mean(), values.std(ddof=1), digits)


def t_half_width(values: np.ndarray, level: float = 0.95) -> float:
    """Half-width of the Student t confidence interval of the mean of ``[n]`` values
    (``t_{n-1} * std / sqrt(n)``, sample std); NaN below 2 values."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float("nan")
    quantile = stats.t.ppf(0.5 + level / 2, len(values) - 1)
    return float(quantile * values.std(ddof=1) / np.sqrt(len(values)))


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
        rows = {"dataset": config.dataset, "method": config.agent, "run": str(run_dir)}
        parts.append(pd.DataFrame({**rows, "step": series.index, "value": series.to_numpy()}))
    if not parts:
        return pd.DataFrame(columns=["dataset", "method", "run", "step", "value"])
    return pd.concat(parts, ignore_index=True)


def plot_curves(
    table: pd.DataFrame, ylabel: str, path: str | Path, levels: pd.DataFrame | None = None
) -> Path:
    """Draw :func:`curves` rows: a panel per dataset, mean line and min-max band per method;
    ``levels`` rows (``dataset, method, value``) as dashed horizontal lines (a score without a
    curve, e.g. a baseline's on the test requests)."""
    plt = pyplot()
    levels = pd.DataFrame(columns=["dataset", "method", "value"]) if levels is None else levels
    datasets = list(dict.fromkeys([*table["dataset"], *levels["dataset"]]))
    methods = dict.fromkeys([*table["method"], *levels["method"]])
    colours = {m: f"C{i}" for i, m in enumerate(methods)}
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4), squeeze=False)
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
        for level in levels[levels["dataset"] == dataset].itertuples():
            colour = colours[level.method]
            ax.axhline(level.value, linestyle="--", linewidth=1, color=colour, label=level.method)
        ax.set(title=dataset, xlabel="gradient step", ylabel=ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def pyplot():
    """``matplotlib.pyplot`` drawing to files (the Agg backend), imported when first drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | Path) -> Path:
    """Write ``fig`` as a PNG at ``path`` (folders made as needed) and close it."""
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    pyplot().close(fig)
    return path
