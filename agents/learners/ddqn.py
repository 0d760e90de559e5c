"""DDQN on list-wise transitions: Huber TD loss against a Polyak-averaged target network.

The TD target of transition (s_t, a_t, r_t, s_{t+1}) is::

    y = r_t + gamma * (1 - done_t) * Q_target(s_{t+1}, a*),
    a* = argmax_{a' in candidates, valid} Q_online(s_{t+1}, a')

With the logged next item as the only candidate (``target="logged"``, the official DRL-Rec
code) this is plain SARSA-style evaluation of the logging policy; with the list's remaining
items plus a popularity recall (``target="double"``) it is Double DQN (van Hasselt et al.).
Which candidates a batch carries is the data source's choice (:mod:`agents.data.logged`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from agents.data.batch import TDBatch
from agents.learners.base import (
    Learner,
    LearnerConfig,
    LearnerOutput,
    eval_mode,
    polyak_update,
    q_at_actions,
    weighted_mean,
)
from agents.nn.qnetwork import QNetwork
from rec_env.checks import check_range


@dataclass(frozen=True)
class DDQNConfig(LearnerConfig):
    """DDQN settings; defaults from the official DRL-Rec code (gamma 0.4, tau 0.005)."""

    gamma: float = 0.4
    """discount per slot"""
    tau: float = 0.005
    """Polyak coefficient of the target update (1.0 = hard copy)"""
    target_update_every: int = 1
    """optimiser steps between target updates (use with tau=1.0 for hard updates)"""
    huber_delta: float = 1.0
    """Huber loss threshold between quadratic and linear"""
    target: Literal["double", "logged"] = "double"
    """a' of the TD target: online argmax over candidates ("double") or the logged next item"""
    n_recall: int = 32
    """popularity-recall items added to the next slot's candidates (target="double")"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong type or out of range."""
        super().__post_init__()  # types of every field, Literal target included
        check_range(self, ("gamma",), low=0, high=1)
        check_range(self, ("tau",), low=0, high=1, low_open=True)
        check_range(self, ("huber_delta",), low=0, low_open=True)
        check_range(self, ("target_update_every",), low=1)
        check_range(self, ("n_recall",), low=0)


def greedy_choice(q: Tensor, valid: Tensor) -> Tensor:
    """``[N]`` index of the largest of ``q [N, M]`` among ``valid [N, M]`` (-inf elsewhere)."""
    return q.masked_fill(~valid, float("-inf")).argmax(dim=-1)


def bootstrapped(rewards: Tensor, terminal: Tensor, next_value: Tensor, gamma: float) -> Tensor:
    """``[N]`` y = r + gamma * next_value, with next_value 0 where ``terminal``."""
    return rewards + gamma * torch.where(terminal, torch.zeros_like(next_value), next_value)


def double_dqn_target(
    rewards: Tensor,
    done: Tensor,
    q_target_next: Tensor,
    q_online_next: Tensor,
    valid: Tensor,
    gamma: float,
) -> Tensor:
    """Masked Double-DQN target, a pure function of tensors (what :meth:`DDQN.td_target` computes).

    :param rewards: ``[N]`` r_t.
    :param done: ``[N]`` bool, no next slot.
    :param q_target_next: ``[N, M]`` Q_target(s_{t+1}, a') of every candidate.
    :param q_online_next: ``[N, M]`` Q_online(s_{t+1}, a'), used only to pick a*.
    :param valid: ``[N, M]`` bool; invalid candidates get -inf before the argmax.
    :return: ``[N]`` y; a transition with no valid candidate is treated as terminal.
    """
    best = greedy_choice(q_online_next, valid)
    next_value = q_target_next.gather(-1, best.unsqueeze(-1)).squeeze(-1)
    return bootstrapped(rewards, done | ~valid.any(dim=-1), next_value, gamma)


class DDQN(Learner):
    """Double DQN learner over :class:`~agents.data.batch.TDBatch` transitions.

    :param network: the online Q-network (trained in place); the target is a deep copy,
        always in eval mode.
    :param config: discount, target updates, optimisation.
    """

    def __init__(self, network: QNetwork, config: DDQNConfig | None = None) -> None:
        config = config or DDQNConfig()
        super().__init__(network, config)
        self.target_network = copy.deepcopy(network).eval().requires_grad_(False)

    def td_target(self, batch: TDBatch, rows: Tensor, slots: Tensor) -> Tensor:
        """``[N]`` TD targets of the transitions at (rows, slots); call under ``no_grad``.

        Only the chosen a* goes through the target network (:meth:`online_next_q` picks it).
        """
        next_slots = (slots + 1).clamp(max=batch.lists.slate_size - 1)
        candidates = batch.next_candidates(rows, slots)  # [N, M]
        valid = batch.next_valid[rows, slots]
        best = torch.zeros(len(rows), dtype=torch.int64, device=candidates.device)
        if candidates.shape[-1] > 1:  # a single candidate (the logged item): nothing to choose
            best = greedy_choice(self.online_next_q(batch)[rows, slots], valid)
        target = self.target_network
        chosen = candidates.gather(-1, best.unsqueeze(-1))  # [N, 1]
        next_value = target.q(target.state(batch.lists)[rows, next_slots], chosen).squeeze(-1)
        terminal = batch.done[rows, slots] | ~valid.any(dim=-1)
        return bootstrapped(batch.rewards[rows, slots], terminal, next_value, self.config.gamma)

    def online_next_q(self, batch: TDBatch) -> Tensor:
        """``[B, K, M]`` Q_online(s_{t+1}, a') of every slot's next candidates (eval mode).

        Computed on the batch's own layout, never gathered per transition: the candidates'
        half of Q once per list when the batch shares candidates across slots (``[B, M]``),
        broadcast against the ``[B, K]`` next states (slot K - 1 reads itself: it is terminal).
        """
        k = batch.lists.slate_size
        next_slot = (torch.arange(k, device=batch.next_items.device) + 1).clamp(max=k - 1)
        with eval_mode(self.network) as online:
            halves = online.candidates(batch.next_items)
            if batch.shared_candidates:
                halves = tuple(half.unsqueeze(1) for half in halves)  # [B, 1, M, ...]
            q, _ = online.score(online.state(batch.lists)[:, next_slot], halves)
        return q

    def compute(self, batch: TDBatch) -> LearnerOutput:
        # 1. Online pass: every slot's state at once, Q(s_t, a_t) at the logged actions.
        q, hint, rows, slots, states = q_at_actions(self.network, batch)
        # 2. TD target from the target network (online argmax for Double DQN), no gradient.
        with torch.no_grad():
            target = self.td_target(batch, rows, slots)
        # 3. Huber loss, weighted over the batch's transitions (padded slots weigh 0).
        losses = F.huber_loss(q, target, reduction="none", delta=self.config.huber_delta)
        loss = weighted_mean(losses, batch, rows, slots)
        return LearnerOutput(loss, q, target, rows, slots, states, hint)

    def after_step(self) -> None:
        # 4. Soft (or periodic hard) target update.
        if self.n_updates % self.config.target_update_every == 0:
            polyak_update(self.network, self.target_network, self.config.tau)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "target_network": self.target_network.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.target_network.load_state_dict(state["target_network"])
