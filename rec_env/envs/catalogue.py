"""`Catalogue`: the item and user tables an environment serves from, and item popularity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rec_env.data import LoggedLists


@dataclass(frozen=True)
class Catalogue:
    """Dense feature tables indexed by id, and how often each item was shown in training logs.

    :param item_features: ``[n_items, F_i]`` float32, row = item id.
    :param user_features: ``[n_users, F_u]`` float32, row = user id.
    :param impressions: ``[n_items]`` int64, times each item was shown in the training split.
    """

    item_features: np.ndarray
    user_features: np.ndarray
    impressions: np.ndarray

    @classmethod
    def from_lists(cls, lists: LoggedLists, train_rows: np.ndarray) -> Catalogue:
        """Feature tables of ``lists``; impressions counted on its rows ``train_rows`` only."""
        train = lists.subset(train_rows)
        n_items = len(lists.item_features)
        shown = train.items[train.mask]
        return cls(lists.item_features, lists.user_features, np.bincount(shown, minlength=n_items))

    @property
    def n_items(self) -> int:
        return len(self.item_features)

    @property
    def n_users(self) -> int:
        return len(self.user_features)

    def most_shown(self) -> np.ndarray:
        """``[n_items]`` item ids, most impressions first; ties (and never shown items) by id."""
        return np.argsort(-self.impressions, kind="stable")
