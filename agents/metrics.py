"""Ranking metrics as pure numpy functions: AUC, GAUC, NDCG@K, AUC by slot, `evaluate_offline`,
`mean_normal_ci95`.

``auc`` and ``group_auc`` are :mod:`rec_env.simulator.metrics`'s (re-exported here); GAUC and
AUC by slot are built on ``group_auc``. Ties are never broken by input order: AUC and GAUC
use mid-ranks (a tied positive/negative pair counts 1/2), NDCG averages the discounts of the
ranks a tie group spans (the expected DCG under a random tie-break, as
``sklearn.metrics.ndcg_score(ignore_ties=False)``). An AUC over one class is NaN.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rec_env.data import LoggedLists
from rec_env.simulator.metrics import auc, group_auc


def gauc(labels: np.ndarray, scores: np.ndarray, users: np.ndarray) -> tuple[float, int]:
    """Per-user AUC averaged with weights = the user's impressions.

    :return: ``(gauc, n_users_skipped)``: users whose labels are all 0 or all 1 have no AUC
        and are left out of the average; ``gauc`` is NaN if every user is skipped.
    """
    per_user, impressions = group_auc(labels, scores, users)
    kept = ~np.isnan(per_user)
    skipped = int((~kept).sum())
    if not kept.any():
        return float("nan"), skipped
    return float(np.average(per_user[kept], weights=impressions[kept])), skipped


def auc_by_slot(clicks: np.ndarray, scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``[K]`` AUC of the shown rows of each slot (NaN where a slot has one class or no row).

    A leakage check for list-wise scorers: slot 0 has no in-list context, so a gain that
    appears only from slot 1 on comes from the earlier slots of the same list.

    :param clicks: ``[N, K]`` 0/1; :param scores: ``[N, K]``; :param mask: ``[N, K]`` bool.
    """
    mask = np.asarray(mask, dtype=bool)
    slots = np.broadcast_to(np.arange(mask.shape[1]), mask.shape)[mask]
    per_slot, _ = group_auc(np.asarray(clicks)[mask], np.asarray(scores)[mask], slots)
    out = np.full(mask.shape[1], np.nan)
    out[np.unique(slots)] = per_slot
    return out


def ndcg_at_k(gains: np.ndarray, scores: np.ndarray, mask: np.ndarray, k: int) -> float:
    """Mean NDCG@k of every list re-ranked by ``scores``; lists without gain are left out.

    :param gains: ``[N, L]`` non-negative relevance (a click).
    :param scores: ``[N, L]`` finite model scores, higher ranks first.
    :param mask: ``[N, L]`` bool, True for the items a list holds; others are ignored.
    :param k: cut-off; discount of rank r (0-based) is ``1 / log2(r + 2)`` for ``r < k``.
    :return: NaN if no list has a positive gain.
    """
    gains = np.where(mask, np.asarray(gains, dtype=np.float64), 0.0)
    scores = np.where(mask, np.asarray(scores, dtype=np.float64), -np.inf)
    n, length = gains.shape
    discount = np.where(np.arange(length) < k, 1.0 / np.log2(np.arange(length) + 2.0), 0.0)
    cumulative = np.r_[0.0, np.cumsum(discount)]

    order = np.argsort(-scores, axis=1, kind="stable")
    sorted_scores = np.take_along_axis(scores, order, axis=1)
    sorted_gains = np.take_along_axis(gains, order, axis=1)
    index = np.broadcast_to(np.arange(length), (n, length))
    new_tie = np.ones((n, length), dtype=bool)
    new_tie[:, 1:] = sorted_scores[:, 1:] != sorted_scores[:, :-1]
    end_tie = np.ones((n, length), dtype=bool)
    end_tie[:, :-1] = new_tie[:, 1:]
    start = np.maximum.accumulate(np.where(new_tie, index, 0), axis=1)
    end = np.minimum.accumulate(np.where(end_tie, index, length - 1)[:, ::-1], axis=1)[:, ::-1]
    tie_discount = (cumulative[end + 1] - cumulative[start]) / (end - start + 1)

    dcg = np.sum(sorted_gains * tie_discount, axis=1)
    ideal = np.sum(-np.sort(-gains, axis=1) * discount, axis=1)
    has_gain = ideal > 0
    if not has_gain.any():
        return float("nan")
    return float(np.mean(dcg[has_gain] / ideal[has_gain]))


LoggedScorer = Callable[[LoggedLists], np.ndarray]
"""Maps logged lists to a score for every slot, ``[N, K]`` (e.g. Q(s_t, a_t) of the logged item)."""


def mean_normal_ci95(values: np.ndarray) -> tuple[float, float]:
    """Mean of ``[n]`` samples and the half-width of its normal-approximation 95% confidence
    interval, for many samples (e.g. the 1,000 test requests of one online evaluation, where
    Student's t quantile is 1.962).

    The half-width is ``1.96 * std / sqrt(n)`` (sample std, ddof 1); NaN for n < 2. Over a
    few seeds it is too narrow: the benchmarks' interval over seeds is Student's t
    (``benchmarks.harness.report.t_half_width``).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"expected a non-empty 1-d array, got shape {values.shape}")
    if len(values) < 2:
        return float(values.mean()), float("nan")
    return float(values.mean()), float(1.96 * values.std(ddof=1) / np.sqrt(len(values)))


def evaluate_offline(scorer: LoggedScorer, lists: LoggedLists, k: int = 10) -> dict[str, float]:
    """AUC, GAUC and NDCG@k of a scorer on held-out logged lists (shown slots only).

    The scorer sees the logged prefix: slot t's score may depend on the items and clicks of
    slots < t, never on slot t's own click (that is the model's job to respect).

    :return: ``{"auc", "gauc", f"ndcg_at_{k}", "n_users_skipped"}``; GAUC skips users whose
        held-out clicks are all 0 or all 1, NDCG skips lists without a click.
    """
    scores = np.asarray(scorer(lists), dtype=np.float64)
    if scores.shape != lists.items.shape:
        raise ValueError(f"scorer returned shape {scores.shape}, expected {lists.items.shape}")
    shown = lists.mask
    labels = lists.clicks[shown]
    users = np.broadcast_to(lists.user_ids[:, None], shown.shape)[shown]
    group, skipped = gauc(labels, scores[shown], users)
    return {
        "auc": auc(labels, scores[shown]),
        "gauc": group,
        f"ndcg_at_{k}": ndcg_at_k(lists.clicks, scores, shown, k),
        "n_users_skipped": skipped,
    }
