"""Train an agent and evaluate it on held-out logged lists.

    python -m agents.train --agent teacher --dataset ml-100k --mode offline --seed 0 --steps 3000
    python -m agents.train --agent student --dataset synthetic --mode online --steps 2000
    python -m agents.train --resume runs/ml-100k__teacher__0__1700000000 [--steps 6000]

A run folder ``{out}/{dataset}__{agent}__{seed}__{time}/`` holds ``config.json``,
``scalars.csv`` (+ TensorBoard events), ``checkpoint.pt`` and ``metrics.json``: valid and
test AUC, GAUC, NDCG@10 on logged lists (agents that score them), and ``online``: clicks per
list of the greedy agent on ``--eval-lists`` test requests of ListwiseFeed-v0 (fixed seeds,
the same lists for every agent; 0 skips it). ``--resume`` continues a run folder from its
checkpoint with its saved config (``--steps`` may raise the budget); the result equals an
uninterrupted run. Each mode is one trainer module, ``agents.<mode>``, exposing
``train_<mode>(run) -> agent``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agents.checkpoint import CHECKPOINT_NAME, checkpoint_step, load_checkpoint
from agents.config import add_arguments, overrides
from agents.ddqn import DDQNConfig
from agents.logger import ScalarLogger
from agents.metrics import evaluate_offline
from agents.offline import BEST_NAME
from agents.online import TEST_EVAL_SEED, evaluate_in_env
from agents.run import (
    NETWORK_AGENTS,
    OnlineConfig,
    Run,
    TrainConfig,
    load_config,
    make_network,
    new_run_dir,
    save_config,
)
from agents.serving import QAgent
from rec_env.data import LogDataset, LoggedLists, Splits, load_dataset, split_lists

METRICS_NAME = "metrics.json"


@dataclass(frozen=True)
class RunResult:
    """:param dir: the run folder; :param metrics: what ``metrics.json`` holds."""

    dir: Path
    metrics: dict[str, Any]


def load_splits(config: TrainConfig) -> tuple[LogDataset, Splits]:
    """The run's dataset and its train / valid / test lists."""
    dataset = load_dataset(config.dataset, **config.dataset_kwargs)
    lists = LoggedLists.from_dataset(dataset)
    return dataset, split_lists(lists, by=config.split, seed=config.split_seed)


def load_agent(folder: str | Path, splits: Splits | None = None) -> QAgent:
    """The trained network of a run folder as a ranker (eval mode): the selected best-validation
    network (``best.pt``) if the finished run ended with it, else the last checkpoint's.

    :param splits: the run's splits, if the caller has loaded them (else loaded here).
    """
    folder = Path(folder)
    config = load_config(folder)
    if config.agent not in NETWORK_AGENTS:
        raise ValueError(f"{folder}: agent {config.agent!r} has no network to load")
    metrics_path = folder / METRICS_NAME
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    if "selected_step" in metrics:
        state = load_checkpoint(folder / BEST_NAME)["network"]
    else:
        state = load_checkpoint(folder / CHECKPOINT_NAME)["learner"]["network"]
    if splits is None:
        splits = load_splits(config)[1]
    network = make_network(config, splits.train)
    network.load_state_dict(state)
    return QAgent(network.eval())


def trainer(mode: str):
    """``agents.<mode>.train_<mode>``; a mode without its module is not implemented yet."""
    try:
        module = importlib.import_module(f"agents.{mode}")
    except ModuleNotFoundError as error:
        if error.name != f"agents.{mode}":
            raise
        raise NotImplementedError(f"{mode} training lands with the environment") from error
    return getattr(module, f"train_{mode}")


def run(config: TrainConfig, resume_dir: str | Path | None = None) -> RunResult:
    """Train (or resume) one run, evaluate it on valid and test, write ``metrics.json``."""
    train_fn = trainer(config.mode)
    dataset, splits = load_splits(config)
    folder = Path(resume_dir) if resume_dir else new_run_dir(config)
    step = checkpoint_step(folder) if resume_dir else None
    if resume_dir and step is None:
        raise FileNotFoundError(f"{folder} has no checkpoint to resume from")
    network = None
    if config.agent in NETWORK_AGENTS:
        network = config.network_config(splits.train.slate_size)
    save_config(config, network, folder)
    logger = ScalarLogger(folder, step)
    this_run = Run(config, folder, dataset, splits, logger, resume=step is not None)
    start = time.perf_counter()
    try:
        agent = train_fn(this_run)
    finally:
        logger.close()
    seconds = time.perf_counter() - start
    metrics: dict[str, Any] = {}
    if hasattr(agent, "score_logged"):
        metrics.update({s: evaluate_offline(agent, getattr(splits, s)) for s in ("valid", "test")})
    if config.online.eval_lists > 0:
        metrics["online"] = evaluate_in_env(this_run, agent, "test", TEST_EVAL_SEED).summary()
    metrics.update(this_run.summary, steps=config.steps, run_seconds=seconds, resumed_from=step)
    if network is not None:
        metrics["params"] = agent.network.n_params()
    (folder / METRICS_NAME).write_text(json.dumps(metrics, indent=2) + "\n")
    return RunResult(folder, metrics)


def parse_args(argv: list[str] | None = None) -> tuple[TrainConfig, Path | None]:
    parser = argparse.ArgumentParser(
        prog="python -m agents.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--resume", type=Path, default=None, help="run folder to continue")
    add_arguments(parser, TrainConfig)
    add_arguments(parser, DDQNConfig)
    add_arguments(parser, OnlineConfig)
    args = parser.parse_args(argv)
    if args.resume is not None:
        config = load_config(args.resume)
        return replace(config, steps=args.steps or config.steps), args.resume
    learner = DDQNConfig(**overrides(args, DDQNConfig))
    online = OnlineConfig(**overrides(args, OnlineConfig))
    return TrainConfig(**overrides(args, TrainConfig), learner=learner, online=online), None


def main(argv: list[str] | None = None) -> None:
    config, resume_dir = parse_args(argv)
    result = run(config, resume_dir)
    print(json.dumps({"run_dir": str(result.dir), **result.metrics}, indent=2))


if __name__ == "__main__":
    main()
