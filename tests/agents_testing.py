"""Shared tiny fixtures of the agents tests: a small synthetic world and a narrow network."""

from __future__ import annotations

import functools
from dataclasses import replace

import gymnasium as gym
import numpy as np
import torch

from agents.data.batch import ListBatch
from agents.data.logged import LoggedTransitions
from agents.learners.ddqn import DDQNConfig
from agents.nn.qnetwork import QNetwork, QNetworkConfig
from agents.training.config import OnlineConfig, TrainConfig
from rec_env.data import IdVocabulary, LoggedLists, Vocabularies, load_dataset
from rec_env.envs import FeedConfig

TINY = QNetworkConfig(embed_dim=4, model_dim=8, head_dims=(8, 4), n_heads=2, dropout=0.1)
TINY_DATA = "synthetic-tiny"
"""100 users, 150 items, 500 lists of 10 (rec_env.data.SYNTHETIC_PRESETS)"""
TINY_ONLINE = OnlineConfig(
    num_envs=4,
    buffer_lists=50,
    learning_starts=8,
    exploration_steps=20,
    eval_lists=20,
    eval_envs=10,
    env=FeedConfig(num_candidates=20, invalid_action="raise"),
)


@functools.lru_cache(maxsize=1)
def tiny_lists() -> LoggedLists:
    """500 lists of 10 slots from 150 items and 100 users."""
    return LoggedLists.from_dataset(load_dataset(TINY_DATA, progress=False))


def tiny_network(seed: int = 0, config: QNetworkConfig = TINY) -> QNetwork:
    lists = tiny_lists()
    torch.manual_seed(seed)
    return QNetwork(config, lists.item_features, lists.user_features)


def tiny_batch(rows: int = 8) -> ListBatch:
    return ListBatch.from_lists(tiny_lists()).index(slice(0, rows))


def tensors_of(state, prefix: str = "") -> dict[str, torch.Tensor]:
    """Every tensor of a nested checkpoint (dicts and lists), by dotted path."""
    if isinstance(state, torch.Tensor):
        return {prefix: state}
    if not isinstance(state, dict | list | tuple):
        return {}
    items = state.items() if isinstance(state, dict) else enumerate(state)
    return {k: v for key, value in items for k, v in tensors_of(value, f"{prefix}.{key}").items()}


def tiny_config(tmp_path, **changes) -> TrainConfig:
    """A seconds-long run on the tiny world, written under ``tmp_path``."""
    config = TrainConfig(
        dataset=TINY_DATA,
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


def string_vocabularies(n_users: int = 100, n_items: int = 150) -> Vocabularies:
    """A log whose users are ``"u000"``... and items ``"i000"``... (index order = id order)."""

    def vocabulary(field: str, prefix: str, n: int) -> IdVocabulary:
        return IdVocabulary.build(field, np.array([f"{prefix}{i:03d}" for i in range(n)]))[0]

    users, items = vocabulary("user_id", "u", n_users), vocabulary("item_id", "i", n_items)
    return Vocabularies(users, items, IdVocabulary.range("request_id", 1))


def make_vec(dataset, num_envs: int, num_candidates: int, **kwargs):
    """The native ``ListwiseFeed-v0`` vector env of ``num_envs`` sub-envs on ``dataset``."""
    return gym.make_vec(
        "ListwiseFeed-v0",
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        dataset=dataset,
        num_candidates=num_candidates,
        **kwargs,
    )


def crash_at_sample(monkeypatch, step: int) -> None:
    """Make the ``step``-th draw of a training batch (1-based) raise ``RuntimeError("crash")``,
    as a killed run would stop there; ``monkeypatch.undo()`` lifts it."""
    sample, calls = LoggedTransitions.sample, []

    def crashing_sample(self, batch_size):
        calls.append(batch_size)
        if len(calls) == step:
            raise RuntimeError("crash")
        return sample(self, batch_size)

    monkeypatch.setattr(LoggedTransitions, "sample", crashing_sample)
