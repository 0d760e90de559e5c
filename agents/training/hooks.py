"""Hooks of the training loop: periodic evaluation and best-network selection.

With selection on (offline runs, ``select_best``), the networks of the best validation metric
seen so far are kept in ``best.pt`` and the run ends with them (as SB3's ``EvalCallback``
keeps ``best_model``). Small logs overfit: on ml-100k the validation AUC peaks after a few
hundred steps. With a ``patience`` (``TrainConfig.early_stopping``) the run also stops once
``patience`` evaluations in a row found no better network (SB3's
``StopTrainingOnNoModelImprovement``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from torch import nn

from agents.training.checkpoint import load_checkpoint, save_checkpoint
from agents.training.logger import ScalarLogger
from agents.training.loop import Hook

BEST_NAME = "best.pt"


class BestNetworks:
    """Keeps the weights of named networks at their highest metric, in ``folder/best.pt``.

    :param folder: the run folder.
    :param networks: the networks to keep, by name (``Trainable.networks()``).
    """

    def __init__(self, folder: Path, networks: dict[str, nn.Module]) -> None:
        self.path = Path(folder) / BEST_NAME
        self.networks = networks
        self.value, self.step = float("-inf"), 0

    def offer(self, value: float, step: int) -> None:
        """Save the networks if ``value`` beats every value offered before (ties keep the
        earlier)."""
        if value > self.value:
            self.value, self.step = value, step
            states = {name: net.state_dict() for name, net in self.networks.items()}
            save_checkpoint(self.path, {"networks": states, "step": step})

    def restore(self) -> None:
        """Load the kept weights into the networks (nothing kept: left as they are)."""
        if self.step:
            load_networks(self.path, self.networks)


def load_networks(path: Path, networks: dict[str, nn.Module]) -> None:
    """Load a ``best.pt`` file's weights into ``networks`` (by name)."""
    states = load_checkpoint(path)["networks"]
    for name, network in networks.items():
        network.load_state_dict(states[name])


class Evaluate(Hook):
    """Every ``every`` updates: evaluate, log ``<prefix><metric>``, offer to selection.

    :param evaluate: ``() -> {metric: value}`` on the validation data.
    :param logger: the run's scalar sink.
    :param every: updates between evaluations.
    :param select: the keeper of the best networks, or None for no selection.
    :param metric: the metric that ``select`` maximises.
    :param summary: the run's ``metrics.json`` extras; gets ``selected_step`` at the end.
    :param patience: evaluations without a better metric after which :meth:`done` asks the
        loop to stop (None: never; needs ``select``).
    :param prefix: of the logged tags (``eval/teacher_valid_`` for a side network).
    :param name: the hook's checkpoint key, unique in a run.
    """

    def __init__(
        self,
        evaluate: Callable[[], dict[str, float]],
        logger: ScalarLogger,
        every: int,
        select: BestNetworks | None = None,
        metric: str = "auc",
        summary: dict | None = None,
        prefix: str = "eval/valid_",
        name: str = "evaluate",
        patience: int | None = None,
    ) -> None:
        if patience is not None and select is None:
            raise ValueError("Evaluate: a patience needs a select (it stops on its best)")
        self.evaluate, self.logger, self.every = evaluate, logger, every
        self.patience = patience
        self.prefix, self.name = prefix, name
        self.select, self.metric = select, metric
        self.summary = summary if summary is not None else {}

    def after_update(self, step: int, scalars: dict[str, float]) -> None:
        if step % self.every:
            return
        metrics = self.evaluate()
        self.logger.log({self.prefix + name: value for name, value in metrics.items()}, step)
        if self.select is not None:
            self.select.offer(metrics[self.metric], step)

    def done(self, step: int) -> bool:
        """True from the evaluation ``patience`` evaluations after the best one (step 0 if none
        was better than -inf): at step ``best_step + patience * every``."""
        if self.patience is None or self.select is None:
            return False
        return step - self.select.step >= self.patience * self.every

    def at_end(self) -> None:
        if self.select is not None and self.select.step:
            self.select.restore()
            self.summary["selected_step"] = self.select.step

    def state_dict(self) -> dict:
        if self.select is None:
            return {}
        return {"best_value": self.select.value, "best_step": self.select.step}

    def load_state_dict(self, state: dict) -> None:
        if self.select is not None and state:
            self.select.value, self.select.step = state["best_value"], int(state["best_step"])


def side_evaluations(
    evaluators: dict[str, Callable[[], dict[str, float]]], logger: ScalarLogger, every: int
) -> list[Evaluate]:
    """One :class:`Evaluate` per network the run does not serve (a distillation run's
    teacher), by name: ``eval/<name>_valid_<metric>`` every ``every`` updates, never selected
    on."""
    return [
        Evaluate(evaluate, logger, every, prefix=f"eval/{name}_valid_", name=f"evaluate_{name}")
        for name, evaluate in evaluators.items()
    ]
