"""Offline training from logged lists: the loop, periodic evaluation, checkpoints and resume.

A resumed run restores the network, target network, optimiser, step and both RNGs (global
torch for dropout, the run's generator for batch and recall draws), so it ends with the same
parameters, bit for bit, as an uninterrupted run with the same ``threads``.

With ``select_best`` (the default) the network of the best validation AUC seen so far is also
kept, in ``best.pt``; the run ends with it (early stopping, as SB3's ``EvalCallback`` keeps
``best_model``). Small logs overfit: on ml-100k the validation AUC peaks after a few hundred
steps.
"""

from __future__ import annotations

from pathlib import Path

from tqdm.auto import tqdm

from agents.checkpoint import load_checkpoint, restore_training, save_checkpoint, save_training
from agents.metrics import evaluate_offline
from agents.offline_data import LoggedTransitions
from agents.qnetwork import QNetwork
from agents.run import (
    BASELINES,
    Run,
    initial_network,
    make_baseline,
    make_learner,
    seed_everything,
)
from agents.serving import QAgent

BEST_NAME = "best.pt"


def prefixed(metrics: dict[str, float], prefix: str) -> dict[str, float]:
    return {prefix + name: float(value) for name, value in metrics.items()}


class BestNetwork:
    """Keeps the network weights of the highest validation AUC in ``folder/best.pt``.

    :param folder: the run folder.
    """

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / BEST_NAME
        self.auc, self.step = float("-inf"), 0

    def offer(self, network: QNetwork, auc: float, step: int) -> None:
        """Save ``network`` if ``auc`` beats every AUC offered before (ties keep the earlier)."""
        if auc > self.auc:
            self.auc, self.step = auc, step
            save_checkpoint(self.path, {"network": network.state_dict(), "step": step})

    def state(self) -> dict[str, float | int]:
        return {"best_auc": self.auc, "best_step": self.step}

    def load_state(self, state: dict) -> None:
        self.auc, self.step = float(state["best_auc"]), int(state["best_step"])

    def restore_into(self, network: QNetwork) -> None:
        """Load the kept weights into ``network`` (nothing kept: left as it is)."""
        if self.step:
            network.load_state_dict(load_checkpoint(self.path)["network"])


def train_offline(run: Run):
    """Train ``run.config.agent`` on ``run.splits.train``; return the ranker (a scorer)."""
    config = run.config
    generator = seed_everything(config)
    train, valid = run.splits.train, run.splits.valid
    if config.agent in BASELINES:
        return make_baseline(config, run.splits)
    network = initial_network(run)
    learner = make_learner(config, network)
    sampler = LoggedTransitions(train, config.learner.target, config.learner.n_recall, generator)
    best = BestNetwork(run.dir)
    start = 0
    if run.resume:
        state = restore_training(run.dir, learner, sampler.generator)
        start = int(state["step"])
        best.load_state(state)
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
            metrics = evaluate_offline(agent, valid)
            run.logger.log(prefixed(metrics, "eval/valid_"), step)
            if config.select_best:
                best.offer(network, metrics["auc"], step)
        if step % config.checkpoint_every == 0 or step == config.steps:
            save_training(run.dir, learner, sampler.generator, step=step, **best.state())
    if config.select_best and best.step:
        best.restore_into(network)
        run.summary["selected_step"] = best.step
    return agent
