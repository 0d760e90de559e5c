"""`RequestSampler`: which logged request (hence user) an episode serves."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rec_env.data import LoggedLists


@dataclass(frozen=True)
class RequestSampler:
    """Draws requests uniformly from one split of the logged lists (users weighted by activity).

    :param lists: all logged lists of the dataset.
    :param rows: ``[R]`` the split's row indices into ``lists``
        (:meth:`rec_env.Scenario.request_rows`).
    """

    lists: LoggedLists
    rows: np.ndarray

    def draw(self, uniforms: np.ndarray) -> np.ndarray:
        """``[B]`` rows into ``lists``, one per uniform in ``uniforms [B]``."""
        index = (uniforms * len(self.rows)).astype(np.int64)
        return self.rows[np.minimum(index, len(self.rows) - 1)]
