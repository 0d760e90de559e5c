"""`Catalogue`: the item and user tables of a log, and how often each item was shown in training."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from rec_env.arrays import standardise
from rec_env.data.lists import LoggedLists


def item_counts(
    lists: LoggedLists, by: Literal["impressions", "clicks"] = "impressions"
) -> np.ndarray:
    """``[n_items]`` int64: how often each item was shown (or clicked) in ``lists``' shown slots."""
    if by not in ("impressions", "clicks"):
        raise ValueError(f"by must be 'impressions' or 'clicks', got {by!r}")
    shown = lists.mask
    n_items = len(lists.item_features)
    if by == "impressions":
        return np.bincount(lists.items[shown], minlength=n_items)
    return np.bincount(lists.items[shown & (lists.clicks > 0)], minlength=n_items)


@dataclass(frozen=True)
class Catalogue:
    """Dense feature tables indexed by id, and how often each item was shown in training logs.

    :param item_features: ``[n_items, F_i]`` float32, row = item index.
    :param user_features: ``[n_users, F_u]`` float32, row = user index.
    :param impressions: ``[n_items]`` int64, times each item was shown in the training split.
    """

    item_features: np.ndarray
    user_features: np.ndarray
    impressions: np.ndarray

    @classmethod
    def from_train(cls, train: LoggedLists) -> Catalogue:
        """Feature tables of ``train`` (shared by every split), each column standardised
        (mean 0, std 1 over the ids: :func:`rec_env.arrays.standardise`); impressions counted
        on ``train``. These are the tables an environment observes."""
        tables = (standardise(t) for t in (train.item_features, train.user_features))
        return cls(*tables, item_counts(train))

    @property
    def n_items(self) -> int:
        return len(self.item_features)

    @property
    def n_users(self) -> int:
        return len(self.user_features)

    def most_shown(self) -> np.ndarray:
        """``[n_items]`` item ids, most impressions first; ties (and never shown items) by id."""
        return np.argsort(-self.impressions, kind="stable")
