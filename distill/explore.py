"""Explore: score a pool of catalogue items at every state with the teacher and the student.

Per list, a recall draws M items (default 1,000, with repeats) shared by the list's K slots;
repeats are dropped before scoring, leaving U <= M distinct items. At transition (b, t) the
pool items that may be offered are those not placed in slots < t and not the logged action
a_t. Both networks score every (state, pool item) under ``no_grad`` in eval mode
(:func:`distill.scoring.score_pool`), reusing the states of the RL forward pass (each state
is computed once, never per item; they carry that pass's dropout).

Scoring runs in blocks of (state, item) pairs, so its working memory is the pool's item
halves ``[B, M, ...]``, the scores ``[B, K, M]`` and one cache-sized block, whatever the
catalogue size: nothing of shape ``[B, n_items]`` is ever built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor

from agents.data.batch import ListBatch
from agents.nn.qnetwork import QNetwork
from distill.scoring import BLOCK_PAIRS, score_pool


class Recall(Protocol):
    """The source of each list's pool (:class:`~agents.data.recall.PopularityRecall`,
    :class:`UniformRecall`)."""

    def sample(self, n: int, m: int) -> Tensor:
        """``[n, m]`` int64 item ids: the pools of n lists (repeats allowed)."""
        ...


class UniformRecall:
    """Pool items drawn uniformly from ``n_items``.

    :param n_items: catalogue size; :param generator: the seeded source of draws.
    """

    def __init__(self, n_items: int, generator: torch.Generator) -> None:
        self.n_items, self.generator = n_items, generator

    def sample(self, n: int, m: int) -> Tensor:
        """``[n, m]`` int64 item ids."""
        return torch.randint(self.n_items, (n, m), generator=self.generator)


def repeats(pool: Tensor) -> Tensor:
    """``[B, M]`` bool: True where the item already appears earlier in its row of ``pool``.

    Ids below M (a catalogue no larger than the pool): each item's first draw by one scatter
    into ``[B, max id + 1]``, no larger than the pool; larger ids: one stable sort per row.
    """
    n_lists, m = pool.shape
    n_ids = int(pool.max()) + 1 if pool.numel() else 0
    if n_ids <= m:
        position = torch.arange(m, device=pool.device).expand(n_lists, m)
        first = pool.new_full((n_lists, n_ids), m).scatter_reduce_(-1, pool, position, "amin")
        return first.gather(-1, pool) != position
    values, order = torch.sort(pool, dim=-1, stable=True)
    later = torch.zeros_like(pool, dtype=torch.bool)
    later[:, 1:] = values[:, 1:] == values[:, :-1]  # a repeat of the entry before it
    return torch.zeros_like(later).scatter_(-1, order, later)


def distinct_first(pool: Tensor) -> tuple[Tensor, Tensor]:
    """Each list's distinct items first (in draw order), repeats dropped where possible.

    :param pool: ``[B, M]``.
    :return: ``(pool [B, U], repeat [B, U])`` with U the most distinct items of a list; a list
        with fewer is padded with its repeats (in draw order), flagged True in ``repeat``.

    Cumulative counts place each entry (distinct ones first): a stable partition, no sort.
    """
    repeat = repeats(pool)
    first = ~repeat
    n_distinct = first.sum(dim=-1, keepdim=True)
    place = torch.where(repeat, n_distinct + repeat.cumsum(-1), first.cumsum(-1)) - 1
    u = int(n_distinct.max())
    placed = torch.empty_like(pool).scatter_(-1, place, pool)
    return placed[:, :u], torch.empty_like(repeat).scatter_(-1, place, repeat)[:, :u]


def offerable(
    pool: Tensor, repeat: Tensor, lists: ListBatch, rows: Tensor, slots: Tensor
) -> Tensor:
    """``[N, U]`` bool: pool items that may be offered at transitions (rows, slots).

    :param pool: ``[B, U]`` per list; :param repeat: ``[B, U]`` True for a repeated entry.
    :param lists: the batch's lists ``[B, K]``.
    :param rows: ``[N]``; :param slots: ``[N]`` slot t of each transition.
    An item is excluded if the list placed it in a slot <= t (slots < t and the logged a_t),
    or if it repeats an earlier pool entry.
    """
    same = (pool.unsqueeze(-1) == lists.items.unsqueeze(-2)) & lists.mask.unsqueeze(-2)
    k = same.shape[-1]  # [B, U, K]: the list placed the item in slot k
    first_slot = torch.where(same.any(-1), same.to(torch.uint8).argmax(-1), k)  # [B, U]
    first_slot.masked_fill_(repeat, -1)  # a repeat is never offered
    return first_slot[rows] > slots.unsqueeze(-1)


@dataclass(frozen=True)
class Exploration:
    """The scored pool of one batch.

    :param pool: ``[B, U]`` the distinct items of each list's pool (:func:`distinct_first`).
    :param teacher: ``[N, U]`` teacher Q of every (transition, pool item).
    :param student: ``[N, U]`` student Q.
    :param valid: ``[N, U]`` bool, :func:`offerable`.
    """

    pool: Tensor
    teacher: Tensor
    student: Tensor
    valid: Tensor


class Explorer:
    """Draws each list's pool and scores it with both networks.

    :param recall: the pool's source (:class:`~agents.data.recall.PopularityRecall`,
        :class:`UniformRecall`, or any :class:`Recall`).
    :param pool_size: M, pool items per list.
    :param block_pairs: (state, item) pairs scored at once (:func:`score_pool`).
    """

    def __init__(
        self, recall: Recall, pool_size: int = 1000, block_pairs: int = BLOCK_PAIRS
    ) -> None:
        if pool_size < 1:
            raise ValueError(f"pool_size must be >= 1, got {pool_size}")
        self.recall, self.pool_size, self.block_pairs = recall, pool_size, block_pairs

    def explore(
        self,
        lists: ListBatch,
        rows: Tensor,
        slots: Tensor,
        teacher: tuple[QNetwork, Tensor],
        student: tuple[QNetwork, Tensor],
    ) -> Exploration:
        """Score the pool at transitions (rows ``[N]``, slots ``[N]``) of ``lists``.

        :param teacher: ``(network, states [B, K, H_T])`` from its RL forward pass.
        :param student: ``(network, states [B, K, H_S])``.
        """
        drawn = self.recall.sample(len(lists), self.pool_size)
        if drawn.shape != (len(lists), self.pool_size):
            raise ValueError(
                f"recall returned a pool of shape {tuple(drawn.shape)}, expected "
                f"{(len(lists), self.pool_size)}"
            )
        pool, repeat = distinct_first(drawn)
        scores = [
            score_pool(network, states[rows, slots], pool, rows, self.block_pairs)
            for network, states in (teacher, student)
        ]
        return Exploration(pool, *scores, offerable(pool, repeat, lists, rows, slots))
