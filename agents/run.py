"""What a training run is: its config, its folder, its data split, its logger, and the agent factory.

Trainers (``agents.offline``, ``agents.online``) receive a :class:`Run` and return the
trained ranker; :mod:`agents.train` creates the run and evaluates what comes back.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import torch

from agents.baselines import PopularityAgent, RandomAgent
from agents.config import from_dict
from agents.ddqn import DDQN, DDQNConfig
from agents.learner import Learner
from agents.logger import ScalarLogger
from agents.mf import MFAgent, fit_mf
from agents.offline_data import item_popularity
from agents.qnetwork import STUDENT, TEACHER, QNetwork, QNetworkConfig
from agents.supervised import SupervisedLearner
from rec_env.data import LogDataset, LoggedLists, Splits

AgentName = Literal[
    "teacher", "student", "supervised", "mf", "popularity", "random", "oracle", "ppo"
]
BASELINES = ("mf", "popularity", "random")
ONLINE_ONLY = ("oracle", "ppo")
"""Agents that exist only in the environment (the oracle needs its user model)."""
NETWORK_AGENTS = ("teacher", "student", "supervised")
PRESETS = {"teacher": TEACHER, "student": STUDENT, "supervised": TEACHER}
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
    """lists per online evaluation (valid requests during training, test requests at the end)"""
    eval_envs: int = 100
    """sub-envs of the evaluation env (fixed, so every agent sees the same lists)"""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """extra ListwiseFeed-v0 arguments, e.g. {"num_candidates": 50}"""

    def __post_init__(self) -> None:
        positive = ("num_envs", "buffer_lists", "learning_starts", "eval_envs")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("exploration_start", "exploration_end"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.exploration_steps < 0 or self.eval_lists < 0:
            raise ValueError("exploration_steps and eval_lists must be >= 0")
        if self.learning_starts > self.buffer_lists:
            raise ValueError(
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

    agent: AgentName = "teacher"
    """teacher / student (DDQN), supervised (BCE click model), mf (logistic matrix
    factorisation, L2 picked on the validation lists), popularity, random; online only:
    oracle (ranks by the env's user model), ppo (sb3-contrib MaskablePPO)"""
    dataset: str = "synthetic"
    """synthetic, ml-100k, obd, or a .csv / .parquet log"""
    mode: Literal["offline", "online"] = "offline"
    """offline: from logged lists; online: in the environment"""
    seed: int = 0
    """seed of the network initialisation, batch sampling, recall draws and dropout"""
    steps: int = 3000
    """gradient steps"""
    split: Literal["request", "time"] = "request"
    """train / valid / test split of the lists (80 / 10 / 10)"""
    split_seed: int = 0
    """seed of a by-request split (fixed across training seeds, as the simulator's)"""
    out: str = "runs"
    """parent folder of the run folders"""
    width: float = 1.0
    """multiplier on the preset's widths (supervised uses the teacher preset)"""
    eval_every: int = 500
    """steps between evaluations on the validation lists"""
    select_best: bool = True
    """offline: end with the network of the best validation AUC seen at an evaluation
    (early stopping) instead of the last one"""
    mf_warm_start: bool = False
    """start the network's MF tables from a logistic MF fitted on the train lists
    (agents.mf.fit_mf, L2 picked on the validation lists) instead of at random"""
    checkpoint_every: int = 500
    """steps between checkpoints (one is also written at the end)"""
    log_every: int = 50
    """steps between logged training scalars"""
    threads: int = 1
    """torch CPU threads (results are reproducible for a fixed value)"""
    dataset_kwargs: dict[str, Any] = field(default_factory=dict)
    """extra load_dataset keyword arguments, e.g. a tiny synthetic world"""
    learner: DDQNConfig = field(default_factory=DDQNConfig)
    """optimisation and TD settings (supervised uses the optimisation part)"""
    online: OnlineConfig = field(default_factory=OnlineConfig)
    """environment, exploration and replay settings of online training and evaluation"""

    def __post_init__(self) -> None:
        if self.mode == "offline" and self.agent in ONLINE_ONLY:
            raise ValueError(f"agent {self.agent!r} exists online only: use mode='online'")

    def network_config(self, slate_size: int) -> QNetworkConfig:
        """The preset of ``agent`` scaled by ``width``, with room for ``slate_size`` slots."""
        preset = PRESETS[self.agent]
        scaled = preset if self.width == 1.0 else preset.scaled(self.width)
        return replace(scaled, max_slots=max(scaled.max_slots, slate_size))


@dataclass
class Run:
    """A run in progress.

    :param config: the run's config.
    :param dir: its folder (config, scalars, checkpoint, metrics).
    :param dataset: the dataset the lists come from.
    :param splits: its train / valid / test lists.
    :param logger: scalar sink.
    :param resume: True to continue from the folder's checkpoint.
    :param summary: entries a trainer adds to ``metrics.json`` (e.g. the selected step).
    """

    config: TrainConfig
    dir: Path
    dataset: LogDataset
    splits: Splits
    logger: ScalarLogger
    resume: bool = False
    summary: dict[str, Any] = field(default_factory=dict)

    def env_dataset(self) -> str | LogDataset:
        """What to pass as an env's ``dataset``: the name when it alone rebuilds the dataset
        (the env then shares its in-process caches), else the dataset itself."""
        return self.dataset if self.config.dataset_kwargs else self.config.dataset


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


def save_config(config: TrainConfig, network: QNetworkConfig | None, folder: Path) -> None:
    """Write every dataclass of the run to ``config.json``."""
    payload = {"train": asdict(config), "network": asdict(network) if network else None}
    (folder / CONFIG_NAME).write_text(json.dumps(payload, indent=2) + "\n")


def load_config(folder: str | Path) -> TrainConfig:
    """The :class:`TrainConfig` saved in a run folder."""
    payload = json.loads((Path(folder) / CONFIG_NAME).read_text())
    return from_dict(TrainConfig, payload["train"])


def make_network(config: TrainConfig, lists: LoggedLists) -> QNetwork:
    """A freshly initialised network (initialisation drawn from the global torch RNG)."""
    network_config = config.network_config(lists.slate_size)
    return QNetwork(network_config, lists.item_features, lists.user_features)


def initial_network(run: Run) -> QNetwork:
    """The network a trainer starts from: fresh, then MF warm-started if the config asks
    (not when resuming: the checkpoint replaces every weight)."""
    config = run.config
    network = make_network(config, run.splits.train)
    if config.mf_warm_start and not run.resume:
        mf = fit_mf(run.splits.train, run.splits.valid, network.config.factor_dim, seed=config.seed)
        # The supervised Q is a click logit, as the MF's; DDQN's Q is in clicks, where a logit
        # x is about 1/2 + x/4 near 0 (the sigmoid's slope at 0).
        scale = 1.0 if config.agent == "supervised" else 0.25
        network.set_factors(mf.user_table, mf.item_table, scale)
    return network


def make_learner(config: TrainConfig, network: QNetwork) -> Learner:
    if config.agent == "supervised":
        return SupervisedLearner(network, config.learner)
    return DDQN(network, config.learner)


def make_baseline(config: TrainConfig, splits: Splits) -> MFAgent | PopularityAgent | RandomAgent:
    """MF fitted on the train lists (L2 by valid AUC); popularity = train click counts;
    random = uniform scores seeded by the run."""
    if config.agent == "mf":
        return fit_mf(splits.train, splits.valid, seed=config.seed)
    if config.agent == "popularity":
        return PopularityAgent(item_popularity(splits.train, "clicks"))
    return RandomAgent(config.seed)


def seed_everything(config: TrainConfig) -> torch.Generator:
    """Fix threads and the global torch RNG; return the run's own sampling generator."""
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    return torch.Generator().manual_seed(config.seed)
