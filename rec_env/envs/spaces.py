"""The observation space of one ListwiseFeed sub-environment."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from rec_env.data import PAD_ITEM, Catalogue
from rec_env.envs.config import FeedConfig


def observation_space(catalogue: Catalogue, config: FeedConfig) -> spaces.Dict:
    """Fixed-shape ``Dict`` of one request's state (see :class:`ListwiseFeedEnv`'s table)."""
    k, c, n_items = config.slate_size, config.num_candidates, catalogue.n_items
    return spaces.Dict(
        {
            "user": spaces.Discrete(catalogue.n_users),
            "user_features": feature_box(catalogue.user_features),
            "position": spaces.Discrete(k + 1),
            "slate_items": spaces.Box(PAD_ITEM, n_items - 1, (k,), dtype=np.int64),
            "slate_clicks": spaces.MultiBinary(k),
            "candidates": spaces.Box(0, n_items - 1, (c,), dtype=np.int64),
            "action_mask": spaces.MultiBinary(c),
        }
    )


def feature_box(table: np.ndarray) -> spaces.Box:
    """``Box`` of one row of a ``[n, F]`` float32 feature table, bounded by its column extremes."""
    return spaces.Box(table.min(axis=0), table.max(axis=0), dtype=np.float32)


def list_state_bounds(user: spaces.Box, item: spaces.Box, k: int) -> tuple[list, list]:
    """``(low, high)`` parts of a flat vector's list state: user features, the position
    one-hot over ``0..K`` and, per slot, the placed item's features (0 when empty) and click."""
    slot_low = np.append(np.minimum(item.low, 0.0), 0.0)
    slot_high = np.append(np.maximum(item.high, 0.0), 1.0)
    low = [user.low, np.zeros(k + 1), np.tile(slot_low, k)]
    high = [user.high, np.ones(k + 1), np.tile(slot_high, k)]
    return low, high


def placed_slot_features(observation: dict, item_table: np.ndarray) -> np.ndarray:
    """``[..., K * (F_i + 1)]`` each slot's placed item features (zeros when empty) and
    click, for one observation or a vector env's batch."""
    items = np.asarray(observation["slate_items"])
    placed = items >= 0
    slots = item_table[np.where(placed, items, 0)] * placed[..., None]  # [..., K, F_i]
    slots = np.concatenate([slots, observation["slate_clicks"][..., None]], axis=-1)
    return slots.reshape(*items.shape[:-1], -1)
