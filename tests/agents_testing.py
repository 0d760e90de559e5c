"""Shared tiny fixtures of the agents tests: a small synthetic world and a narrow network."""

from __future__ import annotations

import functools
from dataclasses import replace

import torch

from agents.batch import ListBatch
from agents.ddqn import DDQNConfig
from agents.qnetwork import QNetwork, QNetworkConfig
from agents.run import OnlineConfig, TrainConfig
from rec_env.data import LoggedLists, load_dataset

# Tiny models gain nothing from threads, and on a shared CPU extra threads cost 100x.
torch.set_num_threads(1)

TINY = QNetworkConfig(embed_dim=4, model_dim=8, head_dims=(8, 4), n_heads=2, dropout=0.1)
TINY_DATA = {"n_users": 100, "n_items": 150, "n_requests": 500, "progress": False}
TINY_ONLINE = OnlineConfig(
    num_envs=4,
    buffer_lists=50,
    learning_starts=8,
    exploration_steps=20,
    eval_lists=20,
    eval_envs=10,
    env_kwargs={"num_candidates": 20},
)


@functools.lru_cache(maxsize=1)
def tiny_lists() -> LoggedLists:
    """500 lists of 10 slots from 150 items and 100 users."""
    return LoggedLists.from_dataset(load_dataset("synthetic", **TINY_DATA))


def tiny_network(seed: int = 0, config: QNetworkConfig = TINY) -> QNetwork:
    lists = tiny_lists()
    torch.manual_seed(seed)
    return QNetwork(config, lists.item_features, lists.user_features)


def tiny_batch(rows: int = 8) -> ListBatch:
    return ListBatch.from_lists(tiny_lists()).index(slice(0, rows))


def tiny_config(tmp_path, **changes) -> TrainConfig:
    """A seconds-long run on the tiny world, written under ``tmp_path``."""
    config = TrainConfig(
        dataset="synthetic",
        dataset_kwargs=dict(TINY_DATA),
        steps=6,
        width=0.25,
        eval_every=3,
        checkpoint_every=2,
        log_every=1,
        out=str(tmp_path),
        learner=DDQNConfig(batch_size=16, n_recall=4),
        online=TINY_ONLINE,
    )
    return replace(config, **changes)
