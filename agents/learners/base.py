"""Shared learner machinery: the optimiser step, Polyak updates, eval mode, checkpointable state.

A learner turns a :class:`~agents.data.batch.TDBatch` into a loss and outputs
(:meth:`Learner.compute`) and applies gradients already computed (:meth:`Learner.apply`);
:meth:`Learner.update` does both for one learner alone. Several learners trained on one
joint loss (distillation) share the backward pass::

    for learner in learners: learner.zero_grad()
    loss = sum(weight * learner.compute(batch).loss ...) + extra terms
    loss.backward()
    for learner in learners: learner.apply()

Extra modules (a projection) train with a learner's network through :meth:`Learner.train_with`.
A learner is a :class:`~agents.training.loop.Trainable`; the loop owns the data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from agents.data.batch import TDBatch
from agents.nn.qnetwork import QNetwork
from rec_env.checks import check_range, check_types


@dataclass(frozen=True)
class LearnerConfig:
    """Optimisation settings shared by every learner (defaults: official DRL-Rec code)."""

    learning_rate: float = 2e-4
    """Adam learning rate"""
    factor_learning_rate: float = 3e-3
    """Adam learning rate of the per-id MF biases and factors (each row is in few batches)"""
    factor_weight_decay: float = 0.0
    """decoupled (AdamW) weight decay of the MF tables, every row every step: the L2 prior of
    a full-batch MF fit, which shrinks rarely seen users and items most"""
    max_grad_norm: float = 5.0
    """gradients are clipped to this global L2 norm"""
    batch_size: int = 256
    """lists per update"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong type or out of range."""
        check_types(self)
        rates = ("learning_rate", "factor_learning_rate", "max_grad_norm")
        check_range(self, rates, low=0, low_open=True)
        check_range(self, ("factor_weight_decay",), low=0)
        check_range(self, ("batch_size",), low=1)


@dataclass(frozen=True)
class LearnerOutput:
    """What one forward pass over a batch produced, for logging and for wrappers (distillation).

    :param loss: scalar, the learner's own loss.
    :param q: ``[N]`` Q(s_t, a_t) (a logit for the supervised learner) of the batch's transitions.
    :param target: ``[N]`` regression target: the TD target y, or the click.
    :param rows: ``[N]`` row of each transition; :param slots: ``[N]`` its slot t.
    :param states: ``[B, K, H]`` online states of every slot (with gradient).
    :param hint: ``[N, hint_dim]`` hint layer at (s_t, a_t).
    """

    loss: Tensor
    q: Tensor
    target: Tensor
    rows: Tensor
    slots: Tensor
    states: Tensor
    hint: Tensor


def polyak_update(source: nn.Module, target: nn.Module, tau: float) -> None:
    """``target <- tau * source + (1 - tau) * target`` for parameters; buffers are copied.

    ``tau=1`` is a hard copy.
    """
    with torch.no_grad():
        for theirs, ours in zip(source.parameters(), target.parameters(), strict=True):
            if tau == 1.0:
                ours.copy_(theirs)
            else:
                ours.lerp_(theirs, tau)
        for theirs, ours in zip(source.buffers(), target.buffers(), strict=True):
            ours.copy_(theirs)


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Temporarily switch ``module`` to eval mode (no dropout); every submodule's mode is restored."""
    modes = [(sub, sub.training) for sub in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for sub, training in modes:
            sub.training = training


def q_at_actions(
    network: QNetwork, batch: TDBatch
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Online forward over the batch's transitions.

    :return: ``(q [N], hint [N, hint_dim], rows [N], slots [N], states [B, K, H])``.
    """
    states = network.state(batch.lists)
    rows, slots = batch.transitions()
    actions = batch.lists.items[rows, slots].unsqueeze(-1)  # [N, 1]
    q, hint = network.q(states[rows, slots], actions, return_hint=True)
    return q[:, 0], hint[:, 0], rows, slots, states


def weighted_mean(values: Tensor, batch: TDBatch, rows: Tensor, slots: Tensor) -> Tensor:
    """Mean of ``[N]`` per-transition values weighted by ``batch.weights``."""
    weights = batch.weights[rows, slots]
    return (values * weights).sum() / weights.sum().clamp_min(1e-12)


class Learner:
    """Owns a network and its Adam optimiser; subclasses define :meth:`compute`.

    The optimiser has one parameter group for the network's dense weights, one for its MF
    tables (own learning rate and decay), and one per module added by :meth:`train_with`;
    gradient clipping covers every group.

    :param network: the online Q-network, trained in place.
    :param config: learning rate, clipping, batch size.
    """

    def __init__(self, network: QNetwork, config: LearnerConfig) -> None:
        self.network = network
        self.config = config
        factors = {id(p) for p in network.factor_parameters()}
        groups = [
            {"params": [p for p in network.parameters() if id(p) not in factors]},
            {
                "params": network.factor_parameters(),
                "lr": config.factor_learning_rate,
                "weight_decay": config.factor_weight_decay,
                "decoupled_weight_decay": True,
            },
        ]
        self.optimizer = torch.optim.Adam(groups, lr=config.learning_rate)
        self.extra_modules: list[nn.Module] = []
        self.n_updates = 0
        self.reduce_gradients: Callable[[list[Tensor]], None] | None = None
        """called on :meth:`parameters` before clipping (data-parallel training averages
        the gradients over processes here); None: nothing"""

    def compute(self, batch: TDBatch) -> LearnerOutput:
        """Loss and per-transition tensors of one batch (no optimiser step)."""
        raise NotImplementedError

    def train_with(self, module: nn.Module, learning_rate: float | None = None) -> None:
        """Train ``module``'s parameters with this learner's optimiser (a parameter group at
        ``learning_rate``, default the learner's); its state is in :meth:`state_dict`."""
        group = {"params": list(module.parameters())}
        if learning_rate is not None:
            group["lr"] = learning_rate
        self.optimizer.add_param_group(group)
        self.extra_modules.append(module)

    def parameters(self) -> list[Tensor]:
        """Every parameter the optimiser updates."""
        return [p for group in self.optimizer.param_groups for p in group["params"]]

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)

    def apply(self) -> float:
        """Clip the gradients already in ``.grad`` (first passed to ``reduce_gradients``, if
        set), take an Adam step, run :meth:`after_step`; return the pre-clip gradient norm."""
        if self.reduce_gradients is not None:
            self.reduce_gradients(self.parameters())
        norm = nn.utils.clip_grad_norm_(self.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        self.n_updates += 1
        self.after_step()
        return float(norm)

    def after_step(self) -> None:
        """Hook run after every optimiser step (e.g. target-network updates)."""

    def update(self, batch: TDBatch) -> dict[str, float]:
        """One gradient step on ``batch`` alone; returns scalars tagged for logging."""
        self.network.train()
        self.zero_grad()
        out = self.compute(batch)
        out.loss.backward()
        return {**scalars(out), "losses/grad_norm": self.apply()}

    def networks(self) -> dict[str, nn.Module]:
        """``{"network": the online Q-network}``."""
        return {"network": self.network}

    def state_dict(self) -> dict:
        """Tensors and primitives only (loads with ``torch.load(weights_only=True)``)."""
        return {
            "network": self.network.state_dict(),
            "extra_modules": [module.state_dict() for module in self.extra_modules],
            "optimizer": self.optimizer.state_dict(),
            "n_updates": self.n_updates,
        }

    def load_state_dict(self, state: dict) -> None:
        self.network.load_state_dict(state["network"])
        for module, module_state in zip(self.extra_modules, state["extra_modules"], strict=True):
            module.load_state_dict(module_state)
        self.optimizer.load_state_dict(state["optimizer"])
        self.n_updates = state["n_updates"]


def scalars(out: LearnerOutput, prefix: str = "losses/") -> dict[str, float]:
    """The logged scalars of one learner's output: loss, mean Q, mean target."""
    return {
        f"{prefix}loss": out.loss.item(),
        f"{prefix}q_mean": out.q.mean().item(),
        f"{prefix}target_mean": out.target.mean().item(),
    }
