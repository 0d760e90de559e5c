"""Offline training from logged lists: the loop, periodic evaluation, checkpoints and resume.

A resumed run restores the network, target network, optimiser, step and both RNGs (global
torch for dropout, the run's generator for batch and recall draws), so it ends with the same
parameters, bit for bit, as an uninterrupted run with the same ``threads``.
"""

from __future__ import annotations

from tqdm.auto import tqdm

from agents.checkpoint import restore_training, save_training
from agents.metrics import evaluate_offline
from agents.offline_data import LoggedTransitions
from agents.run import (
    BASELINES,
    Run,
    make_baseline,
    make_learner,
    make_network,
    seed_everything,
)
from agents.serving import QAgent


def prefixed(metrics: dict[str, float], prefix: str) -> dict[str, float]:
    return {prefix + name: float(value) for name, value in metrics.items()}


def train_offline(run: Run):
    """Train ``run.config.agent`` on ``run.splits.train``; return the ranker (a scorer)."""
    config = run.config
    generator = seed_everything(config)
    train, valid = run.splits.train, run.splits.valid
    if config.agent in BASELINES:
        return make_baseline(config, train)
    network = make_network(config, train)
    learner = make_learner(config, network)
    sampler = LoggedTransitions(train, config.learner.target, config.learner.n_recall, generator)
    start = 0
    if run.resume:
        start = int(restore_training(run.dir, learner, sampler.generator)["step"])
    agent = QAgent(network)

    bar = tqdm(
        range(start + 1, config.steps + 1), initial=start, total=config.steps, desc=config.agent
    )
    for step in bar:
        scalars = learner.update(sampler.sample(config.learner.batch_size))
        if step % config.log_every == 0:
            run.logger.log(scalars, step)
            bar.set_postfix(loss=f"{scalars['losses/loss']:.4f}")
        if step % config.eval_every == 0:
            run.logger.log(prefixed(evaluate_offline(agent, valid), "eval/valid_"), step)
        if step % config.checkpoint_every == 0 or step == config.steps:
            save_training(run.dir, learner, sampler.generator, step=step)
    return agent
