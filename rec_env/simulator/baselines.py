"""Reference click models of the fit report: what a click model scores without user taste.

Each is fitted on a training split's shown slots by counting (no learning, no randomness)
and is a :class:`~rec_env.simulator.UserModel`, so it is scored like any fitted model:

* :class:`ConstantModel`: every slot gets the training click rate (AUC 0.5);
* :class:`PositionModel`: each slot's training click rate (position bias only);
* :class:`PositionItemModel`: the slot's click rate times the item's smoothed clicks over
  expected clicks (COEC), i.e. position bias times item attractiveness, no user at all.

A fitted model that scores no better than :class:`PositionItemModel` has learned nothing
about the users' tastes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rec_env.data.lists import LoggedLists

PRIOR_IMPRESSIONS = 10.0
"""Default smoothing of :class:`PositionItemModel`: pseudo-impressions per item."""


def _shown_click_rate(train: LoggedLists) -> float:
    """The click rate of the shown slots of ``train``; raises if nothing was shown."""
    if not train.mask.any():
        raise ValueError("the training lists have no shown slot: no click rate to fit")
    return float(train.clicks[train.mask].mean())


def _per_candidate(values: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """``values [B]`` broadcast to the shape of ``candidates`` (``[B]`` or ``[B, M]``), float32."""
    candidates = np.asarray(candidates)
    values = np.asarray(values).reshape(-1, *([1] * (candidates.ndim - 1)))
    return np.broadcast_to(values, candidates.shape).astype(np.float32)


@dataclass(frozen=True, eq=False)
class ConstantModel:
    """Every candidate at every slot gets one click probability.

    :param rate: the click probability, in ``[0, 1]``.
    :param slate_size: K, the slots per list.
    """

    rate: float
    slate_size: int

    @classmethod
    def fit(cls, train: LoggedLists) -> ConstantModel:
        """The click rate of ``train``'s shown slots."""
        return cls(_shown_click_rate(train), train.slate_size)

    def click_proba(self, users, slate_items, slate_clicks, candidates, position) -> np.ndarray:
        """See :meth:`UserModel.click_proba`: ``rate`` in the shape of ``candidates``."""
        return np.full(np.shape(candidates), self.rate, dtype=np.float32)


@dataclass(frozen=True, eq=False)
class PositionModel:
    """The click probability depends on the slot only.

    :param rates: ``[K]`` click probability of each slot.
    """

    rates: np.ndarray

    @property
    def slate_size(self) -> int:
        return len(self.rates)

    @classmethod
    def fit(cls, train: LoggedLists) -> PositionModel:
        """Each slot's click rate on ``train``; a slot never shown gets the overall rate."""
        return cls(_position_rates(train))

    def click_proba(self, users, slate_items, slate_clicks, candidates, position) -> np.ndarray:
        """See :meth:`UserModel.click_proba`: ``rates[position]`` in the shape of ``candidates``."""
        return _per_candidate(self.rates[np.asarray(position)], candidates)


def _position_rates(train: LoggedLists) -> np.ndarray:
    """``[K]`` float64 click rate of each slot of ``train`` (the overall rate where never shown)."""
    overall = _shown_click_rate(train)
    shown = train.mask.sum(axis=0)
    clicks = np.where(train.mask, train.clicks, 0).sum(axis=0)
    return np.where(shown > 0, clicks / np.maximum(shown, 1), overall)


@dataclass(frozen=True, eq=False)
class PositionItemModel:
    """Position bias times item attractiveness: ``p = min(1, rates[position] * factors[item])``.

    :param rates: ``[K]`` click rate of each slot (as :class:`PositionModel`).
    :param factors: ``[n_items]`` each item's clicks over expected clicks (1 = average).
    """

    rates: np.ndarray
    factors: np.ndarray

    @property
    def slate_size(self) -> int:
        return len(self.rates)

    @classmethod
    def fit(
        cls, train: LoggedLists, prior_impressions: float = PRIOR_IMPRESSIONS
    ) -> PositionItemModel:
        """Slot rates and smoothed COEC factors from ``train``'s shown slots.

        ``factor_i = (clicks_i + m r) / (expected_i + m r)``: ``clicks_i`` the item's clicks,
        ``expected_i`` the sum of ``rates[slot]`` over its impressions (the clicks an average
        item would get in the same slots), ``r`` the overall click rate and ``m`` =
        ``prior_impressions``: m pseudo-impressions clicked as expected pull a rarely shown
        item towards 1. An item never shown gets 1 (its slot's rate).

        :param prior_impressions: ``m >= 0``; 0 is the raw COEC (an item shown only in
            unclicked slots gets 0).
        """
        if not prior_impressions >= 0:
            raise ValueError(f"prior_impressions must be >= 0, got {prior_impressions}")
        rates = _position_rates(train)
        n_items = len(train.item_features)
        items = train.items[train.mask]
        slots = np.nonzero(train.mask)[1]
        clicks = np.bincount(items, train.clicks[train.mask], minlength=n_items)
        expected = np.bincount(items, rates[slots], minlength=n_items)
        prior = prior_impressions * _shown_click_rate(train)
        with np.errstate(invalid="ignore", divide="ignore"):
            factors = (clicks + prior) / (expected + prior)
        return cls(rates, np.where(expected + prior > 0, factors, 1.0))

    def click_proba(self, users, slate_items, slate_clicks, candidates, position) -> np.ndarray:
        """See :meth:`UserModel.click_proba`."""
        rates = _per_candidate(self.rates[np.asarray(position)], candidates)
        return np.minimum(1.0, rates * self.factors[np.asarray(candidates)]).astype(np.float32)


BASELINES: dict[str, Callable[[LoggedLists], object]] = {
    "constant": ConstantModel.fit,
    "position": PositionModel.fit,
    "position_item": PositionItemModel.fit,
}
"""The fit report's reference models: name -> fit on the training lists."""
