"""Offline mode: batches of logged training lists, evaluation on the validation lists.

Every ``eval_every`` updates the served network is scored on the validation lists (AUC,
GAUC, NDCG@10); with ``select_best`` the networks of the best validation AUC are kept and the
run ends with them (:class:`~agents.training.hooks.BestNetworks`); with ``early_stopping`` it
also stops once ``patience`` evaluations found no better AUC.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import torch
from torch import nn

from agents.data.logged import LoggedTransitions
from agents.metrics import evaluate_offline
from agents.serving import QAgent
from agents.training.checkpoint import load_checkpoint
from agents.training.config import Run
from agents.training.distributed import ShardedTransitions
from agents.training.hooks import BestNetworks, Evaluate, side_evaluations
from agents.training.loop import Hook, Trainable


def offline_sampler(run: Run, generator: torch.Generator) -> LoggedTransitions:
    """Whole training lists drawn uniformly, next-slot candidates per ``learner.target``
    (with several processes, this rank's slice of each global batch)."""
    learner = run.config.learner
    lists, target, n_recall = run.splits.train, learner.target, learner.n_recall
    if run.world.size == 1:
        return LoggedTransitions(lists, target, n_recall, generator)
    return ShardedTransitions(lists, target, n_recall, generator, run.world, learner.batch_size)


def offline_hooks(run: Run, trainable: Trainable, agent: QAgent) -> list[Hook]:
    """Validation every ``eval_every`` updates; best-AUC selection if ``select_best``; the
    curves of the trainable's other networks too (:func:`side_network_hooks`)."""
    config = run.config
    select = BestNetworks(run.dir, selected_modules(trainable)) if config.select_best else None
    return [
        Evaluate(
            lambda: evaluate_offline(agent, run.splits.valid),
            run.logger,
            config.eval_every,
            select=select,
            metric="auc",
            summary=run.summary,
            patience=config.early_stopping.patience if config.early_stopping else None,
        ),
        *side_network_hooks(run, trainable, agent),
    ]


def side_agents(trainable: Trainable, agent: QAgent) -> dict[str, QAgent]:
    """A :class:`QAgent` of every network of ``trainable`` that ``agent`` does not serve (a
    distillation run's teacher), by name."""
    return {
        name: QAgent(network, vocabularies=agent.vocabularies)
        for name, network in trainable.networks().items()
        if network is not agent.network
    }


def side_network_hooks(run: Run, trainable: Trainable, agent: QAgent) -> list[Hook]:
    """The validation curve of every network the run does not serve, as the served one's:
    ``eval/<name>_valid_<metric>`` every ``eval_every`` updates; never selected on."""
    valid = run.splits.valid
    evaluators = {
        name: partial(evaluate_offline, side, valid)
        for name, side in side_agents(trainable, agent).items()
    }
    return side_evaluations(evaluators, run.logger, run.config.eval_every)


def selected_modules(trainable: Trainable) -> dict[str, nn.Module]:
    """What best-network selection keeps (``best.pt``), by name: the trainable's
    ``selected_modules()`` where it has one (a distiller's networks and hint projection), else
    its networks."""
    return getattr(trainable, "selected_modules", trainable.networks)()


def load_selected(path: Path, trainable: Trainable) -> None:
    """Load a ``best.pt`` file into :func:`selected_modules` (by name). Every network must be
    in it; another module that a file written before it was kept lacks keeps its weights."""
    states = load_checkpoint(path)["networks"]
    networks = trainable.networks()
    for name, module in selected_modules(trainable).items():
        if name in states or name in networks:
            module.load_state_dict(states[name])
