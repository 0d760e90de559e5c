"""Distillation losses: pure functions of tensors. The teacher's side is always detached.

A *lesson* is a short list of items scored at one state (the logged action and the filtered
explored items), or the K logged slots of one list (``kl_over="positions"``). Entries are
``[N, L]`` with a ``valid [N, L]`` mask; a state without a valid entry adds nothing.

Confidence c (:mod:`distill.confidence`) scales the *gradient* each student score receives,
not its value: ``Q~_S = c Q_S + (1 - c) stopgrad(Q_S)`` equals Q_S in the forward pass.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

MASKED_LOGIT = -1e9
"""logit of an invalid entry: exp() underflows to 0 without the NaN gradients of -inf"""


def confidence_scaled(scores: Tensor, confidence: Tensor) -> Tensor:
    """``c * scores + (1 - c) * stopgrad(scores)``: the same values (exactly), gradients
    times c."""
    return scores.detach() + confidence * (scores - scores.detach())


def _mean_over_states(per_state: Tensor, valid: Tensor) -> Tensor:
    """Mean of ``[N]`` over the states with at least one valid entry (0 if none)."""
    has_lesson = valid.any(dim=-1)
    return (per_state * has_lesson).sum() / has_lesson.sum().clamp_min(1)


def listwise_kl(
    teacher: Tensor,
    student: Tensor,
    valid: Tensor,
    confidence: Tensor | None = None,
    teacher_temperature: float = 1.0,
    student_temperature: float = 1.0,
) -> Tensor:
    """Mean over states of ``KL(softmax(Q_T / tau_T) || softmax(Q~_S / tau_S))`` over each
    state's valid entries.

    :param teacher: ``[N, L]`` teacher scores (detached here).
    :param student: ``[N, L]`` student scores.
    :param valid: ``[N, L]`` bool.
    :param confidence: ``[N, L]`` in [0, 1], scales each student score's gradient; None: 1.
    """
    if confidence is not None:
        student = confidence_scaled(student, confidence)
    log_p = F.log_softmax(
        (teacher.detach() / teacher_temperature).masked_fill(~valid, MASKED_LOGIT), -1
    )
    log_q = F.log_softmax((student / student_temperature).masked_fill(~valid, MASKED_LOGIT), -1)
    per_state = (log_p.exp() * (log_p - log_q) * valid).sum(dim=-1)
    return _mean_over_states(per_state, valid)


def hint_loss(
    student_hint: Tensor, teacher_hint: Tensor, valid: Tensor, confidence: Tensor | None = None
) -> Tensor:
    """``mean_i c_i * mean_d (W h_S,i + b - h_T,i)^2`` over the valid entries i.

    :param student_hint: ``[N, L, D]`` the student's hint layer, already projected to the
        teacher's width D.
    :param teacher_hint: ``[N, L, D]`` the teacher's (detached here).
    :param valid: ``[N, L]`` bool; :param confidence: ``[N, L]``, None: 1.
    """
    squared = ((student_hint - teacher_hint.detach()) ** 2).mean(dim=-1)  # [N, L]
    return _weighted_mean(squared, valid, confidence)


def q_regression(
    teacher: Tensor, student: Tensor, valid: Tensor, confidence: Tensor | None = None
) -> Tensor:
    """Q-value distillation: ``mean_i c_i (Q_S,i - Q_T,i)^2`` over the valid entries i, in
    clicks squared. Unlike a softmax over a lesson it is not invariant to a per-state shift of
    Q, so it passes on the teacher's calibration across states.

    :param teacher: ``[N, L]`` teacher Q (detached here); :param student: ``[N, L]``.
    :param valid: ``[N, L]`` bool; :param confidence: ``[N, L]``, None: 1.
    """
    return _weighted_mean((student - teacher.detach()) ** 2, valid, confidence)


def _weighted_mean(values: Tensor, valid: Tensor, confidence: Tensor | None) -> Tensor:
    """``sum_i c_i values_i / (number of valid i)`` of ``[N, L]`` values (0 if none valid);
    c is detached, None: 1."""
    weights = valid.float() if confidence is None else confidence.detach() * valid
    return (values * weights).sum() / valid.sum().clamp_min(1)


def ranking_loss(student: Tensor, picked: Tensor, decay: float = 1.0) -> Tensor:
    """Ranking distillation (Tang and Wang, 2018): the teacher's top items as extra positives.

    ``mean over states of sum_r w_r * softplus(-Q_S(s, pi_r)) / sum_r w_r`` with
    ``w_r = exp(-r / decay)`` for the teacher's rank r (0 = its best), over valid picks.

    :param student: ``[N, k]`` student scores of the teacher's top k, best first.
    :param picked: ``[N, k]`` bool, valid picks.
    """
    ranks = torch.arange(student.shape[-1], device=student.device, dtype=student.dtype)
    weights = torch.exp(-ranks / decay) * picked
    per_state = (weights * F.softplus(-student)).sum(-1) / weights.sum(-1).clamp_min(1e-12)
    return _mean_over_states(per_state, picked)
