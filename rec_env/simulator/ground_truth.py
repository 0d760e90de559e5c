"""`GroundTruthModel`: the synthetic world's true click model behind the `UserModel` interface."""

from __future__ import annotations

import numpy as np

from rec_env.arrays import take_rows
from rec_env.data.synthetic import SyntheticWorld
from rec_env.simulator.base import Rows, placed_mask


class GroundTruthModel:
    """Exact click probabilities of a :class:`~rec_env.data.SyntheticWorld`.

    :param world: the ground truth returned in ``generate_synthetic(...).extras["world"]``.
    """

    def __init__(self, world: SyntheticWorld):
        self.world = world
        self.slate_size = world.config.slate_size

    def click_proba(
        self,
        users: np.ndarray,
        slate_items: np.ndarray,
        slate_clicks: np.ndarray,
        candidates: np.ndarray,
        position: np.ndarray,
    ) -> np.ndarray:
        """See :meth:`rec_env.simulator.UserModel.click_proba`.

        The shown items' factors are summed slot by slot, left to right, the order in which
        :class:`GroundTruthContext` carries them, so both give the same floats.
        """
        placed = placed_mask(position, slate_items.shape[1])
        factors = take_rows(self.world.item_factors, np.where(placed, slate_items, 0))  # [B, K, d]
        shown_sum = np.cumsum(factors * placed[:, :, None], axis=1)[:, -1]  # [B, d]
        n_clicks = (slate_clicks * placed).sum(axis=1)
        return self.world.click_proba(
            users, candidates, position, shown_sum, placed.sum(axis=1), n_clicks
        )

    def context(self, n_lists: int) -> GroundTruthContext:
        """A :class:`~rec_env.simulator.ListContext` of ``n_lists`` lists."""
        return GroundTruthContext(self.world, n_lists)


class GroundTruthContext:
    """:class:`~rec_env.simulator.ListContext` of a :class:`GroundTruthModel`: per list, the
    user's taste term, the running sum of the shown items' factors and the clicks so far.

    A step costs O(d) per list instead of gathering and summing the K shown factors, and
    gives exactly :meth:`GroundTruthModel.click_proba`'s floats.

    :param world: the synthetic ground truth.
    :param n_lists: B, lists (rows) kept.
    """

    def __init__(self, world: SyntheticWorld, n_lists: int):
        self.world = world
        d = world.config.latent_dim
        self.taste_term = np.zeros((n_lists, d), dtype=np.float32)
        self.shown_sum = np.zeros((n_lists, d), dtype=np.float32)
        self.n_clicks = np.zeros(n_lists, dtype=np.int64)

    def start(self, rows: Rows, users: np.ndarray) -> None:
        """See :meth:`rec_env.simulator.ListContext.start`."""
        self.taste_term[rows] = self.world.taste_term(users)
        self.shown_sum[rows] = 0.0
        self.n_clicks[rows] = 0

    def click_proba(self, rows: Rows, items: np.ndarray, position: np.ndarray) -> np.ndarray:
        """See :meth:`rec_env.simulator.ListContext.click_proba`."""
        world = self.world
        direction = world.direction(self.taste_term[rows], self.shown_sum[rows], position)
        return world.proba_given(items, position, direction, world.base_logit(self.n_clicks[rows]))

    def place(
        self, rows: Rows, items: np.ndarray, position: np.ndarray, clicks: np.ndarray
    ) -> None:
        """See :meth:`rec_env.simulator.ListContext.place`."""
        self.shown_sum[rows] += take_rows(self.world.item_factors, items)
        self.n_clicks[rows] += clicks
