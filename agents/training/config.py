"""What a training run is: its config, its folder, its scenario (data, split, user model) and
its logger.

:mod:`agents.train` builds a :class:`Run` from a :class:`TrainConfig`; the registry
(:mod:`agents.training.registry`) builds the agent from it; the loop trains it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import torch

from agents.data.share import keep_share
from agents.learners.base import Learner
from agents.learners.ddqn import DDQNConfig
from agents.training.distributed import SINGLE, World
from agents.training.early_stopping import EarlyStopping, check_early_stopping, step_cap
from agents.training.flags import from_dict
from agents.training.logger import ScalarLogger
from agents.training.registry import AgentSpec, spec_of
from agents.training.warm_start import check_init_from
from rec_env.checks import InputError, check_dataset, check_range, check_types
from rec_env.data import Splits, SyntheticConfig, is_synthetic
from rec_env.envs import FeedConfig
from rec_env.scenario import Scenario

CONFIG_NAME = "config.json"


@dataclass(frozen=True)
class OnlineConfig:
    """Online training and evaluation settings (``TrainConfig.online``)."""

    num_envs: int = 64
    """requests filled in parallel: sub-envs of the training vector env"""
    buffer_lists: int = 20_000
    """replay capacity, in lists (one list = K transitions)"""
    learning_starts: int = 1_000
    """lists collected before the first gradient step"""
    exploration_start: float = 1.0
    """epsilon of the epsilon-greedy policy at the first gradient step (and before)"""
    exploration_end: float = 0.05
    """epsilon once exploration_steps gradient steps are done"""
    exploration_steps: int = 1_500
    """gradient steps over which epsilon decays linearly"""
    eval_lists: int = 1_000
    """lists per online evaluation (valid requests during training, test requests at the end;
    0: no online evaluation)"""
    eval_envs: int = 100
    """sub-envs of the evaluation env (fixed, so every agent sees the same lists)"""
    env: FeedConfig = field(default_factory=lambda: FeedConfig(invalid_action="raise"))
    """ListwiseFeed-v0 settings (C, recall, reward mode...); user_split is set per use; strict
    (``invalid_action="raise"``): every agent here masks, so a masked action is a bug"""

    def __post_init__(self) -> None:
        check_types(self)
        check_range(self, ("num_envs", "buffer_lists", "learning_starts", "eval_envs"), low=1)
        check_range(self, ("exploration_start", "exploration_end"), low=0, high=1)
        check_range(self, ("exploration_steps", "eval_lists"), low=0)
        if self.learning_starts > self.buffer_lists:
            raise InputError(
                f"learning_starts ({self.learning_starts}) exceeds the replay's capacity "
                f"buffer_lists ({self.buffer_lists}): training would never start"
            )

    def epsilon(self, step: int) -> float:
        """Linear decay from ``exploration_start`` to ``exploration_end`` (CleanRL's schedule)."""
        fraction = min(1.0, step / max(1, self.exploration_steps))
        return self.exploration_start + fraction * (self.exploration_end - self.exploration_start)


@dataclass(frozen=True)
class TrainConfig:
    """One training run; saved as ``config.json`` in the run folder."""

    agent: str = "teacher"
    """a registered agent: teacher / student (DDQN), supervised (BCE click model), mf
    (logistic matrix factorisation, L2 picked on the validation lists), popularity, random;
    online only: oracle (ranks by the env's user model), ppo (sb3-contrib MaskablePPO)"""
    dataset: str = "synthetic"
    """synthetic (or another synthetic preset, e.g. synthetic-tiny), ml-100k, obd, or a .csv /
    .parquet log"""
    mode: Literal["offline", "online"] = "offline"
    """offline: from logged lists; online: in the environment"""
    seed: int = 0
    """seed of the network initialisation, batch sampling, recall draws, dropout and the
    train_share draw"""
    steps: int = 3000
    """gradient steps"""
    split: Literal["request", "time"] = "request"
    """train / valid / test split of the lists (80 / 10 / 10), shared by the agent's data,
    the environment's requests and the fitted user model"""
    split_seed: int = 0
    """seed of a by-request split (fixed across training seeds, as the simulator's)"""
    train_share: float = 1.0
    """offline: share of the train lists kept, a draw seeded by seed (valid, test, the
    catalogue and the simulator untouched; the popularity recalls and the MF warm start count
    the kept lists only); 1: all of them"""
    out: str = "runs"
    """parent folder of the run folders"""
    width: float = 1.0
    """multiplier on the preset's widths (supervised uses the teacher preset)"""
    eval_every: int = 500
    """steps between evaluations on the validation lists"""
    select_best: bool = True
    """offline: end with the network of the best validation AUC seen at an evaluation
    (early stopping) instead of the last one"""
    early_stopping: EarlyStopping | None = None
    """offline: stop on a validation plateau, within a cap in epochs (EarlyStopping); None:
    train exactly `steps` steps"""
    mf_warm_start: bool = False
    """start the network's MF tables from a logistic MF fitted on the train lists
    (agents.baselines.mf.fit_mf, L2 picked on the validation lists) instead of at random"""
    init_from: str | None = None
    """online: a finished offline run folder of the same agent, data, split and width whose
    selected networks start this run (agents.training.warm_start); None: a fresh start"""
    checkpoint_every: int = 500
    """steps between checkpoints (one is also written at the end)"""
    log_every: int = 50
    """steps between logged training scalars"""
    threads: int = 1
    """torch CPU threads (results are reproducible for a fixed value)"""
    synthetic: SyntheticConfig | None = None
    """the world of a synthetic dataset (None: the named preset's)"""
    learner: DDQNConfig = field(default_factory=DDQNConfig)
    """optimisation and TD settings (supervised uses the optimisation part)"""
    online: OnlineConfig = field(default_factory=OnlineConfig)
    """environment, exploration and replay settings of online training and evaluation"""
    options: Any = None
    """the agent's own settings: an instance of its registry entry's ``options`` dataclass"""

    def __post_init__(self) -> None:
        """Check every field (the agent against the registry as it is now, so agents that
        plugins register at import time are valid) before any run folder exists.

        :raises InputError: naming the field and what is valid.
        """
        check_types(self)
        spec = self.spec
        if self.mode not in spec.modes:
            raise InputError(
                f"agent {self.agent!r} exists in mode(s) {spec.modes}, not {self.mode!r}"
            )
        if spec.options is not None and not isinstance(self.options, spec.options):
            if self.options is not None:
                raise InputError(
                    f"options of agent {self.agent!r} must be a {spec.options.__name__}, "
                    f"got {type(self.options).__name__}"
                )
            object.__setattr__(self, "options", spec.options())
        if spec.options is None and self.options is not None:
            raise InputError(f"agent {self.agent!r} takes no options, got {self.options!r}")
        check_dataset("TrainConfig.dataset", self.dataset)
        if self.synthetic is not None and not is_synthetic(self.dataset):
            raise InputError(
                f"synthetic= describes a synthetic world, not dataset {self.dataset!r}"
            )
        counts = ("steps", "eval_every", "checkpoint_every", "log_every", "threads")
        check_range(self, counts, low=1)
        check_range(self, ("width",), low=0, low_open=True)
        check_range(self, ("train_share",), low=0, high=1, low_open=True)
        if self.train_share < 1 and self.mode != "offline":
            raise InputError(
                f"TrainConfig.train_share ({self.train_share}) cuts the logged train lists: "
                "offline mode only (online runs learn from the environment)"
            )
        check_early_stopping(self)
        check_init_from(self)

    @property
    def spec(self) -> AgentSpec:
        """The agent's registry entry."""
        return spec_of(self.agent)


@dataclass
class Run:
    """A run in progress.

    :param config: the run's config.
    :param dir: its folder (config, scalars, checkpoint, metrics).
    :param scenario: its data, split and user model.
    :param logger: scalar sink (None when a run folder is only loaded).
    :param resume: True to continue from the folder's checkpoint.
    :param checkpoint: that checkpoint, if the caller has read it already (else the loop
        reads it).
    :param summary: entries a trainer adds to ``metrics.json`` (e.g. the selected step).
    :param world: this process's rank among data-parallel processes (one process: rank 0 of
        1); only rank 0 logs and writes (its ``logger`` is the only one).
    :param warm_start: the finished offline run's trainable whose networks start this one
        (``config.init_from``, :mod:`agents.training.warm_start`); None on a resume.
    """

    config: TrainConfig
    dir: Path
    scenario: Scenario
    logger: ScalarLogger | None
    resume: bool = False
    checkpoint: dict | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    world: World = SINGLE
    warm_start: Learner | None = None

    @cached_property
    def splits(self) -> Splits:
        """The scenario's train / valid / test lists, train cut to ``config.train_share``
        (:func:`~agents.data.share.keep_share`)."""
        return keep_share(self.scenario.splits, self.config.train_share, self.config.seed)

    @property
    def max_steps(self) -> int:
        """The most updates the run makes (:func:`step_cap` of its train lists)."""
        return step_cap(self.config, len(self.splits.train))


def load_scenario(config: TrainConfig) -> Scenario:
    """The run's scenario (cached in-process for named datasets)."""
    return Scenario.build(
        config.dataset, config.split, config.split_seed, synthetic=config.synthetic
    )


def new_run_dir(config: TrainConfig) -> Path:
    """A fresh ``{out}/{dataset}__{agent}__{seed}__{unix time}`` folder (CleanRL's layout).

    A ``-1``, ``-2``... suffix is added if a run started in the same second.
    """
    stem = f"{Path(config.dataset).stem}__{config.agent}__{config.seed}__{int(time.time())}"
    parent = Path(config.out)
    parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1000):
        folder = parent / (stem if attempt == 0 else f"{stem}-{attempt}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"no free run folder for {parent / stem}")


def save_config(config: TrainConfig, networks: dict[str, Any], folder: Path) -> None:
    """Write the run's config, the module that registered its agent and the configs of its
    networks (``{name: dataclass}``) to ``config.json``."""
    payload = {
        "train": asdict(config),
        "agent_module": config.spec.module,
        "networks": {name: asdict(net) for name, net in networks.items()},
    }
    (folder / CONFIG_NAME).write_text(json.dumps(payload, indent=2) + "\n")


def load_config(folder: str | Path) -> TrainConfig:
    """The :class:`TrainConfig` saved in a run folder (its agent's module imported first)."""
    payload = json.loads((Path(folder) / CONFIG_NAME).read_text())
    train = dict(payload["train"])
    spec = spec_of(train["agent"], payload.get("agent_module"))
    if spec.options is not None and train.get("options") is not None:
        train["options"] = from_dict(spec.options, train["options"])
    return from_dict(TrainConfig, train)


def seed_everything(config: TrainConfig) -> torch.Generator:
    """Fix threads and the global torch RNG; return the run's own sampling generator."""
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    return torch.Generator().manual_seed(config.seed)
