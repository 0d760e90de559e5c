"""Online experience: finished lists from a vector env, kept in a ring buffer of whole episodes.

An episode of ``ListwiseFeed-v0`` is one list of at most K slots (K, or fewer where the user
left: an exit), so the buffer stores lists, not single transitions: a sampled list is a
:class:`~agents.data.batch.TDBatch` whose placed slots are its transitions, the last one
terminal, and one Q-network pass gives every slot's state (as offline).

:class:`EpisodeCollector` turns a NEXT_STEP vector env's steps into finished episodes. The
step after a sub-env ends is its autoreset step: the env ignores its action and returns the
new episode's first observation, so that "transition" belongs to no episode and is dropped.
A list that ended early is stored as the env returned it: ``PAD_ITEM`` after its last slot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from agents.data.batch import ListBatch, TDBatch
from agents.policies import Observation
from rec_env.data import PAD_ITEM

FIELDS = ("users", "items", "clicks", "rewards", "candidates", "placed_slot")
"""The buffer's tensors, one row per stored list."""


@dataclass(frozen=True)
class Episodes:
    """n finished lists; a list the user left after slot t holds nothing after t.

    :param users: ``[n]`` user ids.
    :param items: ``[n, K]`` item placed in each slot, ``PAD_ITEM`` (-1) after the last.
    :param clicks: ``[n, K]`` the user's clicks (0/1), 0 after the last slot.
    :param rewards: ``[n, K]`` float32 rewards received (the click, or its probability), 0
        after the last slot.
    :param candidates: ``[n, C]`` the request's candidate items.
    :param actions: ``[n, K]`` candidate index chosen in each slot, 0 after the last.
    """

    users: np.ndarray
    items: np.ndarray
    clicks: np.ndarray
    rewards: np.ndarray
    candidates: np.ndarray
    actions: np.ndarray

    def __len__(self) -> int:
        return len(self.users)


class EpisodeCollector:
    """Assembles the episodes of a ``ListwiseFeed-v0`` vector env (NEXT_STEP autoreset).

    Use with ``invalid_action="raise"``: every step then fills one slot. Episodes cut short
    by truncation are dropped, as are autoreset steps; episodes the user ended early (exits)
    are kept, up to their last slot.

    :param n_envs: N sub-envs; :param slate_size: K.
    :ivar ended: ``[N]`` bool, True for the sub-envs whose first episode since :meth:`start`
        has ended (a round of the online sampler lasts until all have).
    """

    def __init__(self, n_envs: int, slate_size: int) -> None:
        self.rewards = np.zeros((n_envs, slate_size), dtype=np.float32)
        self.actions = np.zeros((n_envs, slate_size), dtype=np.int64)
        self.resetting = np.zeros(n_envs, dtype=bool)
        self.ended = np.zeros(n_envs, dtype=bool)

    def start(self) -> None:
        """Call after ``env.reset()``: every sub-env starts an episode."""
        self.resetting[:] = False
        self.ended[:] = False

    def step(
        self,
        observation: Observation,
        actions: np.ndarray,
        rewards: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        next_observation: Observation,
    ) -> Episodes:
        """Record one ``env.step(actions)``; return the episodes it finished (maybe none).

        :param observation: the observation ``actions`` were chosen on.
        :param next_observation: what the step returned (a finished episode's full list).
        """
        live = np.flatnonzero(~self.resetting)  # autoreset rows placed nothing: dropped
        slots = observation["position"][live]
        self.rewards[live, slots] = rewards[live]
        self.actions[live, slots] = actions[live]
        finished = live[terminated[live]]
        self.resetting = terminated | truncated
        self.ended |= self.resetting
        items = next_observation["slate_items"][finished]
        placed = items != PAD_ITEM  # an exit leaves the slots after it empty
        return Episodes(
            users=next_observation["user"][finished],
            items=items,
            clicks=next_observation["slate_clicks"][finished],
            rewards=np.where(placed, self.rewards[finished], 0).astype(np.float32),
            candidates=next_observation["candidates"][finished],
            actions=np.where(placed, self.actions[finished], 0),
        )


class EpisodeReplay:
    """Ring buffer of the last ``capacity`` lists; samples them as TD batches.

    Transition (b, t) of a list of L <= K placed slots (t < L) has reward ``rewards[b, t]``,
    is terminal at t = L - 1 (K - 1, or the slot after which the user left), and its next
    candidates a' are the request's candidates not placed in slots <= t. Slots >= L hold no
    transition (weight 0, masked out of the list).

    :param capacity: lists kept (the oldest are overwritten).
    :param slate_size: K; :param n_candidates: C.
    """

    def __init__(self, capacity: int, slate_size: int, n_candidates: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity, self.slate_size = capacity, slate_size
        k, c = slate_size, n_candidates
        self.users = torch.zeros(capacity, dtype=torch.int64)
        self.items = torch.zeros(capacity, k, dtype=torch.int64)
        self.clicks = torch.zeros(capacity, k, dtype=torch.float32)
        self.rewards = torch.zeros(capacity, k, dtype=torch.float32)
        self.candidates = torch.zeros(capacity, c, dtype=torch.int64)
        self.placed_slot = torch.zeros(capacity, c, dtype=torch.int64)
        self.cursor = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, episodes: Episodes) -> None:
        """Store finished lists (batched; more than ``capacity`` keeps the last ones)."""
        if len(episodes) and episodes.items.shape[1] != self.slate_size:
            raise ValueError(
                f"episodes have {episodes.items.shape[1]} slots, the buffer {self.slate_size}"
            )
        n = min(len(episodes), self.capacity)
        k, c = self.slate_size, self.candidates.shape[1]
        placed = episodes.items != PAD_ITEM
        placed_slot = np.full((len(episodes), c + 1), k, dtype=np.int64)  # K = never placed
        actions = np.where(placed, episodes.actions, c)  # empty slots write to column c, dropped
        np.put_along_axis(placed_slot, actions, np.where(placed, np.arange(k), k), axis=1)
        placed_slot = placed_slot[:, :c]
        columns = {
            "users": episodes.users,
            "items": episodes.items,
            "clicks": episodes.clicks,
            "rewards": episodes.rewards,
            "candidates": episodes.candidates,
            "placed_slot": placed_slot,
        }
        rows = torch.as_tensor((self.cursor + np.arange(n)) % self.capacity)
        for name in FIELDS:
            buffer = getattr(self, name)
            buffer[rows] = torch.as_tensor(columns[name][len(episodes) - n :]).to(buffer.dtype)
        self.cursor = (self.cursor + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, generator: torch.Generator) -> TDBatch:
        """``batch_size`` stored lists drawn uniformly with replacement."""
        if self.size == 0:
            raise ValueError("the replay buffer is empty")
        rows = torch.randint(self.size, (batch_size,), generator=generator)
        return self.batch(rows)

    def batch(self, rows: Tensor) -> TDBatch:
        """The lists at ``rows`` as a TD batch (every placed slot a transition)."""
        slots = torch.arange(self.slate_size)
        items = self.items[rows]
        mask = items != PAD_ITEM  # [B, K]
        return TDBatch(
            lists=ListBatch(
                user_ids=self.users[rows],
                items=torch.where(mask, items, 0),
                clicks=self.clicks[rows],
                mask=mask,
            ),
            rewards=self.rewards[rows],
            weights=mask.float(),
            done=slots[None, :] == mask.sum(1, keepdim=True) - 1,
            next_items=self.candidates[rows],
            next_valid=self.placed_slot[rows][:, None, :] > slots[None, :, None],
        )

    def state_dict(self) -> dict:
        """Tensors and ints only (for :func:`agents.training.checkpoint.save_checkpoint`)."""
        return {
            **{name: getattr(self, name)[: self.size].clone() for name in FIELDS},
            "cursor": self.cursor,
        }

    def load_state_dict(self, state: dict) -> None:
        for name in FIELDS:
            values = state[name]
            getattr(self, name)[: len(values)] = values
        self.size, self.cursor = len(state["users"]), int(state["cursor"])
