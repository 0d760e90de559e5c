"""Wiring: a dataset (name or instance), settings and an optional user model -> an env's parts.

Named datasets, their fixed-shape lists and their default user models are cached in-process,
so repeated ``gym.make("ListwiseFeed-v0")`` calls load and prepare them once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from rec_env import simulator
from rec_env.data import LogDataset, LoggedLists, load_dataset
from rec_env.envs.catalogue import Catalogue
from rec_env.envs.config import FeedConfig
from rec_env.envs.core import FeedCore
from rec_env.envs.recall import Recall, make_recall
from rec_env.envs.spaces import observation_space
from rec_env.envs.users import RequestSampler
from rec_env.simulator import UserModel


@dataclass(frozen=True)
class FeedParts:
    """The parts an environment wires together (RecSim style: each one swappable)."""

    dataset: LogDataset
    sampler: RequestSampler
    catalogue: Catalogue
    recall: Recall
    user_model: UserModel


@dataclass(frozen=True)
class FeedSetup:
    """What both environments are made of: a core of ``n_envs`` rows and one request's spaces.

    :param core: the batched state machine.
    :param observation_space: one request's ``Dict`` (see :class:`ListwiseFeedEnv`).
    :param action_space: ``Discrete(C)``.
    :param item_features: ``[n_items, F_i]`` float32, indexed by item id.
    :param user_features: ``[n_users, F_u]`` float32, indexed by user id.
    """

    core: FeedCore
    observation_space: spaces.Dict
    action_space: spaces.Discrete
    item_features: np.ndarray
    user_features: np.ndarray


def setup_feed(
    n_envs: int,
    dataset: str | LogDataset = "synthetic",
    slate_size: int | None = None,
    user_model: UserModel | None = None,
    **settings: Any,
) -> FeedSetup:
    """The parts (:func:`build_parts`, same arguments), a core of ``n_envs`` rows around them,
    the spaces of one request and the feature tables."""
    config, parts = build_parts(dataset, slate_size, user_model, **settings)
    return FeedSetup(
        FeedCore(config, parts, n_envs),
        observation_space(parts.catalogue, config),
        spaces.Discrete(config.num_candidates),
        parts.catalogue.item_features,
        parts.catalogue.user_features,
    )


def build_parts(
    dataset: str | LogDataset,
    slate_size: int | None = None,
    user_model: UserModel | None = None,
    **settings: Any,
) -> tuple[FeedConfig, FeedParts]:
    """Load ``dataset``, validate the settings and build the parts.

    :param dataset: ``"synthetic"``, ``"ml-100k"``, ``"obd"`` (or any name
        :func:`rec_env.data.load_dataset` takes), or a :class:`LogDataset`.
    :param slate_size: K; ``None`` means the dataset's.
    :param user_model: the click model; ``None`` means
        :func:`rec_env.simulator.make_user_model` (ground truth for synthetic data, else a
        model fitted on the training split).
    :param settings: the other :class:`FeedConfig` fields.
    """
    data, lists = _prepared(dataset) if isinstance(dataset, str) else _prepare(dataset)
    config = FeedConfig(slate_size=slate_size or data.slate_size, **settings)
    if user_model is None:
        user_model = (
            _named_user_model(dataset, config.split_seed)
            if isinstance(dataset, str)
            else simulator.make_user_model(data, seed=config.split_seed)
        )
    _check_sizes(config, data, user_model)
    sampler = RequestSampler.from_split(lists, config.user_split, config.split_seed)
    train = RequestSampler.from_split(lists, "train", config.split_seed).rows
    catalogue = Catalogue.from_lists(lists, train)
    recall = make_recall(config.recall, catalogue, config.num_candidates, lists.slate_size)
    return config, FeedParts(data, sampler, catalogue, recall, user_model)


def _check_sizes(config: FeedConfig, data: LogDataset, user_model: UserModel) -> None:
    if config.num_candidates > data.n_items:
        raise ValueError(
            f"num_candidates ({config.num_candidates}) exceeds the catalogue of "
            f"{data.name!r} ({data.n_items} items)"
        )
    if config.slate_size > user_model.slate_size:
        raise ValueError(
            f"slate_size ({config.slate_size}) exceeds the {user_model.slate_size} slots the "
            "user model was built for"
        )


def _prepare(dataset: LogDataset) -> tuple[LogDataset, LoggedLists]:
    return dataset, LoggedLists.from_dataset(dataset)


@functools.lru_cache(maxsize=4)
def _prepared(name: str) -> tuple[LogDataset, LoggedLists]:
    kwargs = {"progress": False} if name == "synthetic" else {}
    return _prepare(load_dataset(name, **kwargs))


@functools.lru_cache(maxsize=4)
def _named_user_model(name: str, split_seed: int) -> UserModel:
    return simulator.make_user_model(_prepared(name)[0], seed=split_seed)
