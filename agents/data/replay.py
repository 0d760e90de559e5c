"""Online experience: finished lists from a vector env, kept in a ring buffer of whole episodes.

An episode of ``ListwiseFeed-v0`` is one list of K slots, so the buffer stores lists, not
single transitions: a sampled list is a :class:`~agents.data.batch.TDBatch` whose K slots are K
transitions, and one Q-network pass gives every slot's state (as offline).

:class:`EpisodeCollector` turns a NEXT_STEP vector env's steps into finished episodes. The
step after a sub-env ends is its autoreset step: the env ignores its action and returns the
new episode's first observation, so that "transition" belongs to no episode and is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from agents.data.batch import ListBatch, TDBatch
from agents.policies import Observation

FIELDS = ("users", "items", "clicks", "rewards", "candidates", "placed_slot")
"""The buffer's tensors, one row per stored list."""


@dataclass(frozen=True)
class Episodes:
    """n finished lists.

    :param users: ``[n]`` user ids.
    :param items: ``[n, K]`` item placed in each slot.
    :param clicks: ``[n, K]`` the user's clicks (0/1).
    :param rewards: ``[n, K]`` float32 rewards received (the click, or its probability).
    :param candidates: ``[n, C]`` the request's candidate items.
    :param actions: ``[n, K]`` candidate index chosen in each slot.
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
    by truncation are dropped, as are autoreset steps.

    :param n_envs: N sub-envs; :param slate_size: K.
    """

    def __init__(self, n_envs: int, slate_size: int) -> None:
        self.rewards = np.zeros((n_envs, slate_size), dtype=np.float32)
        self.actions = np.zeros((n_envs, slate_size), dtype=np.int64)
        self.resetting = np.zeros(n_envs, dtype=bool)

    def start(self) -> None:
        """Call after ``env.reset()``: every sub-env starts an episode."""
        self.resetting[:] = False

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
        return Episodes(
            users=next_observation["user"][finished],
            items=next_observation["slate_items"][finished],
            clicks=next_observation["slate_clicks"][finished],
            rewards=self.rewards[finished],
            candidates=next_observation["candidates"][finished],
            actions=self.actions[finished],
        )


class EpisodeReplay:
    """Ring buffer of the last ``capacity`` lists; samples them as TD batches.

    Transition (b, t) has reward ``rewards[b, t]``, is terminal at t = K - 1, and its next
    candidates a' are the request's candidates not placed in slots <= t.

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
        placed_slot = np.full((len(episodes), c), k, dtype=np.int64)  # K = never placed
        np.put_along_axis(placed_slot, episodes.actions, np.arange(k)[None, :], axis=1)
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
        """The lists at ``rows`` as a TD batch (every slot a transition)."""
        b, k = len(rows), self.slate_size
        slots = torch.arange(k)
        done = torch.zeros(b, k, dtype=torch.bool)
        done[:, -1] = True
        return TDBatch(
            lists=ListBatch(
                user_ids=self.users[rows],
                items=self.items[rows],
                clicks=self.clicks[rows],
                mask=torch.ones(b, k, dtype=torch.bool),
            ),
            rewards=self.rewards[rows],
            weights=torch.ones(b, k),
            done=done,
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
