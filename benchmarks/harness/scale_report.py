"""The report of :mod:`benchmarks.scale`: growth ratios, the summary and the figure."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pandas as pd

from benchmarks.harness.report import markdown_table, pyplot, save_figure
from benchmarks.scale import SLATE_SIZE, STAGES, UNITS, Config


def growth(table: pd.DataFrame) -> pd.DataFrame:
    """Per stage: time, peak memory and throughput at the largest catalogue over the smallest."""
    ends = table.sort_values("n_items").groupby("stage", sort=False).agg(["first", "last"])
    ratio = {
        f"{column}_ratio": ends[(column, "last")] / ends[(column, "first")]
        for column in ("seconds_per_unit", "peak_rss_mib", "slots_per_s")
    }
    return pd.DataFrame(ratio).reindex(STAGES).reset_index()


def plot(table: pd.DataFrame, config: Config, path: Path) -> None:
    """Three panels against the catalogue size (log x): time per unit, peak memory, slots/s."""
    from matplotlib.ticker import NullFormatter

    plt = pyplot()
    panels = [
        ("seconds_per_unit", "seconds per unit (log)\nlog / epoch / vector step / batch"),
        ("peak_rss_mib", "peak resident memory (MiB)"),
        ("slots_per_s", "slots per second (log)"),
    ]
    sizes = sorted(table["n_items"].unique())
    figure, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for axis, (column, label) in zip(axes, panels, strict=True):
        for stage in STAGES:
            rows = table[table["stage"] == stage].sort_values("n_items")
            axis.plot(rows["n_items"], rows[column], marker="o", label=f"{stage} ({UNITS[stage]})")
        axis.set_xscale("log")
        axis.set_xticks(sizes, [f"{n:,}" for n in sizes])
        axis.xaxis.set_minor_formatter(NullFormatter())
        axis.set_yscale("linear" if column == "peak_rss_mib" else "log")
        axis.set_xlabel("catalogue size (items)")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
    axes[1].axhline(config.memory_limit_mib, color="grey", linestyle="--", label="memory limit")
    axes[1].set_ylim(bottom=0)
    axes[1].legend(fontsize=8, loc="center left")
    figure.suptitle(
        f"Scale: {config.slots:,} logged slots, {config.n_users:,} users; fit chunks of "
        f"{config.chunk_rows:,} rows; env N={config.num_envs}, C={config.num_candidates}; "
        f"explore B={config.batch_size}, M={config.pool_size}"
    )
    save_figure(figure, path)


def summarise(table: pd.DataFrame, config: Config, load: tuple[float, float]) -> str:
    worst = table.loc[table["peak_rss_mib"].idxmax()]
    within = "yes" if worst["peak_rss_mib"] < config.memory_limit_mib else "NO"
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return "\n".join(
        [
            f"# Scale: {min(config.n_items):,} to {max(config.n_items):,} items, fitted from a "
            "streamed log, stepped and explored",
            "",
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
            f"{memory_gib:.0f} GiB RAM, Python {platform.python_version()}; one torch thread. "
            f"Niceness {os.nice(0)}; load average (1 min) before / after: {load[0]:.2f} / "
            f"{load[1]:.2f} (a stage runs one process: a load well above 1 means other jobs "
            "shared the cores, and the times are then upper bounds).",
            "",
            f"Every world: {config.n_users:,} users, {config.slots:,} logged slots "
            f"({config.slots // SLATE_SIZE:,} lists of {SLATE_SIZE}), the same at every size; "
            "only the catalogue grows. Each row is one stage in a fresh process; "
            "`peak_rss_mib` is that process's peak resident memory (Python, torch and the "
            "imports included: `imports_rss_mib` is the peak before the stage's work).",
            "",
            markdown_table(table, ".4g"),
            f"Memory limit: every stage stays below {config.memory_limit_mib:,} MiB: {within} "
            f"(largest peak {worst['peak_rss_mib']:.0f} MiB, {worst['stage']} at "
            f"{worst['n_items']:,} items).",
            "",
            "Stages: `generate` writes the log a chunk of requests at a time to parquet "
            f"(row groups of at most {config.group_rows:,} rows cut at list boundaries; "
            "`log_mib` is the file). `fit` is `fit_log_model_streaming` holding at most "
            f"{config.chunk_rows:,} log rows at once, {config.fit_epochs} epoch(s), "
            f"{config.valid_fraction:.0%} of the row groups held out, lazy Adam on the id embeddings "
            "(`sparse_ids`: a step touches only its batch's rows of the tables; the weight "
            "average still updates every weight every step); one unit = one epoch "
            "(training + validation pass; the counting pass before it is not included); "
            "`slots_per_s` = training slots / epoch seconds; `valid_log_loss` = the "
            "held-out log-loss (nats) of the kept weights. `env` steps the native vector "
            f"env (N = {config.num_envs} sub-envs, C = {config.num_candidates} popular "
            f"candidates, the fitted click model, {config.env_requests:,} logged requests of "
            f"the same world, random valid actions, {config.env_seconds:g} s timed); one unit = "
            "one vector step (K placing steps + 1 autoreset step per episode). `explore` is "
            f"DRL-Rec's Explorer scoring M = {config.pool_size} items drawn by log impressions "
            f"at every slot of B = {config.batch_size} logged lists with the teacher and "
            f"student presets; one unit = one batch (median of {config.explore_batches}); "
            "`slots_per_s` = explored slots per second.",
            "",
            f"Growth from {min(config.n_items):,} to {max(config.n_items):,} items "
            "(largest / smallest):",
            "",
            markdown_table(growth(table), ".3g"),
        ]
    )
