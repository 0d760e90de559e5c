"""The comparison sections of the main table's and the sweeps' ``summary.md``
(:mod:`benchmarks.main_table`, :mod:`benchmarks.harness.sweep`):
per metric, each method against the student alone and the teacher against the logistic MF,
paired by seed (:func:`~benchmarks.harness.paired.compare`); the datasets with too few test clicks
for an AUC get the expected clicks per list alone, with 95% confidence intervals."""

from __future__ import annotations

import pandas as pd

from benchmarks.harness.paired import compare
from benchmarks.harness.report import formatted, markdown_table, mean_std

COMPARED = ("auc", "auc_items_only", "expected_clicks_per_list")
"""metrics with a paired test against the student alone in the summary"""
ONLINE_COMPARED = ("expected_clicks_per_list",)
"""the metrics of the ``online_only`` datasets, shown with confidence intervals"""


def summary_tables(table: pd.DataFrame, online_only: tuple[str, ...] = ()) -> str:
    """Per metric: mean +- std, the paired test against the student alone and the gap closed;
    then the teacher against the logistic MF reference (if the table has it). The
    ``online_only`` datasets have sections of their own: the expected clicks per list with
    95% confidence intervals."""
    online = table["dataset"].isin(online_only)
    parts = comparisons(table[~online], COMPARED) if (~online).any() else []
    if online.any():
        names = ", ".join(table.loc[online, "dataset"].unique())
        parts += comparisons(table[online], ONLINE_COMPARED, f"{names}, 95% CIs: ", True)
    return "\n".join(parts)


def comparisons(
    table: pd.DataFrame, metrics: tuple[str, ...], prefix: str = "", intervals: bool = False
) -> list[str]:
    """The sections of ``metrics`` against the student alone, then the teacher against the
    logistic MF (if the table has it); ``intervals``: with confidence intervals."""
    parts = [section(prefix + m, m, scored(table, m), intervals=intervals) for m in metrics]
    if "mf" in set(table["method"]):
        for metric in metrics:
            compared = scored(table, metric, baseline="mf")
            teacher = compared[compared["method"].isin(["teacher", "mf"])]
            title = f"{prefix}{metric}: teacher vs logistic MF"
            parts.append(section(title, metric, teacher, "mf", intervals))
    return parts


def scored(table: pd.DataFrame, metric: str, baseline: str = "student") -> pd.DataFrame:
    """:func:`~benchmarks.harness.paired.compare`'s rows, with ``ci95_requests`` where the table has
    ``{metric}_ci95``: the mean over seeds of each run's 95% half-width over test requests."""
    compared = compare(table, metric, baseline=baseline)
    if f"{metric}_ci95" in table:
        half = table.groupby(["dataset", "method"])[f"{metric}_ci95"].mean()
        compared["ci95_requests"] = half.reindex(
            pd.MultiIndex.from_frame(compared[["dataset", "method"]])
        ).to_numpy()
    return compared


def section(
    title: str,
    metric: str,
    compared: pd.DataFrame,
    baseline: str = "student",
    intervals: bool = False,
) -> str:
    """One markdown section of :func:`scored`'s rows; ``intervals``: the mean with its 95%
    t-interval over seeds and the per-seed half-width over test requests, to 5 decimals."""
    columns = ["diff", "p_ttest", "p_wilcoxon", "verdict", "gap_closed", "ci95_requests"]
    compared = compared.reindex(columns=list(dict.fromkeys([*compared.columns, *columns])))
    digits = 5 if intervals else 4
    means = zip(compared["mean"], compared["std"], compared["ci95"], strict=True)
    shown = pd.DataFrame(
        {
            "dataset": compared["dataset"],
            "method": compared["method"],
            metric: [mean_text(m, s, c, digits, intervals) for m, s, c in means],
            f"vs {baseline}": formatted(compared["diff"], f"+.{digits}f"),
            "p (t)": formatted(compared["p_ttest"], ".3g"),
            "p (Wilcoxon)": formatted(compared["p_wilcoxon"], ".3g"),
            "verdict": compared["verdict"].astype(object).fillna(""),
            "gap closed": formatted(compared["gap_closed"], ".0%"),
            "n_seeds": compared["n_seeds"],
        }
    )
    if intervals:
        shown.insert(3, "+- requests", formatted(compared["ci95_requests"], f".{digits}f"))
    if baseline != "student":  # the gap is the teacher's over the student
        shown = shown.drop(columns="gap closed")
    return f"## {title}\n\n" + markdown_table(shown)


def mean_text(mean: float, std: float, ci95: float, digits: int, interval: bool) -> str:
    """``mean +- std``, or with ``interval`` ``mean [low, high]`` (95% t-interval), to
    ``digits`` decimals; the spread left out where it is missing (one seed)."""
    if interval and pd.notna(ci95):
        return f"{mean:.{digits}f} [{mean - ci95:.{digits}f}, {mean + ci95:.{digits}f}]"
    return mean_std(mean, std, digits)


def params_table(table: pd.DataFrame) -> str:
    """Parameters of each served network (methods without a network left out)."""
    params = table.groupby(["dataset", "method"], sort=False)["params"].first().dropna()
    params = params.astype(int).reset_index()
    teacher = params[params["method"] == "teacher"].set_index("dataset")["params"]
    params["share of teacher"] = [
        f"{p / teacher.get(d, float('nan')):.1%}"
        for d, p in zip(params["dataset"], params["params"], strict=True)
    ]
    return markdown_table(params)
