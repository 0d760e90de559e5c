"""Tensor batches shared by every learner: lists of placed items, and TD transitions over them."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import Tensor

from rec_env.data import PAD_ITEM, LoggedLists


@dataclass(frozen=True)
class ListBatch:
    """B lists of K slots: the context a Q-network reads (user, items placed, their clicks).

    :param user_ids: ``[B]`` int64.
    :param items: ``[B, K]`` int64 item ids, 0 in slots that hold no item (see ``mask``).
    :param clicks: ``[B, K]`` float32 in [0, 1]; a fraction is an expected click.
    :param mask: ``[B, K]`` bool, True where an item was placed.
    """

    user_ids: Tensor
    items: Tensor
    clicks: Tensor
    mask: Tensor

    @classmethod
    def from_lists(cls, lists: LoggedLists) -> ListBatch:
        """All rows of logged lists as tensors (padded ids become 0, masked out)."""
        return cls(
            user_ids=torch.as_tensor(lists.user_ids, dtype=torch.int64),
            items=torch.as_tensor(np.where(lists.mask, lists.items, 0), dtype=torch.int64),
            clicks=torch.as_tensor(lists.clicks, dtype=torch.float32),
            mask=torch.as_tensor(lists.mask, dtype=torch.bool),
        )

    @classmethod
    def from_observation(cls, observation: dict[str, np.ndarray]) -> ListBatch:
        """The lists being built in a ``ListwiseFeed`` vector env's batched observation.

        Empty slots (``PAD_ITEM``) become item 0, masked out; their clicks are 0.
        """
        items = np.asarray(observation["slate_items"])
        placed = items != PAD_ITEM
        return cls(
            user_ids=torch.as_tensor(observation["user"], dtype=torch.int64),
            items=torch.as_tensor(np.where(placed, items, 0), dtype=torch.int64),
            clicks=torch.as_tensor(observation["slate_clicks"], dtype=torch.float32),
            mask=torch.as_tensor(placed),
        )

    def __len__(self) -> int:
        return len(self.user_ids)

    @property
    def slate_size(self) -> int:
        return self.items.shape[1]

    def index(self, rows: Tensor | slice) -> ListBatch:
        """The lists at ``rows``."""
        return ListBatch(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


@dataclass(frozen=True)
class TDBatch:
    """Transitions (s_t, a_t, r_t, s_{t+1}) laid out on lists, so one pass gives every state.

    Slot t of row b holds the action a_t in ``lists.items[b, t]``; the state s_t reads slots
    < t and s_{t+1} reads slots <= t, so the same :class:`ListBatch` yields both. Offline,
    every shown slot is a transition; an online trainer fills a prefix and weights one slot.

    :param lists: ``[B, K]`` the placed items (actions) and their clicks (next states' context).
    :param rewards: ``[B, K]`` float32, r_t (clicks offline).
    :param weights: ``[B, K]`` float32, > 0 where (b, t) is a transition to learn from.
    :param done: ``[B, K]`` bool, True if the episode ends after slot t.
    :param next_items: ``[B, K, M]`` int64, candidate actions a' for slot t + 1; or ``[B, M]``
        when every slot of a list shares its candidates (online: the request's candidates).
    :param next_valid: ``[B, K, M]`` bool, False for candidates that may not be chosen.
    """

    lists: ListBatch
    rewards: Tensor
    weights: Tensor
    done: Tensor
    next_items: Tensor
    next_valid: Tensor

    @property
    def shared_candidates(self) -> bool:
        """True when ``next_items`` is ``[B, M]``, one candidate set per list."""
        return self.next_items.dim() == 2

    def next_candidates(self, rows: Tensor, slots: Tensor) -> Tensor:
        """``[N, M]`` the candidate actions a' of the transitions at (rows, slots)."""
        return self.next_items[rows] if self.shared_candidates else self.next_items[rows, slots]

    def transitions(self) -> tuple[Tensor, Tensor]:
        """``(rows [N], slots [N])`` of the transitions with positive weight, row-major."""
        rows, slots = torch.nonzero(self.weights > 0, as_tuple=True)
        return rows, slots
