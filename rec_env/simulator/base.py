"""The user-model interface every click model implements, batched over requests."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class UserModel(Protocol):
    """Click probabilities of users for candidate items, given the list built so far.

    Batched over B requests at once; no Python loop per request or per item.
    """

    slate_size: int
    """K, the slots per list the model was built for."""

    def click_proba(
        self,
        users: np.ndarray,
        slate_items: np.ndarray,
        slate_clicks: np.ndarray,
        candidates: np.ndarray,
        position: np.ndarray,
    ) -> np.ndarray:
        """Probability that each candidate is clicked if placed at ``position``.

        :param users: ``[B]`` int user ids.
        :param slate_items: ``[B, K]`` int item ids already placed; only slots ``< position``
            are read (others may hold anything, e.g. ``PAD_ITEM``).
        :param slate_clicks: ``[B, K]`` clicks on those items; slots ``>= position`` ignored.
        :param candidates: ``[B]`` or ``[B, M]`` int item ids to score.
        :param position: ``[B]`` int slot index in ``[0, K)``.
        :return: float32 probabilities with the shape of ``candidates``.
        """
        ...


def placed_mask(position: np.ndarray, slate_size: int) -> np.ndarray:
    """``[B, K]`` bool: True for the slots before each request's ``position``."""
    return np.arange(slate_size)[None, :] < np.asarray(position)[:, None]
