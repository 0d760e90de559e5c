"""Offline mode: batches of logged training lists, evaluation on the validation lists.

Every ``eval_every`` updates the served network is scored on the validation lists (AUC,
GAUC, NDCG@10); with ``select_best`` the networks of the best validation AUC are kept and the
run ends with them (:class:`~agents.training.hooks.BestNetworks`).
"""

from __future__ import annotations

from functools import partial

import torch

from agents.data.logged import LoggedTransitions
from agents.metrics import evaluate_offline
from agents.serving import QAgent
from agents.training.config import Run
from agents.training.distributed import ShardedTransitions
from agents.training.hooks import BestNetworks, Evaluate
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
    select = BestNetworks(run.dir, trainable.networks()) if config.select_best else None
    return [
        Evaluate(
            lambda: evaluate_offline(agent, run.splits.valid),
            run.logger,
            config.eval_every,
            select=select,
            metric="auc",
            summary=run.summary,
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
    return [
        Evaluate(
            partial(evaluate_offline, side, valid),
            run.logger,
            run.config.eval_every,
            prefix=f"eval/{name}_valid_",
            name=f"evaluate_{name}",
        )
        for name, side in side_agents(trainable, agent).items()
    ]
