"""Explore: score a pool of catalogue items at every state with the teacher and the student.

Per list, a recall draws M items (default 1,000, with repeats) shared by the list's K slots;
repeats are dropped before scoring, leaving U <= M distinct items. At transition (b, t) the
pool items that may be offered are those not placed in slots < t and not the logged action a_t. Both networks score every
(state, pool item) under ``no_grad`` in eval mode, reusing the states of the RL forward pass
(each state is computed once, never per item; they carry that pass's dropout); the
state-independent half of Q is computed once per pool item (:meth:`QNetwork.candidates`).

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
from agents.learners.base import eval_mode
from agents.nn.qnetwork import QNetwork


class Recall(Protocol):
    """The source of each list's pool (:class:`~agents.data.recall.PopularityRecall`,
    :class:`UniformRecall`)."""

    def sample(self, n: int, m: int) -> Tensor:
        """``[n, m]`` int64 item ids: the pools of n lists (repeats allowed)."""
        ...


BLOCK_PAIRS = 10_000
"""(state, item) pairs scored at once: a few MiB of activations, cache-sized"""


class UniformRecall:
    """Pool items drawn uniformly from ``n_items``.

    :param n_items: catalogue size; :param generator: the seeded source of draws.
    """

    def __init__(self, n_items: int, generator: torch.Generator) -> None:
        self.n_items, self.generator = n_items, generator

    def sample(self, n: int, m: int) -> Tensor:
        """``[n, m]`` int64 item ids."""
        return torch.randint(self.n_items, (n, m), generator=self.generator)


def duplicates(pool: Tensor) -> Tensor:
    """``[B, M]`` bool: True where the item already appears earlier in its row of ``pool``."""
    order = torch.sort(pool, dim=-1, stable=True)
    repeat = torch.zeros_like(pool, dtype=torch.bool)
    repeat[:, 1:] = order.values[:, 1:] == order.values[:, :-1]
    return torch.zeros_like(repeat).scatter(-1, order.indices, repeat)


def distinct_first(pool: Tensor) -> tuple[Tensor, Tensor]:
    """Each list's distinct items first (in draw order), repeats dropped where possible.

    :param pool: ``[B, M]``.
    :return: ``(pool [B, U], repeat [B, U])`` with U the most distinct items of a list; a list
        with fewer is padded with its repeats, flagged True in ``repeat``.
    """
    repeat = duplicates(pool)
    order = torch.sort(repeat.to(torch.uint8), dim=-1, stable=True).indices
    keep = order[:, : int((~repeat).sum(dim=-1).max())]
    return pool.gather(-1, keep), repeat.gather(-1, keep)


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
    placed_by = same.cummax(dim=-1).values  # [B, U, K]: placed in a slot <= k
    return ~repeat[rows] & ~placed_by[rows, :, slots]


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


def position_in_list(rows: Tensor, n_lists: int) -> tuple[Tensor, int]:
    """Each transition's index among its list's transitions ``[N]``, and the most per list."""
    counts = torch.bincount(rows, minlength=n_lists)
    order = torch.argsort(rows, stable=True)
    first = torch.cumsum(counts, 0) - counts  # where each list starts in ``order``
    position = torch.empty_like(rows)
    position[order] = torch.arange(len(rows)) - first[rows[order]]
    return position, int(counts.max()) if len(rows) else 0


@torch.inference_mode()
def score_pool(
    network: QNetwork, states: Tensor, pool: Tensor, rows: Tensor, block_pairs: int = BLOCK_PAIRS
) -> Tensor:
    """``[N, M]`` Q of every pool item at every state, in eval mode.

    :param states: ``[N, H]`` one state per transition (detached here).
    :param pool: ``[B, M]`` the pool of each list; :param rows: ``[N]`` each state's list.

    The item half of Q is computed once per (list, pool item); the states are laid out per
    list ``[B, S, H]`` and broadcast against their list's pool in blocks of about
    ``block_pairs`` (state, item) pairs, small enough to stay in the CPU cache.
    """
    n_lists, m = pool.shape
    position, per_list = position_in_list(rows, n_lists)
    dense = states.new_zeros(n_lists, per_list, states.shape[-1])
    dense[rows, position] = states.detach()
    scores = states.new_empty(n_lists, per_list, m)
    item_block = min(m, max(1, block_pairs // max(1, per_list)))
    list_block = max(1, block_pairs // max(1, per_list * item_block))
    with eval_mode(network):
        halves = network.candidates(pool)  # [B, M, ...]
        for b in range(0, n_lists, list_block):
            for i in range(0, m, item_block):
                block = tuple(half[b : b + list_block, None, i : i + item_block] for half in halves)
                scores[b : b + list_block, :, i : i + item_block] = network.score(
                    dense[b : b + list_block], block
                )[0]
    return scores[rows, position]


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
