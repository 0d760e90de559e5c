"""Logged lists as the tensors a click-model fit trains on, and the counts it needs first."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rec_env.data.catalogue import item_counts
from rec_env.data.lists import LoggedLists
from rec_env.simulator.click_net import ClickNet


@dataclass(frozen=True)
class LogCounts:
    """What a fit needs to know about all of its training lists before the first step.

    :param item_slots: ``[n_items]`` int64 shown slots of each item.
    :param user_slots: ``[n_users]`` int64 shown slots of each user.
    :param clicks: clicks on the shown slots.
    :param n_lists: lists (requests).
    """

    item_slots: np.ndarray
    user_slots: np.ndarray
    clicks: int
    n_lists: int

    @classmethod
    def from_lists(cls, lists: LoggedLists) -> LogCounts:
        """The counts of ``lists``' shown slots."""
        length = lists.mask.sum(axis=1)
        n_users = len(lists.user_features)
        return cls(
            item_counts(lists),
            np.bincount(lists.user_ids, weights=length, minlength=n_users).astype(np.int64),
            int(lists.clicks[lists.mask].sum()),
            len(lists),
        )

    def __add__(self, other: LogCounts) -> LogCounts:
        return LogCounts(
            self.item_slots + other.item_slots,
            self.user_slots + other.user_slots,
            self.clicks + other.clicks,
            self.n_lists + other.n_lists,
        )

    @property
    def click_rate(self) -> float:
        """Clicks per shown slot."""
        return self.clicks / max(int(self.item_slots.sum()), 1)


@dataclass(frozen=True)
class ListTensors:
    """Logged lists as torch tensors, with the weights of the embedding prior.

    :param users: ``[N]`` user ids.
    :param items: ``[N, K]`` item ids, 0 where not shown.
    :param clicks: ``[N, K]`` float32.
    :param shown: ``[N, K]`` float32, 1 where an item was shown.
    :param user_prior: ``[N]`` the list's shown slots / its user's shown slots in all the
        training lists.
    :param item_prior: ``[N, K]`` 1 / the item's shown slots in all the training lists (0 where
        not shown). Summed over all training lists, each user's and item's prior weight is 1.
    """

    users: torch.Tensor
    items: torch.Tensor
    clicks: torch.Tensor
    shown: torch.Tensor
    user_prior: torch.Tensor
    item_prior: torch.Tensor

    @classmethod
    def from_lists(cls, lists: LoggedLists, counts: LogCounts | None = None) -> ListTensors:
        """The tensors of ``lists``; ``counts``: of all the training lists when ``lists`` are a
        chunk of them (None: ``lists`` are all of them)."""
        counts = counts if counts is not None else LogCounts.from_lists(lists)
        items = np.where(lists.mask, lists.items, 0)
        length = lists.mask.sum(axis=1)
        user_slots = counts.user_slots[lists.user_ids]
        item_slots = counts.item_slots[items]
        tensors = (
            lists.user_ids.astype(np.int64),
            items,
            lists.clicks.astype(np.float32),
            lists.mask.astype(np.float32),
            (length / np.maximum(user_slots, 1)).astype(np.float32),
            np.where(lists.mask, 1.0 / np.maximum(item_slots, 1), 0.0).astype(np.float32),
        )
        return cls(*(torch.from_numpy(t) for t in tensors))

    def __len__(self) -> int:
        return len(self.users)

    def bce(self, net: ClickNet, rows: torch.Tensor | slice) -> torch.Tensor:
        """Mean binary cross-entropy (nats) over the shown slots of lists ``rows``."""
        shown, clicks = self.shown[rows], self.clicks[rows]
        log_p = net.list_log_proba(self.users[rows], self.items[rows], clicks, shown)
        loss = -(clicks * log_p + (1.0 - clicks) * log1mexp(log_p))
        return (loss * shown).sum() / shown.sum().clamp(min=1.0)

    def prior(self, net: ClickNet, rows: torch.Tensor) -> torch.Tensor:
        """Unbiased batch estimate of ``sum ||id embedding||^2 / shown slots`` over all ids.

        Only the id embeddings are penalised, so an id with few logs shrinks towards what
        its features predict, not towards zero.
        """
        user = net.user_embedding(self.users[rows]).square().sum(-1) * self.user_prior[rows]
        item = net.item_embedding(self.items[rows]).square().sum(-1) * self.item_prior[rows]
        return (user.sum() + item.sum()) / self.shown[rows].sum().clamp(min=1.0)


def log1mexp(log_p: torch.Tensor) -> torch.Tensor:
    """``log(1 - exp(log_p))`` elementwise for ``log_p < 0``, accurate at both ends
    (Maechler's switch at ``log 1/2``)."""
    near_one = log_p > -np.log(2.0)
    return torch.where(
        near_one,
        torch.log(-torch.expm1(log_p.clamp(max=-1e-7))),
        torch.log1p(-torch.exp(log_p.clamp(max=-np.log(2.0)))),
    )
