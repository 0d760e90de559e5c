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
