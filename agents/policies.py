"""Acting in a ``ListwiseFeed`` vector env: the `Policy` protocol and masked action choice.

Every agent that acts online has ``act(observation) -> actions``: it reads the batched
observation dict of a ``ListwiseFeed-v0`` vector env (``[N, ...]`` per key) and returns
``[N]`` candidate indices, each one valid under ``observation["action_mask"]``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from rec_env.data import PAD_ITEM
from rec_env.simulator import UserModel

Observation = dict[str, np.ndarray]


class Policy(Protocol):
    def act(self, observation: Observation) -> np.ndarray:
        """``[N]`` int64 valid candidate indices for the ``N`` requests of ``observation``."""
        ...


def valid_mask(observation: Observation) -> np.ndarray:
    """``[N, C]`` bool, True where a candidate may still be placed."""
    return np.asarray(observation["action_mask"]).astype(bool, copy=False)


def observation_rows(observation: Observation, rows: np.ndarray, n_envs: int) -> Observation:
    """The ``[len(rows), ...]`` observation of the sub-envs at ``rows`` (itself if all ``n_envs``)."""
    if len(rows) == n_envs:
        return observation
    return {key: value[rows] for key, value in observation.items()}


def masked_argmax(scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``[N]`` index of the highest score among the valid entries of each row (first on ties).

    :param scores: ``[N, C]`` float; :param valid: ``[N, C]`` bool, at least one True per row.
    """
    if not valid.any(axis=1).all():
        raise ValueError("every row needs at least one valid candidate")
    return np.where(valid, scores, -np.inf).argmax(axis=1)


def random_valid_actions(valid: np.ndarray, generator: torch.Generator) -> np.ndarray:
    """``[N]`` uniformly random valid candidate indices, drawn from a torch generator."""
    noise = torch.rand(valid.shape, generator=generator, dtype=torch.float64).numpy()
    return masked_argmax(noise, valid)


def epsilon_greedy(
    greedy: np.ndarray, valid: np.ndarray, epsilon: float, generator: torch.Generator
) -> np.ndarray:
    """Replace each greedy action, with probability ``epsilon``, by a random valid one.

    Draws the same number of uniforms whatever ``epsilon`` is, so the stream is reproducible.

    :param greedy: ``[N]`` actions; :param valid: ``[N, C]`` bool action masks.
    """
    explore = torch.rand(len(greedy), generator=generator).numpy() < epsilon
    return np.where(explore, random_valid_actions(valid, generator), greedy)


def padded_slate(observation: Observation, width: int) -> tuple[np.ndarray, np.ndarray]:
    """``slate_items`` and ``slate_clicks`` padded on the right to ``width`` slots."""
    items, clicks = observation["slate_items"], observation["slate_clicks"]
    extra = width - items.shape[1]
    if extra < 0:
        raise ValueError(f"the observation has {items.shape[1]} slots, more than {width}")
    if extra:
        items = np.pad(items, ((0, 0), (0, extra)), constant_values=PAD_ITEM)
        clicks = np.pad(clicks, ((0, 0), (0, extra)))
    return items, clicks


class OracleAgent:
    """Places, slot by slot, the candidate a user model gives the highest click probability.

    With a synthetic world's :class:`~rec_env.simulator.GroundTruthModel` this is the greedy
    oracle: the best myopic policy, an upper reference for clicks per list.

    :param user_model: the model behind the environment (or any :class:`UserModel`).
    """

    def __init__(self, user_model: UserModel) -> None:
        self.user_model = user_model

    def act(self, observation: Observation) -> np.ndarray:
        items, clicks = padded_slate(observation, self.user_model.slate_size)
        proba = self.user_model.click_proba(
            observation["user"], items, clicks, observation["candidates"], observation["position"]
        )  # [N, C]
        return masked_argmax(np.asarray(proba), valid_mask(observation))
