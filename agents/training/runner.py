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

from agents.learners.base import Learner
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
from agents.training.loop import Trainable, fit, read_checkpoint
from agents.training.offline import load_selected, offline_hooks, offline_sampler, side_agents
from agents.training.online import TEST_EVAL_SEED, EnvTransitions, evaluate_in_env, online_hooks
from agents.training.warm_start import check_learner, check_source, warm_start
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
    trainable = build_trainable(run)
    synchronise(trainable, run.world, run.config.seed)
    networks = trainable.networks()
    main = run.world.is_main
    if main:
        save_config(run.config, {name: net.config for name, net in networks.items()}, run.dir)
    dataset = run.scenario.dataset
    agent = QAgent(
        networks[spec.serve], vocabularies=dataset.vocabularies, trained_slots=dataset.slate_size
    )
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


def build_trainable(run: Run) -> Trainable:
    """The run's fresh trainable (initialised from the global torch RNG), warm-started from
    ``run.warm_start`` if set (:func:`~agents.training.warm_start.warm_start`)."""
    trainable = run.config.spec.make_trainable(run)
    if run.warm_start is not None:
        warm_start(trainable, run.warm_start, run.config.init_from)
    return trainable


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

    A run with ``init_from`` reads its offline source (:func:`read_init_from`) before its own
    folder exists; a resumed one does not read it again.

    :param world: this process's rank among data-parallel processes; ranks other than 0
        train only and return the run folder with empty metrics.
    :raises InputError: several processes asked for an online run or an agent not trained
        in steps; ``init_from`` is not a finished offline run of this run's agent and data.
    """
    check_distributable(config, world)
    warm_up = config.init_from is not None and resume_dir is None
    if warm_up:
        check_init_from_folder(config)  # before the data loads
    scenario = load_scenario(config)
    warm = read_init_from(config, scenario) if warm_up else None
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
        warm_start=warm,
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


def load_trainable(folder: str | Path, scenario: Scenario | None = None) -> tuple[Run, Trainable]:
    """A run folder's trainable (resume-mode :class:`Run` beside it) with the networks it ends
    with: the selected best-validation ones (``best.pt``) if the finished run ended with them,
    else the last checkpoint's.

    :param scenario: the run's scenario, if the caller has built it (else built here).
    """
    folder = Path(folder)
    config = load_config(folder)
    spec = config.spec
    if not spec.trained_by_loop:
        raise ValueError(f"{folder}: agent {config.agent!r} has no network to load")
    scenario = scenario or load_scenario(config)
    seed_everything(config)
    folder_run = Run(config, folder, scenario, logger=None, resume=True)
    trainable = spec.make_trainable(folder_run)
    metrics = read_metrics(folder) if (folder / METRICS_NAME).exists() else {}
    if "selected_step" in metrics:
        load_selected(folder / BEST_NAME, trainable)
    else:
        trainable.load_state_dict(read_checkpoint(folder)["trainable"])
    return folder_run, trainable


def load_agent(
    folder: str | Path, name: str | None = None, scenario: Scenario | None = None
) -> QAgent:
    """One trained network of a run folder (:func:`load_trainable`) as a ranker (eval mode).

    :param name: which of the trainable's networks (``"student"`` of a distillation run);
        None: the one the agent serves.
    :param scenario: the run's scenario, if the caller has built it (else built here).
    """
    folder_run, trainable = load_trainable(folder, scenario)
    networks = trainable.networks()
    name = name or folder_run.config.spec.serve
    if name not in networks:
        raise ValueError(f"{folder}: no network {name!r}; the run has {sorted(networks)}")
    vocabularies = load_vocabularies(Path(folder), folder_run.scenario)
    slots = folder_run.scenario.dataset.slate_size
    return QAgent(networks[name].eval(), vocabularies=vocabularies, trained_slots=slots)


def check_init_from_folder(config: TrainConfig) -> None:
    """:raises InputError: naming ``TrainConfig.init_from``: it is not a finished run folder,
    or one of another agent, data, split or width, or not offline
    (:func:`~agents.training.warm_start.check_source`)."""
    folder = Path(config.init_from)
    if not (folder / METRICS_NAME).is_file():
        raise InputError(
            f"TrainConfig.init_from={folder} is not a finished run folder (no {METRICS_NAME})"
        )
    check_source(config, load_config(folder), folder)


def read_init_from(config: TrainConfig, scenario: Scenario) -> Learner:
    """The trainable of the finished offline run ``config.init_from``, with its selected
    networks (:func:`load_trainable`), checked against this run.

    :raises InputError: naming ``TrainConfig.init_from``: what
        :func:`check_init_from_folder` refuses, another item vocabulary, not one learner.
    """
    check_init_from_folder(config)
    folder = Path(config.init_from)
    check_same_items("TrainConfig.init_from", folder, scenario)
    _, source = load_trainable(folder, scenario)
    check_learner(folder, source)
    return source


def check_same_items(field: str, folder: Path, scenario: Scenario) -> None:
    """:raises InputError: the run in ``folder`` has another item vocabulary (its
    ``vocabularies.json``) than ``scenario``'s dataset: its Q-values would score other items."""
    theirs = load_vocabularies(folder, scenario).items
    ours = scenario.dataset.vocabularies.items
    if theirs.digest_bytes() != ours.digest_bytes():
        raise InputError(
            f"{field}={folder}: its item_id vocabulary ({len(theirs)} items) differs from this "
            f"run's ({len(ours)} items); train it on the same log"
        )


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
