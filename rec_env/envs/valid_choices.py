"""`ValidChoices`: ``ListwiseFeed-v0`` for any ``Discrete``-action agent, with no action mask.

Action ``i`` places the ``i``-th candidate that is still valid, in the env's candidate order
(ascending item id), so every action is valid at every step and a plain agent (SB3's PPO or
DQN, CleanRL) never meets a masked one. At slot ``t`` of K, ``C - t`` candidates are valid;
``Discrete(C - K + 1)`` keeps every action valid up to the last slot, so the last
``K - 1 - t`` valid candidates (the highest ids) cannot be chosen at slot ``t``: with
``C >> K`` (100 vs 10 by default) that is a small part of the choice.

The observation is one float32 vector laid out so that block ``i`` of the choices describes
action ``i``. Features are standardised with fixed statistics of the catalogue's feature
tables (each column's mean and standard deviation over all items, or all users; constant
columns become 0), not running statistics, so the same state always gives the same vector.

| Part                                                      | Size                |
|-----------------------------------------------------------|---------------------|
| user features, standardised                               | F_u                 |
| position, one-hot over 0..K                               | K + 1               |
| per slot: placed item's standardised features, its click  | K * (F_i + 1)       |
| per action i: the i-th valid candidate's features         | (C - K + 1) * F_i   |

Empty slots, and actions past the last valid candidate (only in the final observation of
an episode), are zeros.

>>> import gymnasium as gym
>>> import rec_env
>>> from rec_env.envs import ValidChoices, ValidChoicesVector
>>> env = ValidChoices(gym.make("ListwiseFeed-v0", num_candidates=20))
>>> env.action_space
Discrete(11)
>>> envs = ValidChoicesVector(
...     gym.make_vec("ListwiseFeed-v0", num_envs=4, vectorization_mode="vector_entry_point")
... )
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import batch_space

from rec_env.arrays import standardise
from rec_env.envs.spaces import feature_box, list_state_bounds, placed_slot_features


@dataclass(frozen=True, eq=False)
class ChoiceLayout:
    """Standardised feature tables, the sizes, and the feature vector of a state.

    :param item_table: ``[n_items, F_i]`` float32, the catalogue's item features standardised.
    :param user_table: ``[n_users, F_u]`` float32, its user features standardised.
    :param slate_size: K.
    :param n_choices: ``C - K + 1``, the actions.
    """

    item_table: np.ndarray
    user_table: np.ndarray
    slate_size: int
    n_choices: int

    @classmethod
    def of(cls, feed: Any, observation_space: spaces.Dict) -> ChoiceLayout:
        """The layout of a feed env (``item_features`` / ``user_features`` attributes) whose
        one-request observation space is ``observation_space``."""
        k = observation_space["slate_items"].shape[0]
        c = observation_space["candidates"].shape[0]
        tables = (standardise(feed.item_features), standardise(feed.user_features))
        return cls(*tables, k, c - k + 1)

    def observation_space(self) -> spaces.Box:
        """The ``Box`` of one feature vector, bounded by the standardised tables."""
        item, user = feature_box(self.item_table), feature_box(self.user_table)
        low, high = list_state_bounds(user, item, self.slate_size)
        low.append(np.tile(np.minimum(item.low, 0.0), self.n_choices))
        high.append(np.tile(np.maximum(item.high, 0.0), self.n_choices))
        return spaces.Box(
            np.concatenate(low, dtype=np.float32),
            np.concatenate(high, dtype=np.float32),
            dtype=np.float32,
        )

    def choices(self, observation: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``[..., n]`` candidate index of each action (the first n valid candidates, in
        order), and ``[..., n]`` bool, False past the last valid candidate."""
        valid = np.asarray(observation["action_mask"]).astype(bool, copy=False)
        index = np.argsort(~valid, axis=-1, kind="stable")[..., : self.n_choices]
        return index, np.take_along_axis(valid, index, axis=-1)

    def features(
        self, observation: dict[str, np.ndarray], index: np.ndarray, exists: np.ndarray
    ) -> np.ndarray:
        """``[..., D]`` float32 features of one observation (or a vector env's batch), with
        ``index`` and ``exists`` from :meth:`choices`."""
        chosen = np.take_along_axis(np.asarray(observation["candidates"]), index, axis=-1)
        choices = self.item_table[chosen] * exists[..., None]  # [..., n, F_i]
        parts = (
            self.user_table[observation["user"]],
            np.asarray(observation["position"])[..., None] == np.arange(self.slate_size + 1),
            placed_slot_features(observation, self.item_table),
            choices.reshape(*chosen.shape[:-1], -1),
        )
        return np.concatenate(parts, axis=-1, dtype=np.float32)

    def encode(self, observation: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``[..., D]`` features of an observation (one, or a vector env's batch) and
        ``[..., n]`` the candidate index of each action (see :meth:`choices`)."""
        index, exists = self.choices(observation)
        return self.features(observation, index, exists), index


def chosen_candidates(index: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """``[N]`` candidate indices of ``actions [N]`` given each row's action -> candidate
    ``index [N, n]`` (from :meth:`ChoiceLayout.encode`)."""
    return np.take_along_axis(index, np.asarray(actions)[:, None], axis=1)[:, 0]


def require_single_feed(env: Any, wrapper: str) -> None:
    """Raise ``TypeError`` unless ``env`` is one (possibly wrapped) ``ListwiseFeed`` env."""
    if isinstance(env, gym.vector.VectorEnv):
        raise TypeError(
            f"{wrapper} wraps one env, got the vector env {env}: wrap a native vector env "
            "in ValidChoicesVector, or each sub-env with gym.make_vec(..., "
            f"vectorization_mode='sync', wrappers=[{wrapper}])"
        )
    if not isinstance(env, gym.Env) or not hasattr(env.unwrapped, "item_features"):
        raise TypeError(f"{wrapper} wraps a ListwiseFeed-v0 env (gym.make), got {env!r}")


class ValidChoices(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """One ``ListwiseFeed-v0`` env with action ``i`` = the ``i``-th still-valid candidate and
    standardised features (see the module docstring for the layout).

    Rewards, termination, truncation and info are the env's (``info["item_id"]`` is the item
    placed).

    :param env: a ``ListwiseFeedEnv``, possibly wrapped (e.g. by ``gym.make``).
    :raises TypeError: ``env`` is a vector env or no ``ListwiseFeed-v0`` env.
    """

    def __init__(self, env: gym.Env):
        require_single_feed(env, "ValidChoices")
        gym.utils.RecordConstructorArgs.__init__(self)  # gym.make_vec / check_env rebuild it
        gym.Wrapper.__init__(self, env)
        self.layout = ChoiceLayout.of(env.unwrapped, env.observation_space)
        self.action_space = spaces.Discrete(self.layout.n_choices)
        self.observation_space = self.layout.observation_space()
        self._index = np.zeros(self.layout.n_choices, dtype=np.int64)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        observation, info = self.env.reset(seed=seed, options=options)
        return self._features(observation), info

    def step(self, action: int):
        """Place the ``action``-th valid candidate.

        :raises ValueError: ``action`` is no integer in ``[0, C - K + 1)``.
        """
        try:
            action = operator.index(action)
        except TypeError:
            raise ValueError(f"action must be an integer index, got {action!r}") from None
        if not 0 <= action < self.layout.n_choices:
            raise ValueError(f"action {action} is outside Discrete({self.layout.n_choices})")
        observation, reward, terminated, truncated, info = self.env.step(int(self._index[action]))
        return self._features(observation), reward, terminated, truncated, info

    def _features(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        features, self._index = self.layout.encode(observation)
        return features


class ValidChoicesVector(gym.vector.VectorWrapper):
    """:class:`ValidChoices` for the native vector env: ``[N]`` actions, ``[N, D]`` features.

    Follows the env's next-step autoreset: the actions of sub-envs that reset are ignored.

    :param env: a ``ListwiseFeedVectorEnv`` (``gym.make_vec(...,
        vectorization_mode="vector_entry_point")``).
    :raises TypeError: ``env`` is no native ``ListwiseFeed-v0`` vector env (for
        ``vectorization_mode="sync"``, pass ``wrappers=[ValidChoices]`` to ``gym.make_vec``).
    """

    def __init__(self, env: gym.vector.VectorEnv):
        if not isinstance(env, gym.vector.VectorEnv) or not hasattr(env.unwrapped, "core"):
            raise TypeError(
                "ValidChoicesVector wraps the native vector env (gym.make_vec(..., "
                "vectorization_mode='vector_entry_point')); for a single env use ValidChoices, "
                f"for vectorization_mode='sync' pass wrappers=[ValidChoices]; got {env!r}"
            )
        super().__init__(env)
        self.layout = ChoiceLayout.of(env.unwrapped, env.single_observation_space)
        self.single_action_space = spaces.Discrete(self.layout.n_choices)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.single_observation_space = self.layout.observation_space()
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._index = np.zeros((self.num_envs, self.layout.n_choices), dtype=np.int64)

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        observation, info = self.env.reset(seed=seed, options=options)
        return self._features(observation), info

    def step(self, actions: np.ndarray):
        """Place each sub-env's ``actions[i]``-th valid candidate.

        :raises ValueError: ``actions`` is not ``[N]`` integers in ``[0, C - K + 1)``.
        """
        actions = np.asarray(actions)
        n = self.layout.n_choices
        if actions.shape != (self.num_envs,) or actions.dtype.kind not in "iu":
            raise ValueError(
                f"actions must be ({self.num_envs},) integers, got {actions.dtype} {actions.shape}"
            )
        if np.count_nonzero((actions < 0) | (actions >= n)):
            raise ValueError(f"actions must lie in Discrete({n}), got {actions}")
        candidates = chosen_candidates(self._index, actions)
        observation, reward, terminated, truncated, info = self.env.step(candidates)
        return self._features(observation), reward, terminated, truncated, info

    def reset_ended(self) -> tuple[np.ndarray, dict[str, Any]]:
        """``[N, D]`` features after resetting now the sub-envs that ended on the last step,
        and their reset infos (see ``ListwiseFeedVectorEnv.reset_ended``)."""
        observation, info = self.env.unwrapped.reset_ended()
        return self._features(observation), info

    def _features(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        features, self._index = self.layout.encode(observation)
        return features
