"""`FlatFeatures`: the Dict observation as one float32 vector, for SB3's plain policies."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rec_env.envs.spaces import feature_box, list_state_bounds, placed_slot_features
from rec_env.envs.valid_choices import require_single_feed


class FlatFeatures(gym.ObservationWrapper):
    """Flatten a ``ListwiseFeedEnv`` observation into features (ids become their feature rows).

    Layout, with F_u user features, F_i item features, K slots and C candidates:

    | Part                                              | Size           |
    |---------------------------------------------------|----------------|
    | user features                                     | F_u            |
    | position, one-hot over 0..K                       | K + 1          |
    | per slot: placed item's features, then its click  | K * (F_i + 1)  |
    | candidates' features, in candidate order          | C * F_i        |
    | action mask (1 = valid)                           | C              |

    Empty slots are zeros. Bounds come from the feature tables, so the ``Box`` is finite.
    ``action_masks()`` is kept for sb3-contrib's ``MaskablePPO``. Plain SB3 algorithms (no
    masking) pick masked actions and rarely learn to avoid them: wrap the env in
    :class:`~rec_env.envs.ValidChoices` instead (every action valid, standardised features).

    :param env: a ``ListwiseFeedEnv`` (possibly wrapped, e.g. by ``gym.make``).
    :raises TypeError: ``env`` is a vector env (use :func:`flat_features` on its batches) or
        no ``ListwiseFeed-v0`` env.
    """

    def __init__(self, env: gym.Env):
        require_single_feed(env, "FlatFeatures")
        super().__init__(env)
        space = env.observation_space
        self.item_features = env.unwrapped.item_features
        k, c = space["slate_items"].shape[0], space["candidates"].shape[0]
        item = feature_box(self.item_features)
        low, high = list_state_bounds(space["user_features"], item, k)
        low += [np.tile(item.low, c), np.zeros(c)]
        high += [np.tile(item.high, c), np.ones(c)]
        self.observation_space = spaces.Box(
            np.concatenate(low, dtype=np.float32),
            np.concatenate(high, dtype=np.float32),
            dtype=np.float32,
        )

    def observation(self, observation: dict[str, Any]) -> np.ndarray:
        """``[D]`` float32 features of one observation (layout in the class docstring)."""
        return flat_features(observation, self.item_features)

    def action_masks(self) -> np.ndarray:
        """``[C]`` bool, True where the candidate can be placed."""
        return self.env.get_wrapper_attr("action_masks")()


def flat_features(observation: dict[str, Any], item_features: np.ndarray) -> np.ndarray:
    """:class:`FlatFeatures` of one observation (``[D]``) or of a vector env's batch (``[N, D]``).

    :param item_features: ``[n_items, F_i]`` the env's item feature table.
    """
    items = np.asarray(observation["slate_items"])
    batch = items.shape[:-1]
    position = np.asarray(observation["position"])[..., None]
    parts = (
        observation["user_features"],
        position == np.arange(items.shape[-1] + 1),  # one-hot over 0..K
        placed_slot_features(observation, item_features),
        item_features[observation["candidates"]].reshape(*batch, -1),
        observation["action_mask"],
    )
    return np.concatenate(parts, axis=-1, dtype=np.float32)
