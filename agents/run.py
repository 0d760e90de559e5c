"""What a training run is: its config, its folder, its data split, its logger, and the agent factory.

Trainers (``agents.offline``, later ``agents.online``) receive a :class:`Run` and return the
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
from agents.offline_data import item_popularity
from agents.qnetwork import STUDENT, TEACHER, QNetwork, QNetworkConfig
from agents.supervised import SupervisedLearner
from rec_env.data import LoggedLists, Splits

AgentName = Literal["teacher", "student", "supervised", "popularity", "random"]
BASELINES = ("popularity", "random")
PRESETS = {"teacher": TEACHER, "student": STUDENT, "supervised": TEACHER}
CONFIG_NAME = "config.json"


@dataclass(frozen=True)
class TrainConfig:
    """One training run; saved as ``config.json`` in the run folder."""

    agent: AgentName = "teacher"
    """teacher / student (DDQN), supervised (BCE click model), popularity, random"""
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
    :param splits: train / valid / test lists.
    :param logger: scalar sink.
    :param resume: True to continue from the folder's checkpoint.
    """

    config: TrainConfig
    dir: Path
    splits: Splits
    logger: ScalarLogger
    resume: bool = False


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


def make_learner(config: TrainConfig, network: QNetwork) -> Learner:
    if config.agent == "supervised":
        return SupervisedLearner(network, config.learner)
    return DDQN(network, config.learner)


def make_baseline(config: TrainConfig, train: LoggedLists) -> PopularityAgent | RandomAgent:
    """Popularity = train click counts; random = uniform scores seeded by the run."""
    if config.agent == "popularity":
        return PopularityAgent(item_popularity(train, "clicks"))
    return RandomAgent(config.seed)


def seed_everything(config: TrainConfig) -> torch.Generator:
    """Fix threads and the global torch RNG; return the run's own sampling generator."""
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    return torch.Generator().manual_seed(config.seed)
