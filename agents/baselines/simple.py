"""Non-learned baselines with the ranker interface of :class:`~agents.serving.QAgent`.

Each has ``score_logged(lists) -> [N, K]`` (also its ``__call__``, an
:data:`~agents.metrics.LoggedScorer`), ``recommend(user_id, candidates, k)`` and
``act(observation)`` (a :class:`~agents.policies.Policy` in the environment).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from agents.policies import Observation, masked_argmax, valid_mask
from agents.requests import IdSpace, recommend_request
from rec_env.data import LoggedLists


class PopularityAgent:
    """Ranks items by a popularity count from the training lists (same for every user).

    :param counts: ``[n_items]`` popularity, e.g. :func:`agents.data.logged.item_popularity`.
    """

    def __init__(self, counts: np.ndarray) -> None:
        self.counts = np.asarray(counts, dtype=np.float64)

    def score_logged(self, lists: LoggedLists) -> np.ndarray:
        """``[N, K]`` the popularity of each logged item (0 in padded slots)."""
        return np.where(lists.mask, self.counts[np.where(lists.mask, lists.items, 0)], 0.0)

    __call__ = score_logged

    def recommend(self, user_id: int, candidates: Sequence[int], k: int) -> list[int]:
        """The k most popular candidates, ties in candidate order (checked as
        :func:`agents.requests.recommend_request`; any int user id)."""
        ids = IdSpace(n_items=self.counts.shape[0])
        candidates = recommend_request(user_id, candidates, k, ids)[1][0]
        order = np.argsort(-self.counts[candidates], kind="stable")
        return candidates[order[:k]].tolist()

    def act(self, observation: Observation) -> np.ndarray:
        """``[N]`` the most popular valid candidate of each request."""
        return masked_argmax(self.counts[observation["candidates"]], valid_mask(observation))


class RandomAgent:
    """Uniform random scores and lists.

    :param seed: seed of its own numpy generator.
    """

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def score_logged(self, lists: LoggedLists) -> np.ndarray:
        return self.rng.random(lists.items.shape)

    __call__ = score_logged

    def recommend(self, user_id: int, candidates: Sequence[int], k: int) -> list[int]:
        """k distinct candidates in random order (checked as
        :func:`agents.requests.recommend_request`; any int ids)."""
        candidates = recommend_request(user_id, candidates, k, IdSpace())[1][0]
        return self.rng.permutation(candidates)[:k].tolist()

    def act(self, observation: Observation) -> np.ndarray:
        """``[N]`` a uniformly random valid candidate of each request."""
        valid = valid_mask(observation)
        return masked_argmax(self.rng.random(valid.shape), valid)
