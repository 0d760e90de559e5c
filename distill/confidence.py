"""Confidence: how much the student should trust each of the teacher's scores.

On a logged (labelled) transition the teacher's TD error tells how right it is::

    delta = y_T - Q_T(s_t, a_t)         (y_T: the teacher's own TD target)
    c     = 1 - delta^2 / (max_batch delta^2 + 1e-6)        in (0, 1], no gradient

(the official DRL-Rec code). An explored item has no label: it gets the batch mean of c
(the paper). ``uniform`` (c = 1 everywhere) is the ablation without confidence.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

EPSILON = 1e-6
"""added to the largest squared TD error, so the worst transition keeps a little weight"""

Confidence = Callable[[Tensor, Tensor], Tensor]


def td_confidence(q: Tensor, target: Tensor) -> Tensor:
    """``[N]`` c = 1 - delta^2 / (max delta^2 + 1e-6) of the teacher's Q ``[N]`` and TD
    target ``[N]`` over the batch's transitions; detached."""
    delta = (target - q).detach() ** 2
    if delta.numel() == 0:
        return delta
    return 1.0 - delta / (delta.max() + EPSILON)


def uniform_confidence(q: Tensor, target: Tensor) -> Tensor:
    """``[N]`` ones: every teacher score trusted alike."""
    return torch.ones_like(q).detach()


CONFIDENCES: dict[str, Confidence] = {"td": td_confidence, "uniform": uniform_confidence}
"""Every confidence by name (``DistillOptions.confidence``)."""


def lesson_confidence(logged: Tensor, n_explored: int) -> Tensor:
    """``[N, 1 + n_explored]``: each transition's own c for its logged action, then the batch
    mean of c for each explored item.

    :param logged: ``[N]`` confidence of the logged transitions.
    """
    explored = logged.mean().expand(len(logged), n_explored)
    return torch.cat([logged.unsqueeze(-1), explored], dim=-1)
