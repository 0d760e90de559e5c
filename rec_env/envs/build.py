"""Wiring: a scenario (or a dataset to build one from), settings and an optional user model ->
an env's parts.

Named datasets are built into a :class:`~rec_env.Scenario` once per process (its cache), so
repeated ``gym.make("ListwiseFeed-v0")`` calls load and prepare them once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from gymnasium import spaces

from rec_env.checks import InputError
from rec_env.data import Catalogue, LogDataset
from rec_env.envs.config import FeedConfig
from rec_env.envs.core import FeedCore
from rec_env.envs.recall import Recall, make_recall
from rec_env.envs.spaces import observation_space
from rec_env.envs.users import RequestSampler
from rec_env.scenario import Scenario, SplitKind
from rec_env.simulator import UserModel

DEFAULT_DATASET = "synthetic-feed"
"""The world of ``gym.make("ListwiseFeed-v0")`` without a dataset: the synthetic feed, where
planning a list and reacting to clicks pay (see ``rec_env.data.SYNTHETIC_PRESETS``)."""


@dataclass(frozen=True)
class FeedParts:
    """The parts an environment wires together (RecSim style: each one swappable)."""

    scenario: Scenario
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
    dataset: str | LogDataset | None = None,
    split: SplitKind | None = None,
    split_seed: int | None = None,
    scenario: Scenario | None = None,
    user_model: UserModel | None = None,
    **settings: Any,
) -> FeedSetup:
    """The parts (:func:`build_parts`, same arguments), a core of ``n_envs`` rows around them,
    the spaces of one request and the feature tables."""
    scenario = resolve_scenario(scenario, dataset, split, split_seed)
    config, parts = build_parts(scenario, FeedConfig(**settings), user_model)
    return FeedSetup(
        FeedCore(config, parts, n_envs),
        observation_space(parts.catalogue, config),
        spaces.Discrete(config.num_candidates),
        parts.catalogue.item_features,
        parts.catalogue.user_features,
    )


def resolve_scenario(
    scenario: Scenario | None,
    dataset: str | LogDataset | None,
    split: SplitKind | None,
    split_seed: int | None,
) -> Scenario:
    """``scenario``, or the one :meth:`Scenario.build` makes of ``dataset`` (default
    :data:`DEFAULT_DATASET`), ``split`` (``"request"``) and ``split_seed`` (0); not both."""
    if scenario is None:
        return Scenario.build(dataset or DEFAULT_DATASET, split or "request", split_seed or 0)
    given = {"dataset": dataset, "split": split, "split_seed": split_seed}
    clashing = [name for name, value in given.items() if value is not None]
    if clashing:
        named = ", ".join(f"{name}=" for name in clashing)
        raise ValueError(f"pass scenario= or {named}, not both")
    return scenario


def build_parts(
    scenario: Scenario, config: FeedConfig, user_model: UserModel | None = None
) -> tuple[FeedConfig, FeedParts]:
    """Validate the settings against the scenario and build the parts.

    :param config: the settings; ``slate_size=None`` becomes the dataset's K.
    :param user_model: the click model; ``None`` means ``scenario.user_model`` (the ground
        truth of a synthetic world, else a model fitted on the scenario's training lists).
    """
    if config.slate_size is None:
        config = replace(config, slate_size=scenario.dataset.slate_size)
    user_model = user_model if user_model is not None else scenario.user_model
    _check_sizes(config, scenario.dataset, user_model)
    sampler = RequestSampler(scenario.lists, scenario.request_rows(config.user_split))
    catalogue = scenario.catalogue
    recall = make_recall(config.recall, catalogue, config.num_candidates, scenario.lists.slate_size)
    return config, FeedParts(scenario, sampler, catalogue, recall, user_model)


def _check_sizes(config: FeedConfig, data: LogDataset, user_model: UserModel) -> None:
    """:raises InputError: C above the catalogue, K above C, or K above the user model's slots."""
    if config.num_candidates > data.n_items:
        raise InputError(
            f"num_candidates ({config.num_candidates}) exceeds the catalogue of "
            f"{data.name!r} ({data.n_items} items)"
        )
    if config.num_candidates < config.slate_size:
        raise InputError(
            f"num_candidates ({config.num_candidates}) must be >= slate_size "
            f"({config.slate_size}) to fill a list with distinct items"
        )
    if config.slate_size > user_model.slate_size:
        raise InputError(
            f"slate_size ({config.slate_size}) exceeds the {user_model.slate_size} slots the "
            "user model was built for"
        )
