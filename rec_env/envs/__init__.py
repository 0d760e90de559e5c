"""The ``ListwiseFeed-v0`` environments: single, native vector, and wrappers for SB3
(``FlatFeatures`` for MaskablePPO, ``ValidChoices`` for any Discrete-action agent).

>>> import gymnasium as gym
>>> import rec_env
>>> env = gym.make("ListwiseFeed-v0")
>>> envs = gym.make_vec("ListwiseFeed-v0", num_envs=8, vectorization_mode="vector_entry_point")
"""

from rec_env.data import Catalogue
from rec_env.envs.config import FeedConfig
from rec_env.envs.feed_env import ListwiseFeedEnv
from rec_env.envs.recall import (
    RECALLS,
    LoggedPopularRecall,
    PopularRecall,
    RandomRecall,
    Recall,
    make_recall,
)
from rec_env.envs.users import RequestSampler
from rec_env.envs.valid_choices import ValidChoices, ValidChoicesVector
from rec_env.envs.vector_env import ListwiseFeedVectorEnv
from rec_env.envs.wrappers import FlatFeatures, flat_features

__all__ = [
    "RECALLS",
    "Catalogue",
    "FeedConfig",
    "FlatFeatures",
    "ListwiseFeedEnv",
    "ListwiseFeedVectorEnv",
    "LoggedPopularRecall",
    "PopularRecall",
    "RandomRecall",
    "Recall",
    "RequestSampler",
    "ValidChoices",
    "ValidChoicesVector",
    "flat_features",
    "make_recall",
]
