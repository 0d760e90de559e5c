"""Paired comparisons over seeds: each method against a baseline, and the share of a gap it closes.

Runs of the same seed share the data split and the evaluation requests, so a method and the
baseline are compared seed by seed: a paired t-test (and a Wilcoxon signed-rank test, which
with 5 seeds cannot go below p = 0.0625 two-sided). A method "beats" the baseline only where
the paired t-test over at least ``MIN_PAIRS`` seeds gives p < ``ALPHA`` and the mean
difference is positive.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from benchmarks.harness.report import t_half_width

ALPHA = 0.05
"""significance level of the verdicts"""
MIN_PAIRS = 3
"""fewest seeds for a verdict: with 2, a t-test has one degree of freedom and two nearly equal
differences pass as significant however small"""


def paired_test(method: np.ndarray, baseline: np.ndarray) -> dict[str, float | str]:
    """Compare two score arrays paired by seed (same order).

    :return: ``{"diff", "p_ttest", "p_wilcoxon", "verdict"}``: mean difference, two-sided
        p-values (NaN with fewer than 2 pairs or no difference at all), and ``beats`` /
        ``loses`` / ``on par`` (``untested`` below ``MIN_PAIRS`` pairs).
    """
    method, baseline = np.asarray(method, dtype=float), np.asarray(baseline, dtype=float)
    if method.shape != baseline.shape:
        raise ValueError(f"paired arrays differ in shape: {method.shape} vs {baseline.shape}")
    diff = method - baseline
    p_t = p_w = float("nan")
    if len(diff) >= 2 and np.any(diff != 0):
        p_t = float(stats.ttest_rel(method, baseline).pvalue)
        p_w = float(stats.wilcoxon(method, baseline).pvalue)
    verdict = "untested" if len(diff) < MIN_PAIRS else "on par"
    if len(diff) >= MIN_PAIRS and p_t < ALPHA:
        verdict = "beats" if diff.mean() > 0 else "loses"
    return {"diff": float(diff.mean()), "p_ttest": p_t, "p_wilcoxon": p_w, "verdict": verdict}


def gap_closed(method: float, student: float, teacher: float) -> float:
    """``(method - student) / (teacher - student)``: 1 = as good as the teacher, 0 = no gain,
    negative = worse than the student alone; NaN if the teacher is not above the student."""
    gap = teacher - student
    return (method - student) / gap if gap > 0 else float("nan")


def compare(
    table: pd.DataFrame, metric: str, baseline: str = "student", ceiling: str = "teacher"
) -> pd.DataFrame:
    """Per dataset and method: mean +- std of ``metric`` and the half-width of its 95% t-interval
    over seeds (``ci95``), the paired test against ``baseline`` (rows matched by seed) and the
    share of the ``baseline`` -> ``ceiling`` gap closed.

    :param table: tidy rows with ``dataset, method, seed`` and ``metric``.
    """
    rows = []
    for dataset, runs in table.groupby("dataset", sort=False):
        scores = runs.pivot_table(index="seed", columns="method", values=metric)
        means = scores.mean()
        for method in runs["method"].unique():
            row = {
                "dataset": dataset,
                "method": method,
                "n_seeds": int(scores[method].notna().sum()),
                "mean": means[method],
                "std": scores[method].std(ddof=1),
                "ci95": t_half_width(scores[method].dropna()),
            }
            if method != baseline and baseline in scores:
                both = scores[[method, baseline]].dropna()
                row |= paired_test(both[method].to_numpy(), both[baseline].to_numpy())
                if ceiling in scores:
                    row["gap_closed"] = gap_closed(means[method], means[baseline], means[ceiling])
            rows.append(row)
    return pd.DataFrame(rows)


def against(
    table: pd.DataFrame, metric: str, methods: tuple[str, ...], baselines: tuple[str, ...]
) -> pd.DataFrame:
    """:func:`compare`'s paired test of each of ``methods`` against each of ``baselines`` (those
    in ``table``): ``dataset, method, baseline, n_seeds, diff, p_ttest, p_wilcoxon, verdict``."""
    columns = ["dataset", "method", "baseline", "n_seeds", "diff", "p_ttest", "p_wilcoxon"]
    columns.append("verdict")
    present = [b for b in baselines if b in set(table["method"])]
    parts = [compare(table, metric, baseline=b).assign(baseline=b) for b in present]
    if not parts:
        return pd.DataFrame(columns=columns)
    rows = pd.concat(parts, ignore_index=True)
    return rows.loc[rows["method"].isin(methods) & (rows["method"] != rows["baseline"]), columns]


def shares(table: pd.DataFrame, metric: str, baseline: str, ceiling: str) -> pd.DataFrame:
    """Per dataset and method: ``n_seeds, mean, std, ci95`` of ``metric`` over seeds and
    ``share``, the part of the ``baseline`` -> ``ceiling`` gap its mean closes
    (:func:`gap_closed`; the baseline's own is 0; NaN without both rows)."""
    with warnings.catch_warnings():  # its paired tests, unused here, of constant rows warn
        warnings.simplefilter("ignore", RuntimeWarning)
        stats = compare(table, metric, baseline, ceiling)
    share = stats.get("gap_closed", pd.Series(np.nan, index=stats.index))
    has_ceiling = stats.groupby("dataset")["method"].transform(lambda m: (m == ceiling).any())
    share = share.mask((stats["method"] == baseline) & has_ceiling, 0.0)
    columns = ["dataset", "method", "n_seeds", "mean", "std", "ci95"]
    return stats[columns].assign(share=share)
