"""Click-prediction metrics as pure numpy functions: AUC (overall and per group), log-loss,
calibration (ECE).

All take ``labels`` (0/1) and predictions of the same shape; arrays of any shape are
flattened. No sklearn: the AUC is the rank-sum (Mann-Whitney) form with tied scores
given their average rank (mid-ranks), so a tie between a click and a non-click counts one
half. The AUC of labels with one class is undefined: NaN, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOG_LOSS_EPS = 1e-7
"""Probabilities are clipped to ``[eps, 1 - eps]`` before the log in :func:`log_loss`."""


def _flat_pair(labels: np.ndarray, predictions: np.ndarray, name: str) -> tuple[np.ndarray, ...]:
    """Flatten and validate a ``(labels, predictions)`` pair (possibly empty); float64 copies."""
    labels = np.asarray(labels, dtype=np.float64).ravel()
    predictions = np.asarray(predictions, dtype=np.float64).ravel()
    if labels.shape != predictions.shape:
        raise ValueError(f"labels ({labels.size}) and {name} ({predictions.size}) differ in size")
    if not np.isin(labels, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    if not np.isfinite(predictions).all():
        raise ValueError(f"{name} must be finite")
    return labels, predictions


def _check(labels: np.ndarray, predictions: np.ndarray, name: str) -> tuple[np.ndarray, ...]:
    """:func:`_flat_pair`, and the labels must not be empty."""
    labels, predictions = _flat_pair(labels, predictions, name)
    if labels.size == 0:
        raise ValueError("labels are empty")
    return labels, predictions


def _check_proba(labels: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, ...]:
    labels, proba = _check(labels, proba, "proba")
    if proba.min() < 0.0 or proba.max() > 1.0:
        raise ValueError("proba must lie in [0, 1]")
    return labels, proba


def _group_midranks(scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``[n]`` 1-based rank of each of ``scores [n]`` within its group (``groups [n]`` ids),
    ascending, tied scores given their mean rank."""
    order = np.lexsort((scores, groups))
    g, s = groups[order], scores[order]
    index = np.arange(len(s))
    new_group = np.r_[True, g[1:] != g[:-1]]
    new_tie = new_group | np.r_[True, s[1:] != s[:-1]]
    group_start = np.maximum.accumulate(np.where(new_group, index, 0))
    tie_start = np.maximum.accumulate(np.where(new_tie, index, 0))
    tie_id = np.cumsum(new_tie) - 1
    tie_size = np.bincount(tie_id)[tie_id]
    ranks = np.empty(len(s), dtype=np.float64)
    ranks[order] = tie_start - group_start + (tie_size + 1) / 2.0
    return ranks


def group_auc(
    labels: np.ndarray, scores: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """AUC of every group: P(score of a random click > score of a random non-click) within it.

    :param labels: ``[n]`` 0/1; :param scores: ``[n]`` finite; :param groups: ``[n]`` ids.
    :return: ``(auc [G], size [G])`` over the sorted unique groups (G = 0 if n = 0); ``auc``
        is NaN for a group whose labels are all 0 or all 1.
    :raises ValueError: on mismatched sizes, labels other than 0/1, or non-finite scores.
    """
    labels, scores = _flat_pair(labels, scores, "scores")
    groups = np.asarray(groups).ravel()
    if groups.shape != labels.shape:
        raise ValueError(f"labels ({labels.size}) and groups ({groups.size}) differ in size")
    _, group = np.unique(groups, return_inverse=True)
    ranks = _group_midranks(scores, group)
    size = np.bincount(group).astype(np.float64)
    positives = np.bincount(group, weights=labels, minlength=len(size))
    negatives = size - positives
    rank_sum = np.bincount(group, weights=ranks * labels, minlength=len(size))
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)
    auc[(positives == 0) | (negatives == 0)] = np.nan
    return auc, size


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a random click > score of a random non-click).

    :param labels: 0/1, any shape.
    :param scores: any finite real scores (probabilities, logits, Q-values), same size.
    :return: the AUC, NaN if only one class is present (the AUC is undefined).
    :raises ValueError: on empty or mismatched inputs, labels other than 0/1, or non-finite
        scores.
    """
    labels = np.asarray(labels).ravel()
    if labels.size == 0:
        raise ValueError("labels are empty")
    return float(group_auc(labels, scores, np.zeros(labels.size, dtype=np.int64))[0][0])


def log_loss(labels: np.ndarray, proba: np.ndarray) -> float:
    """Mean binary cross-entropy in nats, with ``proba`` clipped to ``[1e-7, 1 - 1e-7]``."""
    labels, proba = _check_proba(labels, proba)
    proba = np.clip(proba, LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS)
    return float(-np.mean(labels * np.log(proba) + (1.0 - labels) * np.log1p(-proba)))


@dataclass(frozen=True)
class ReliabilityCurve:
    """Calibration by equal-width probability bins on ``[0, 1]``.

    :param edges: ``[n_bins + 1]`` bin edges.
    :param mean_proba: ``[n_bins]`` mean predicted probability per bin (NaN if empty).
    :param click_rate: ``[n_bins]`` observed click rate per bin (NaN if empty).
    :param counts: ``[n_bins]`` number of predictions per bin.
    """

    edges: np.ndarray
    mean_proba: np.ndarray
    click_rate: np.ndarray
    counts: np.ndarray

    @property
    def ece(self) -> float:
        """Expected calibration error: ``sum_b n_b / n * |mean_proba_b - click_rate_b|``."""
        filled = self.counts > 0
        gaps = np.abs(self.mean_proba[filled] - self.click_rate[filled])
        return float(gaps @ self.counts[filled] / self.counts.sum())


def reliability_curve(labels: np.ndarray, proba: np.ndarray, n_bins: int = 10) -> ReliabilityCurve:
    """Bin predictions into ``n_bins`` equal-width bins (1.0 falls in the last one)."""
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    labels, proba = _check_proba(labels, proba)
    bins = np.minimum((proba * n_bins).astype(np.int64), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_proba = np.bincount(bins, proba, n_bins) / counts
        click_rate = np.bincount(bins, labels, n_bins) / counts
    return ReliabilityCurve(np.linspace(0.0, 1.0, n_bins + 1), mean_proba, click_rate, counts)


def expected_calibration_error(labels: np.ndarray, proba: np.ndarray, n_bins: int = 10) -> float:
    """ECE over ``n_bins`` equal-width bins; see :class:`ReliabilityCurve`."""
    return reliability_curve(labels, proba, n_bins).ece
