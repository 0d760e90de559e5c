"""Run one training job end to end: build the run, train or fit the agent, evaluate, save.

:func:`run` is what ``python -m agents.train`` calls: it builds the run's
:class:`~rec_env.Scenario`, asks the registry for the agent, trains a trainable in the one
loop (:func:`~agents.training.loop.fit`) with the mode's sampler and hooks, then scores the
served network on the valid and test lists and in the environment on test requests.
With several processes (``world``, :mod:`agents.training.distributed`), every rank trains
its shard of each batch and rank 0 alone writes the folder and evaluates.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.metrics import evaluate_offline
from agents.serving import QAgent
from agents.training.config import (
    Run,
    TrainConfig,
    load_config,
    load_scenario,
    new_run_dir,
    save_config,
    seed_everything,
)
from agents.training.distributed import SINGLE, World, synchronise
from agents.training.hooks import BEST_NAME
from agents.training.logger import ScalarLogger
from agents.training.loop import fit, read_checkpoint
from agents.training.offline import load_selected, offline_hooks, offline_sampler, side_agents
from agents.training.online import TEST_EVAL_SEED, EnvTransitions, evaluate_in_env, online_hooks
from rec_env.checks import InputError
from rec_env.data import Vocabularies
from rec_env.files import atomic_write
from rec_env.scenario import Scenario

METRICS_NAME = "metrics.json"
VOCABULARIES_NAME = "vocabularies.json"
"""the training log's id vocabularies (JSON, :meth:`Vocabularies.to_dict`): a served agent
speaks the log's own ids"""


@dataclass(frozen=True)
class RunResult:
    """:param dir: the run folder; :param metrics: what ``metrics.json`` holds."""

    dir: Path
    metrics: dict[str, Any]


def train_agent(run: Run):
    """The trained (or fitted) agent of ``run``: a loop-trained trainable's served network as
    a :class:`QAgent`, or the registry's fitted agent."""
    spec = run.config.spec
    generator = seed_everything(run.config)
    if not spec.trained_by_loop:
        if run.resume:
            raise ValueError(
                f"agent {run.config.agent!r} is not trained in steps: nothing to resume"
            )
        return spec.make_agent(run)
    trainable = spec.make_trainable(run)
    synchronise(trainable, run.world, run.config.seed)
    networks = trainable.networks()
    main = run.world.is_main
    if main:
        save_config(run.config, {name: net.config for name, net in networks.items()}, run.dir)
    agent = QAgent(networks[spec.serve], vocabularies=run.scenario.dataset.vocabularies)
    if run.config.mode == "offline":
        sampler = offline_sampler(run, generator)
        hooks = offline_hooks(run, trainable, agent) if main else []
    else:
        sides = side_agents(trainable, agent)
        sampler, hooks = EnvTransitions(run, agent, generator), online_hooks(run, agent, sides)
    try:
        run.summary["stopped_step"] = fit(run, trainable, sampler, hooks)
    finally:
        sampler.close()
    if run.config.early_stopping is not None:
        run.summary |= {"step_cap": run.max_steps, "stopped_epochs": epochs(run)}
    return agent


def epochs(run: Run) -> float:
    """Epochs of the train lists the run's updates drew: stopped_step x batch_size / lists."""
    batch_size = run.config.learner.batch_size
    return run.summary["stopped_step"] * batch_size / len(run.splits.train)


def run(
    config: TrainConfig, resume_dir: str | Path | None = None, world: World = SINGLE
) -> RunResult:
    """Train (or resume) one run, evaluate it on valid and test, write ``metrics.json``.

    Besides the scores, a loop-trained run's ``metrics.json`` holds ``stopped_step`` (the
    updates made) and with selection ``selected_step`` (those of the network it ends with);
    an early-stopped run's also ``step_cap`` and ``stopped_epochs`` (epochs of the train lists).

    :param world: this process's rank among data-parallel processes; ranks other than 0
        train only and return the run folder with empty metrics.
    :raises InputError: several processes asked for an online run or an agent not trained
        in steps.
    """
    check_distributable(config, world)
    scenario = load_scenario(config)
    main = world.is_main
    folder = world.broadcast(
        Path(resume_dir) if resume_dir else new_run_dir(config) if main else None
    )
    checkpoint = read_checkpoint(folder) if resume_dir else None
    step = None if checkpoint is None else int(checkpoint["step"])
    if main:
        save_config(config, {}, folder)
        save_vocabularies(scenario.dataset.vocabularies, folder)
    logger = ScalarLogger(folder, step) if main else None
    this_run = Run(
        config,
        folder,
        scenario,
        logger,
        resume=step is not None,
        checkpoint=checkpoint,
        world=world,
    )
    start = time.perf_counter()
    try:
        agent = train_agent(this_run)
    finally:
        if logger is not None:
            logger.close()
    seconds = time.perf_counter() - start
    if not main:
        return RunResult(folder, {})
    metrics: dict[str, Any] = {}
    if hasattr(agent, "score_logged"):
        splits = scenario.splits
        metrics.update({s: evaluate_offline(agent, getattr(splits, s)) for s in ("valid", "test")})
        if config.train_share < 1:  # the kept lists: train vs test scores show overfitting
            metrics["train"] = evaluate_offline(agent, this_run.splits.train)
    if config.online.eval_lists > 0:
        metrics["online"] = evaluate_in_env(this_run, agent, "test", TEST_EVAL_SEED).summary()
    metrics.update(this_run.summary, steps=config.steps, run_seconds=seconds, resumed_from=step)
    if world.size > 1:
        metrics["processes"] = world.size
    if isinstance(agent, QAgent):
        metrics["params"] = agent.network.n_params()
    with atomic_write(folder / METRICS_NAME) as tmp:  # present: the run finished
        tmp.write_text(json.dumps(metrics, indent=2) + "\n")
    return RunResult(folder, metrics)


def read_metrics(folder: str | Path) -> dict[str, Any]:
    """The ``metrics.json`` of a finished run (:func:`run` writes it last, atomically).

    :raises FileNotFoundError: the run has not finished.
    """
    return json.loads((Path(folder) / METRICS_NAME).read_text())


def check_distributable(config: TrainConfig, world: World) -> None:
    """:raises InputError: several processes asked for what only one process can run: an
    online run (its replay is not sharded) or an agent fitted rather than trained in steps."""
    if world.size == 1:
        return
    if config.mode != "offline":
        raise InputError(
            f"--distributed trains offline only (mode='offline'), got mode={config.mode!r}: "
            "online runs collect their replay in one process"
        )
    if not config.spec.trained_by_loop:
        raise InputError(
            f"--distributed trains agents in gradient steps; agent {config.agent!r} is fitted"
        )
    world.shard(config.learner.batch_size)


def load_agent(
    folder: str | Path, name: str | None = None, scenario: Scenario | None = None
) -> QAgent:
    """One trained network of a run folder as a ranker (eval mode).

    The selected best-validation networks (``best.pt``) if the finished run ended with them,
    else the last checkpoint's.

    :param name: which of the trainable's networks (``"student"`` of a distillation run);
        None: the one the agent serves.
    :param scenario: the run's scenario, if the caller has built it (else built here).
    """
    folder = Path(folder)
    config = load_config(folder)
    spec = config.spec
    if not spec.trained_by_loop:
        raise ValueError(f"{folder}: agent {config.agent!r} has no network to load")
    scenario = scenario or load_scenario(config)
    seed_everything(config)
    trainable = spec.make_trainable(Run(config, folder, scenario, logger=None, resume=True))
    networks = trainable.networks()
    name = name or spec.serve
    if name not in networks:
        raise ValueError(f"{folder}: no network {name!r}; the run has {sorted(networks)}")
    metrics = read_metrics(folder) if (folder / METRICS_NAME).exists() else {}
    if "selected_step" in metrics:
        load_selected(folder / BEST_NAME, trainable)
    else:
        trainable.load_state_dict(read_checkpoint(folder)["trainable"])
    return QAgent(networks[name].eval(), vocabularies=load_vocabularies(folder, scenario))


def save_vocabularies(vocabularies: Vocabularies, folder: Path) -> None:
    """Write the run's id vocabularies to ``folder`` (atomically)."""
    with atomic_write(folder / VOCABULARIES_NAME) as tmp:
        tmp.write_text(json.dumps(vocabularies.to_dict()))


def load_vocabularies(folder: Path, scenario: Scenario) -> Vocabularies:
    """The vocabularies saved in a run folder (those of ``scenario``'s dataset for a folder
    written before runs kept them)."""
    path = folder / VOCABULARIES_NAME
    if not path.exists():
        return scenario.dataset.vocabularies
    return Vocabularies.from_dict(json.loads(path.read_text()))
