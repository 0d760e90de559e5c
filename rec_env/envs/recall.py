"""Recall: the C candidate items an episode's agent chooses from.

Every recall returns distinct item ids in ascending id order, so the candidate index
carries no hint of why an item was recalled (e.g. "it was in the logged list").
Randomness comes in as uniforms (a fixed count per episode, ``num_uniforms``), so one
batched call serves any number of sub-environments reproducibly.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

import numpy as np

from rec_env.data import Catalogue

RecallName = Literal["popular", "random", "logged+popular"]
RECALLS = ("popular", "random", "logged+popular")


@runtime_checkable
class Recall(Protocol):
    """Candidates for B requests at once."""

    num_candidates: int
    """C, candidates per request."""
    num_uniforms: int
    """uniforms one request consumes."""

    def __call__(self, logged: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        """``[B, C]`` int64 item ids, distinct and ascending per row.

        :param logged: ``[B, K_log]`` the requests' logged items, ``PAD_ITEM`` (-1) where none.
        :param uniforms: ``[B, num_uniforms]`` in ``[0, 1)``.
        """
        ...


class PopularRecall:
    """The C items shown most often in the training logs: the same set for every request.

    Deterministic (no draws); to draw items in proportion to their impressions, see
    ``agents.data.recall.PopularityRecall``.
    """

    num_uniforms = 0

    def __init__(self, catalogue: Catalogue, num_candidates: int):
        self.num_candidates = num_candidates
        self._items = np.sort(catalogue.most_shown()[:num_candidates])
        self._lists = np.broadcast_to(self._items, (1, num_candidates))  # read-only [B, C] view

    def __call__(self, logged: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        if len(self._lists) != len(logged):
            self._lists = np.broadcast_to(self._items, (len(logged), self.num_candidates))
        return self._lists


class RandomRecall:
    """C items drawn uniformly without replacement from the catalogue.

    Costs ``n_items`` uniforms per request (the C smallest of one random key per item).
    """

    def __init__(self, catalogue: Catalogue, num_candidates: int):
        self.num_candidates = num_candidates
        self.num_uniforms = catalogue.n_items

    def __call__(self, logged: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        chosen = np.argpartition(uniforms, self.num_candidates - 1, axis=1)
        return np.sort(chosen[:, : self.num_candidates], axis=1)


class LoggedPopularRecall:
    """The logged list's distinct items, then the most shown other items, C in all.

    Deterministic given the request; the logged items are always recallable, so the
    logging policy's actions are valid actions (as in DRL-Rec's candidate sets).
    """

    num_uniforms = 0

    def __init__(self, catalogue: Catalogue, num_candidates: int, logged_width: int):
        if num_candidates < logged_width:
            raise ValueError(
                f"recall='logged+popular' needs num_candidates >= the logged list length "
                f"({logged_width}), got {num_candidates}"
            )
        order = catalogue.most_shown()
        self.num_candidates = num_candidates
        self._pool = order[: num_candidates + logged_width]
        self._rank = np.empty_like(order)
        self._rank[order] = np.arange(len(order))

    def __call__(self, logged: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        b, pool = len(logged), len(self._pool)
        logged = np.sort(logged, axis=1)
        keep = logged >= 0
        keep[:, 1:] &= logged[:, 1:] != logged[:, :-1]  # drop repeats within a list
        rank = self._rank[np.where(keep, logged, 0)]
        in_pool = keep & (rank < pool)
        free = np.ones((b, pool), dtype=bool)
        free[np.nonzero(in_pool)[0], rank[in_pool]] = False
        need = self.num_candidates - keep.sum(axis=1)
        fill = free & (np.cumsum(free, axis=1) <= need[:, None])
        ids = np.concatenate([logged, np.broadcast_to(self._pool, (b, pool))], axis=1)
        chosen = ids[np.concatenate([keep, fill], axis=1)].reshape(b, self.num_candidates)
        return np.sort(chosen, axis=1)


def make_recall(
    recall: RecallName | Recall, catalogue: Catalogue, num_candidates: int, logged_width: int
) -> Recall:
    """The recall named ``recall`` (a :class:`Recall` instance is returned as is)."""
    if isinstance(recall, Recall):
        return recall
    if recall == "popular":
        return PopularRecall(catalogue, num_candidates)
    if recall == "random":
        return RandomRecall(catalogue, num_candidates)
    if recall == "logged+popular":
        return LoggedPopularRecall(catalogue, num_candidates, logged_width)
    raise ValueError(f"recall must be one of {RECALLS} or a Recall, got {recall!r}")
