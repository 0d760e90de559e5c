"""Figures of the sweeps (:mod:`benchmarks.harness.sweep`): metric against the swept value, and paired
differences to a reference with their confidence intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.harness.report import pyplot, save_figure

PANELS = {
    "auc": "test AUC",
    "expected_clicks_per_list": "expected clicks per list (clicks)",
}
"""metric -> axis label of the figures' panels"""


def plot_lines(
    table: pd.DataFrame,
    x: str,
    xlabel: str,
    lines: tuple[str, ...],
    levels: tuple[str, ...],
    path: str | Path,
    metrics: tuple[str, ...] = tuple(PANELS),
    log_x: bool = False,
) -> Path:
    """A panel per metric: each ``lines`` method against column ``x`` (mean over seeds, band
    from the lowest to the highest seed), each ``levels`` variant as a horizontal line (mean)
    with its min-max band; a tick at every swept value (``log_x``: on a log axis, for values
    that crowd at one end).

    :param table: :func:`benchmarks.harness.sweep.train_all` rows, with column ``x`` on the lines'.
    """
    fig, axes = pyplot().subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4), squeeze=False)
    seeds = table["seed"].nunique()
    on_line = table[table["method"].isin(lines) & ~table["variant"].isin(levels)]
    for ax, metric in zip(axes[0], metrics, strict=True):
        if log_x:
            ax.set_xscale("log")
            ax.minorticks_off()
        for i, (method, rows) in enumerate(on_line.groupby("method", sort=False)):
            by_x = rows.groupby(x)[metric].agg(["mean", "min", "max"]).sort_index()
            ax.plot(by_x.index, by_x["mean"], "o-", color=f"C{i}", label=f"{method} (mean)")
            ax.fill_between(by_x.index, by_x["min"], by_x["max"], color=f"C{i}", alpha=0.2)
            ax.set_xticks(by_x.index, [f"{v:.3g}" for v in by_x.index])
        for j, level in enumerate(levels, start=len(lines)):
            values = table.loc[table["variant"] == level, metric]
            ax.axhline(values.mean(), color=f"C{j}", linestyle="--", label=f"{level} (mean)")
            ax.axhspan(values.min(), values.max(), color=f"C{j}", alpha=0.12)
        ax.set(xlabel=xlabel, ylabel=PANELS[metric])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    dataset = table["dataset"].iloc[0]
    fig.suptitle(f"{dataset}: mean over {seeds} seed(s); bands span the lowest to the highest seed")
    return save_figure(fig, path)


def plot_differences(compared: dict[str, pd.DataFrame], reference: str, path: str | Path) -> Path:
    """A panel per metric: each variant's mean paired difference to ``reference`` (dot) with
    its 95% confidence interval over seeds (bar), a line at no difference.

    :param compared: ``{metric: benchmarks.harness.sweep.comparison rows}``.
    """
    height = 1.5 + 0.35 * max(len(rows) for rows in compared.values())
    fig, axes = pyplot().subplots(
        1, len(compared), figsize=(5.5 * len(compared), height), squeeze=False, sharey=True
    )
    for ax, (metric, rows) in zip(axes[0], compared.items(), strict=True):
        y = np.arange(len(rows))[::-1]  # the first variant on top
        diff = rows["diff"].to_numpy()
        significant = rows["verdict"].isin(["beats", "loses"]).to_numpy()
        ax.errorbar(diff, y, xerr=rows["ci95"], fmt="none", ecolor="C0", capsize=3, label="95% CI")
        ax.scatter(
            diff[significant],
            y[significant],
            color="C3",
            zorder=3,
            label="beats / loses (p (t) < 0.05)",
        )
        ax.scatter(
            diff[~significant], y[~significant], color="C0", zorder=3, label="not significant"
        )
        ax.set_yticks(y, rows["variant"])
        ax.axvline(0.0, color="grey", linewidth=1)
        ax.set(xlabel=f"{PANELS[metric]} minus {reference}'s")
        ax.grid(alpha=0.3, axis="x")
    axes[0][-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))  # off the data
    n = int(max(rows["n_seeds"].max() for rows in compared.values()))
    dataset = next(iter(compared.values()))["dataset"].iloc[0]
    fig.suptitle(f"{dataset}: mean paired difference, 95% CI (t) over {n} seeds")
    return save_figure(fig, path)
