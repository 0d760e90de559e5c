"""Click-prediction metrics as pure numpy functions: AUC, log-loss, calibration (ECE).

All take ``labels`` (0/1) and predictions of the same shape; arrays of any shape are
flattened. No sklearn: the AUC is the rank-sum (Mann-Whitney) form with tied scores
given their average rank, so a tie between a click and a non-click counts one half.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOG_LOSS_EPS = 1e-7
"""Probabilities are clipped to ``[eps, 1 - eps]`` before the log in :func:`log_loss`."""


def _check(labels: np.ndarray, predictions: np.ndarray, name: str) -> tuple[np.ndarray, ...]:
    """Flatten and validate a ``(labels, predictions)`` pair; returns float64 copies."""
    labels = np.asarray(labels, dtype=np.float64).ravel()
    predictions = np.asarray(predictions, dtype=np.float64).ravel()
    if labels.shape != predictions.shape:
        raise ValueError(f"labels ({labels.size}) and {name} ({predictions.size}) differ in size")
    if labels.size == 0:
        raise ValueError("labels are empty")
    if not np.isin(labels, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    if not np.isfinite(predictions).all():
        raise ValueError(f"{name} must be finite")
    return labels, predictions


def _check_proba(labels: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, ...]:
    labels, proba = _check(labels, proba, "proba")
    if proba.min() < 0.0 or proba.max() > 1.0:
        raise ValueError("proba must lie in [0, 1]")
    return labels, proba


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a random click > score of a random non-click).

    :param labels: 0/1, any shape.
    :param scores: any real scores (probabilities, logits, Q-values), same size.
    :raises ValueError: if only one class is present (the AUC is undefined).
    """
    labels, scores = _check(labels, scores, "scores")
    n_pos = labels.sum()
    n_neg = labels.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC needs both clicks and non-clicks in labels")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    mean_rank = ends - (counts - 1) / 2.0  # 1-based average rank of each distinct score
    rank_sum = mean_rank[inverse] @ labels
    return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


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
