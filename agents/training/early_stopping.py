"""Training to convergence: the early-stopping rule of a run and its step cap.

A run with ``TrainConfig.early_stopping`` stops at its first evaluation ``patience``
evaluations after its best validation AUC, or at a cap in epochs of its train lists (one
epoch: ``steps x batch_size / train lists``), and ends with its best network. The loop stops
(:func:`agents.training.loop.fit`), the evaluation hook decides
(:meth:`agents.training.hooks.Evaluate.done`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rec_env.checks import InputError, check_range, check_types

if TYPE_CHECKING:
    from agents.training.config import TrainConfig


@dataclass(frozen=True)
class EarlyStopping:
    """Train to convergence (``TrainConfig.early_stopping``, offline runs): stop once the
    validation AUC of the served network has not improved for ``patience`` evaluations, or at
    the cap; the run ends with its best network (``select_best``).

    The run stops at step ``best_step + patience * eval_every`` (ties keep the earlier best)
    or at the cap, ``ceil(max_epochs * train lists / batch_size)`` steps (one epoch: as many
    lists drawn as the train split holds), whichever comes first.
    """

    patience: int = 10
    """evaluations (eval_every steps each) without a new best validation AUC before stopping"""
    max_epochs: float | None = 10.0
    """cap on the steps, in epochs of the train lists (steps x batch_size / train lists);
    None: TrainConfig.steps is the cap"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong type or value."""
        check_types(self)
        check_range(self, ("patience",), low=1)
        if self.max_epochs is not None:
            check_range(self, ("max_epochs",), low=0, low_open=True)


def check_early_stopping(config: TrainConfig) -> None:
    """:raises InputError: early stopping asked of an online run, without ``select_best`` (it
    stops on the selected network's metric) or capped by ``steps`` below ``eval_every``."""
    if config.early_stopping is None:
        return
    if config.mode != "offline" or not config.select_best:
        raise InputError(
            "TrainConfig.early_stopping needs mode='offline' and select_best=True (it stops "
            f"on the validation AUC of the selected network), got mode={config.mode!r}, "
            f"select_best={config.select_best}"
        )
    if config.early_stopping.max_epochs is None and config.steps < config.eval_every:
        raise InputError(
            f"TrainConfig.steps ({config.steps}) caps an early-stopped run below eval_every "
            f"({config.eval_every}): no evaluation would ever select a network"
        )


def step_cap(config: TrainConfig, train_lists: int) -> int:
    """The most updates a run makes: ``steps``, or with ``early_stopping.max_epochs`` that many
    epochs of ``train_lists`` lists in batches of ``learner.batch_size`` (rounded up).

    :raises InputError: the cap is below ``eval_every`` (the run would stop unevaluated).
    """
    rule = config.early_stopping
    if rule is None or rule.max_epochs is None:
        return config.steps
    cap = math.ceil(rule.max_epochs * train_lists / config.learner.batch_size)
    if cap < config.eval_every:  # (a cap of `steps` is checked with the config)
        raise InputError(
            f"TrainConfig.early_stopping.max_epochs ({rule.max_epochs:g}) allows {cap} steps "
            f"of {config.learner.batch_size} of the {train_lists} train lists, fewer than "
            f"eval_every ({config.eval_every}): no evaluation would ever select a network"
        )
    return cap
