"""Supervised click model: the same `QNetwork`, trained with BCE on logged clicks, no RL.

Its Q output is a click logit of (s_t, a_t); used as a ranker it is the myopic (gamma = 0)
baseline that DDQN should match on AUC and beat on list-level reward.
"""

from __future__ import annotations

import torch.nn.functional as F

from agents.data.batch import TDBatch
from agents.learners.base import Learner, LearnerOutput, q_at_actions, weighted_mean


class SupervisedLearner(Learner):
    """Binary cross-entropy of Q(s_t, a_t) (a logit) against the reward r_t (the click)."""

    def compute(self, batch: TDBatch) -> LearnerOutput:
        # 1. Online pass: every slot's state at once, the logit at the logged actions.
        q, hint, rows, slots, states = q_at_actions(self.network, batch)
        # 2. BCE against the click, weighted over the batch's transitions.
        target = batch.rewards[rows, slots]
        losses = F.binary_cross_entropy_with_logits(q, target, reduction="none")
        loss = weighted_mean(losses, batch, rows, slots)
        return LearnerOutput(loss, q, target, rows, slots, states, hint)
