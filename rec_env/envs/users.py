"""`RequestSampler`: which logged request (hence user) an episode serves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from rec_env.data import LoggedLists, split_rows

UserSplit = Literal["train", "valid", "test", "all"]
USER_SPLITS = ("train", "valid", "test", "all")


@dataclass(frozen=True)
class RequestSampler:
    """Draws requests uniformly from one split of the logged lists (users weighted by activity).

    :param lists: all logged lists of the dataset.
    :param rows: ``[R]`` the split's row indices into ``lists``.
    """

    lists: LoggedLists
    rows: np.ndarray

    @classmethod
    def from_split(
        cls, lists: LoggedLists, user_split: UserSplit, split_seed: int
    ) -> RequestSampler:
        """The ``user_split`` requests of ``split_rows(lists, by="request", seed=split_seed)``,
        the split the fitted user model trains on."""
        if user_split not in USER_SPLITS:
            raise ValueError(f"user_split must be one of {USER_SPLITS}, got {user_split!r}")
        if user_split == "all":
            return cls(lists, np.arange(len(lists)))
        train, valid, test = split_rows(lists, by="request", seed=split_seed)
        rows = {"train": train, "valid": valid, "test": test}[user_split]
        if len(rows) == 0:
            raise ValueError(f"the {user_split!r} split of {len(lists)} requests is empty")
        return cls(lists, rows)

    def draw(self, uniforms: np.ndarray) -> np.ndarray:
        """``[B]`` rows into ``lists``, one per uniform in ``uniforms [B]``."""
        index = (uniforms * len(self.rows)).astype(np.int64)
        return self.rows[np.minimum(index, len(self.rows) - 1)]
