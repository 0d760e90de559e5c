"""Filters: which explored items become lessons, from the teacher's and the student's scores.

Every filter has one signature::

    filter(teacher_scores [N, M], student_scores [N, M], valid [N, M], k, generator)
        -> (index [N, F] into the M pool items, picked [N, F] bool)

``valid`` marks the pool items that may be offered at each state (not placed before, not
the logged action, not a duplicate); ``picked`` is False for slots of ``index`` that hold
nothing (fewer than k valid items, or a student pick the teacher already made). Among tied
scores the lower pool index comes first.

* ``dual_led`` (DRL-Rec): the teacher's top k, what the student should rank high, and the
  student's top k, what it may wrongly rank high; the student's picks already in the
  teacher's set are masked (F = 2k).
* ``teacher_led`` / ``student_led``: one side's top k (F = k).
* ``random``: 2k valid items drawn uniformly (F = 2k, dual-led's budget).
* ``disagreement``: the 2k items of largest ``|Q_T - Q_S|`` (F = 2k).
* ``none``: every pool item (F = M).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Filter = Callable[[Tensor, Tensor, Tensor, int, torch.Generator | None], tuple[Tensor, Tensor]]


def top_k(scores: Tensor, valid: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """The k highest valid ``scores [N, M]``: ``(index [N, min(k, M)], picked [N, min(k, M)])``,
    best first.

    Ties keep the lower index first; rows with fewer than k valid items pad with invalid picks.
    Cost: one partial top-(k + 1) pass over ``[N, M]``; only the rows where the k-th score ties
    the (k + 1)-th (rare with float scores, or fewer than k + 1 valid items) are resolved
    again by :func:`_ranked_ties`.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    k = min(k, scores.shape[-1])
    masked = scores.masked_fill(~valid, float("-inf"))
    values, index = masked.topk(min(k + 1, masked.shape[-1]), dim=-1)  # NaN ranks first
    if torch.isnan(values[:, :1]).any():
        raise ValueError("top_k: the scores contain NaN")
    index = _best_first(masked, index[:, :k].sort(dim=-1).values)
    if values.shape[-1] > k:  # the k-th score tied with the (k + 1)-th: which ties to keep
        tied = (values[:, k] == values[:, k - 1]).nonzero()[:, 0]
        if len(tied):
            index[tied] = _best_first(masked[tied], _lowest_index_top_k(masked[tied], k))
    return index, valid.gather(-1, index)


def _lowest_index_top_k(masked: Tensor, k: int) -> Tensor:
    """``[n, k]`` ascending index of the k highest of ``masked [n, M]``: every entry above the
    k-th score, then the lowest-index entries equal to it."""
    kth = masked.topk(k, dim=-1).values[:, -1:]  # [n, 1] the k-th largest score
    above, tied = masked > kth, masked == kth
    room = k - above.sum(dim=-1, keepdim=True)
    chosen = above | (tied & (tied.cumsum(dim=-1) <= room))  # exactly k per row
    return chosen.nonzero()[:, 1].view(len(masked), k)


def _best_first(masked: Tensor, index: Tensor) -> Tensor:
    """``index [n, k]`` (ascending per row) reordered by ``masked`` score, highest first; a
    stable sort, so ties keep the lower index first."""
    order = torch.sort(masked.gather(-1, index), dim=-1, descending=True, stable=True).indices
    return index.gather(-1, order)


def dual_led(
    teacher: Tensor, student: Tensor, valid: Tensor, k: int, generator=None
) -> tuple[Tensor, Tensor]:
    """Teacher top k + student top k, the student's picks already in the teacher's set masked."""
    teacher_index, teacher_picked = top_k(teacher, valid, k)
    student_index, student_picked = top_k(student, valid, k)
    same = student_index.unsqueeze(-1) == teacher_index.unsqueeze(-2)  # [N, k, k]
    taken = (same & teacher_picked.unsqueeze(-2)).any(-1)
    index = torch.cat([teacher_index, student_index], dim=-1)
    return index, torch.cat([teacher_picked, student_picked & ~taken], dim=-1)


def teacher_led(
    teacher: Tensor, student: Tensor, valid: Tensor, k: int, generator=None
) -> tuple[Tensor, Tensor]:
    """The teacher's top k."""
    return top_k(teacher, valid, k)


def student_led(
    teacher: Tensor, student: Tensor, valid: Tensor, k: int, generator=None
) -> tuple[Tensor, Tensor]:
    """The student's top k."""
    return top_k(student, valid, k)


def random(
    teacher: Tensor, student: Tensor, valid: Tensor, k: int, generator=None
) -> tuple[Tensor, Tensor]:
    """2k valid items drawn uniformly without replacement (per state)."""
    noise = torch.rand(valid.shape, generator=generator, device=valid.device)
    return top_k(noise, valid, 2 * k)


def disagreement(
    teacher: Tensor, student: Tensor, valid: Tensor, k: int, generator=None
) -> tuple[Tensor, Tensor]:
    """The 2k items where the two networks disagree most, ``|Q_T - Q_S|``."""
    return top_k((teacher - student).abs(), valid, 2 * k)


def none(
    teacher: Tensor, student: Tensor, valid: Tensor, k: int, generator=None
) -> tuple[Tensor, Tensor]:
    """Every pool item (k is ignored)."""
    index = torch.arange(valid.shape[-1], device=valid.device).expand(valid.shape)
    return index, valid


FILTERS: dict[str, Filter] = {
    "dual_led": dual_led,
    "teacher_led": teacher_led,
    "student_led": student_led,
    "random": random,
    "disagreement": disagreement,
    "none": none,
}
"""Every filter by name (``DistillOptions.filter``)."""
