"""`GroundTruthModel`: the synthetic world's true click model behind the `UserModel` interface."""

from __future__ import annotations

import numpy as np

from rec_env.data.synthetic import SyntheticWorld
from rec_env.simulator.base import placed_mask


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
        """See :meth:`rec_env.simulator.UserModel.click_proba`."""
        placed = placed_mask(position, slate_items.shape[1])
        factors = self.world.item_factors[np.where(placed, slate_items, 0)]  # [B, K, d]
        shown_sum = np.matmul(placed.astype(np.float32)[:, None, :], factors)[:, 0, :]
        n_clicks = (slate_clicks * placed).sum(axis=1)
        return self.world.click_proba(
            users, candidates, position, shown_sum, placed.sum(axis=1), n_clicks
        )
