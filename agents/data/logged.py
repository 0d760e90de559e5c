"""Logged lists as TD batches: every shown slot is a transition, reward = click.

Slot t is terminal when slot t + 1 shows nothing (the end of the shown list). The next
slot's candidate actions are either the logged next item (``"logged"``) or the list's items
not yet placed plus items drawn from a popularity recall (``"double"``,
:class:`~agents.data.recall.PopularityRecall`); recall items already placed in slots <= t
are masked out.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from agents.data.batch import ListBatch, TDBatch
from agents.data.recall import PopularityRecall
from rec_env.data import LoggedLists, item_counts


def terminal_slots(mask: Tensor) -> Tensor:
    """``[B, K]`` bool: True where slot t + 1 shows no item (or t is the last slot)."""
    return torch.cat([~mask[:, 1:], torch.ones_like(mask[:, :1])], dim=1)


def logged_next(lists: ListBatch) -> tuple[Tensor, Tensor]:
    """The logged item of slot t + 1 as the only candidate: ``([B, K, 1], [B, K, 1])``."""
    items = torch.cat([lists.items[:, 1:], torch.zeros_like(lists.items[:, :1])], dim=1)
    valid = ~terminal_slots(lists.mask)
    return items.unsqueeze(-1), valid.unsqueeze(-1)


def double_next(lists: ListBatch, recall: Tensor) -> tuple[Tensor, Tensor]:
    """The list's items after slot t plus recalled items: ``([B, K + R], [B, K, K + R])``.

    Every slot of a list shares one candidate set (its K items, then the R recalled ones);
    the mask alone differs by slot, so the candidates' half of Q is computed once per list.

    :param recall: ``[B, R]`` item ids per list, shared by its slots; a recalled item is
        invalid at slot t if the list placed it in a slot <= t.
    """
    k = lists.items.shape[1]
    slot = torch.arange(k, device=lists.items.device)
    later = slot[None, :] > slot[:, None]  # [t, j]: slot j comes after slot t
    remaining_valid = later[None] & lists.mask[:, None, :]  # [B, K, K]
    placed = ~later[None] & lists.mask[:, None, :]  # [B, K, K]: slot j <= t holds an item
    same = recall[:, None, :, None] == lists.items[:, None, None, :]  # [B, 1, R, K]
    recall_valid = ~(same & placed[:, :, None, :]).any(-1)  # [B, K, R]
    items = torch.cat([lists.items, recall], -1)
    return items, torch.cat([remaining_valid, recall_valid], dim=-1)


def td_batch(lists: ListBatch, next_items: Tensor, next_valid: Tensor) -> TDBatch:
    """Every shown slot of logged lists as a transition with reward = click."""
    return TDBatch(
        lists=lists,
        rewards=lists.clicks,
        weights=lists.mask.float(),
        done=terminal_slots(lists.mask),
        next_items=next_items,
        next_valid=next_valid,
    )


class LoggedTransitions:
    """Samples TD batches of whole logged lists, uniformly with replacement.

    :param lists: the training lists.
    :param target: ``"logged"`` or ``"double"`` next-slot candidates.
    :param n_recall: recalled items per list for ``"double"`` (popularity = train impressions).
    :param generator: the seeded source of rows and recall draws (checkpoint its state).
    """

    def __init__(
        self,
        lists: LoggedLists,
        target: Literal["double", "logged"],
        n_recall: int,
        generator: torch.Generator,
    ) -> None:
        if target not in ("double", "logged"):
            raise ValueError(f"target must be 'double' or 'logged', got {target!r}")
        self.data = ListBatch.from_lists(lists)
        self.target, self.n_recall = target, n_recall
        self.generator = generator
        self.recall = PopularityRecall(item_counts(lists), generator)

    def batch(self, rows: Tensor) -> TDBatch:
        """The TD batch of the lists at ``rows`` (``[B]`` int64)."""
        lists = self.data.index(rows)
        if self.target == "logged":
            return td_batch(lists, *logged_next(lists))
        return td_batch(lists, *double_next(lists, self.recall.sample(len(rows), self.n_recall)))

    def sample(self, batch_size: int) -> TDBatch:
        """``batch_size`` lists drawn uniformly with replacement."""
        rows = torch.randint(len(self.data), (batch_size,), generator=self.generator)
        return self.batch(rows)

    def at_boundary(self) -> bool:
        """Always: any update is a point to checkpoint and resume at."""
        return True

    def scalars(self) -> dict[str, float]:
        return {}

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])

    def close(self) -> None:
        """Nothing to release: the lists are in memory."""
