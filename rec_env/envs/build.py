"""Wiring: a dataset (name or instance), settings and an optional user model -> an env's parts.

Named datasets, their fixed-shape lists and their default user models are cached in-process,
so repeated ``gym.make("ListwiseFeed-v0")`` calls load and prepare them once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from rec_env import simulator
from rec_env.data import LogDataset, LoggedLists, load_dataset
from rec_env.envs.catalogue import Catalogue
from rec_env.envs.config import FeedConfig
from rec_env.envs.recall import Recall, make_recall
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
