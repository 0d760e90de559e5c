"""`Scenario`: one dataset, one train / valid / test split of its lists, and the user model that
simulates it, built once and shared by the simulator fit, the environment and the agents.

Every consumer reads the split from here, so they cannot disagree: the fitted user model is
trained on this split's training lists, an environment draws its ``valid`` / ``test``
requests from this split's valid / test lists, and agents train and are scored on the same
lists. With ``split="time"`` an online evaluation on ``test`` requests therefore never meets
a request the agent trained on.

>>> from rec_env import Scenario
>>> scenario = Scenario.build("synthetic", split="request", split_seed=0)  # doctest: +SKIP
>>> scenario.splits.train, scenario.catalogue.impressions, scenario.user_model  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from rec_env.data import (
    Catalogue,
    LogDataset,
    LoggedLists,
    Splits,
    SyntheticConfig,
    is_synthetic,
    load_dataset,
    split_rows,
)
from rec_env.simulator import GroundTruthModel, UserModel

SplitKind = Literal["request", "time"]
SPLIT_KINDS = ("request", "time")
UserModelChoice = Literal["auto", "ground_truth", "fitted"]
USER_MODEL_CHOICES = ("auto", "ground_truth", "fitted")
RequestSplit = Literal["train", "valid", "test", "all"]
REQUEST_SPLITS = ("train", "valid", "test", "all")


@dataclass(frozen=True, eq=False)
class Scenario:
    """A dataset with its lists, one split of them and the choice of user model.

    Use :meth:`build`. The derived parts (``splits``, ``catalogue``, ``user_model``) are
    computed on first use and kept: a fitted user model is fitted (or read from the disk
    cache) only when something asks for it.

    :param dataset: the validated log and its feature tables.
    :param lists: every request of the log as ``[N, K]`` arrays.
    :param split: ``"request"`` (seeded random) or ``"time"`` (earliest requests train).
    :param split_seed: seed of a request split; also the fitted user model's training seed.
    :param rows: ``{"train", "valid", "test"}`` -> sorted row indices into ``lists``.
    :param user_model_choice: ``"auto"`` (a synthetic world's ground truth, else fitted),
        ``"ground_truth"`` or ``"fitted"``.
    :param progress: show progress bars while fitting the user model.
    """

    dataset: LogDataset
    lists: LoggedLists
    split: SplitKind
    split_seed: int
    rows: dict[str, np.ndarray]
    user_model_choice: UserModelChoice = "auto"
    progress: bool = True

    @classmethod
    def build(
        cls,
        dataset: str | LogDataset = "synthetic",
        split: SplitKind = "request",
        split_seed: int = 0,
        user_model: UserModelChoice = "auto",
        synthetic: SyntheticConfig | None = None,
        progress: bool = True,
    ) -> Scenario:
        """Load ``dataset`` (a name :func:`~rec_env.data.load_dataset` takes, or a
        :class:`LogDataset`) and split its lists.

        Named datasets are cached in-process, so repeated calls (every ``gym.make``) share
        one scenario and its user model.

        :param synthetic: the world of a synthetic dataset name (None: the preset's).
        """
        if split not in SPLIT_KINDS:
            raise ValueError(f"split must be one of {SPLIT_KINDS}, got {split!r}")
        if user_model not in USER_MODEL_CHOICES:
            raise ValueError(f"user_model must be one of {USER_MODEL_CHOICES}, got {user_model!r}")
        if synthetic is not None and not (isinstance(dataset, str) and is_synthetic(dataset)):
            raise ValueError(f"synthetic= describes a synthetic world, not dataset {dataset!r}")
        if isinstance(dataset, str):
            return _named(dataset, split, split_seed, user_model, synthetic, progress)
        return cls.from_dataset(dataset, split, split_seed, user_model, progress)

    @classmethod
    def from_dataset(
        cls,
        dataset: LogDataset,
        split: SplitKind = "request",
        split_seed: int = 0,
        user_model: UserModelChoice = "auto",
        progress: bool = True,
    ) -> Scenario:
        """The scenario of an already loaded dataset (not cached)."""
        lists = LoggedLists.from_dataset(dataset)
        train, valid, test = split_rows(lists, by=split, seed=split_seed)
        rows = {"train": train, "valid": valid, "test": test}
        return cls(dataset, lists, split, split_seed, rows, user_model, progress)

    @functools.cached_property
    def splits(self) -> Splits:
        """The train / valid / test lists."""
        return Splits(*(self.lists.subset(self.rows[name]) for name in ("train", "valid", "test")))

    @functools.cached_property
    def catalogue(self) -> Catalogue:
        """Feature tables and item impressions counted on the training lists only."""
        return Catalogue.from_train(self.splits.train)

    @functools.cached_property
    def user_model(self) -> UserModel:
        """The user model (see ``user_model_choice``); a fitted one is trained on
        ``splits.train`` with early stopping on ``splits.valid`` and cached on disk."""
        world = self.dataset.extras.get("world")
        choice = self.user_model_choice
        if choice == "ground_truth" and world is None:
            raise ValueError(f"dataset {self.dataset.name!r} has no ground truth; use 'fitted'")
        if world is not None and choice != "fitted":
            return GroundTruthModel(world)
        return self.fitted_user_model()

    def fitted_user_model(self, **overrides) -> UserModel:
        """A :class:`~rec_env.simulator.LogClickModel` fitted on this split (disk-cached).

        :param overrides: :class:`~rec_env.simulator.LogClickConfig` fields, e.g. ``epochs=5``.
        """
        from rec_env.simulator.fit import fit_or_load  # torch is imported only to fit
        from rec_env.simulator.log_model import LogClickConfig

        config = replace(LogClickConfig(seed=self.split_seed), **overrides)
        return fit_or_load(self, config, progress=self.progress)

    def request_rows(self, which: RequestSplit) -> np.ndarray:
        """``[R]`` rows into ``lists`` of the ``which`` requests (``"all"``: every row)."""
        if which not in REQUEST_SPLITS:
            raise ValueError(f"user_split must be one of {REQUEST_SPLITS}, got {which!r}")
        rows = np.arange(len(self.lists)) if which == "all" else self.rows[which]
        if len(rows) == 0:
            raise ValueError(f"the {which!r} split of {len(self.lists)} requests is empty")
        return rows

    @property
    def name(self) -> str:
        return self.dataset.name


@functools.lru_cache(maxsize=8)
def _named(
    name: str,
    split: SplitKind,
    split_seed: int,
    user_model: UserModelChoice,
    synthetic: SyntheticConfig | None,
    progress: bool,
) -> Scenario:
    if is_synthetic(name):
        dataset = load_dataset(name, config=synthetic, progress=False)
    else:
        dataset = load_dataset(name)
    return Scenario.from_dataset(dataset, split, split_seed, user_model, progress)
