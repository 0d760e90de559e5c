"""`FeedCore`: the batched state machine behind both environments.

:class:`~rec_env.envs.ListwiseFeedEnv` drives a core of B = 1 row and
:class:`~rec_env.envs.ListwiseFeedVectorEnv` one of B = ``num_envs`` rows, so reset, step,
observation and info logic exist once, batched: one user-model call per step for all rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from rec_env.arrays import take_rows
from rec_env.data import PAD_ITEM, IdVocabulary
from rec_env.data.synthetic_dynamics import leaves, leaves_one
from rec_env.envs.config import FeedConfig
from rec_env.envs.rng import EpisodeUniforms
from rec_env.simulator import list_context
from rec_env.simulator.base import exit_rule

if TYPE_CHECKING:
    from rec_env.envs.build import FeedParts

EPISODE_KEYS = ("user", "user_features", "candidates")
"""Observation keys that only a reset changes."""


def raw_ids(vocab: IdVocabulary, indices: np.ndarray | int) -> np.ndarray | int | str:
    """The log's own ids of ``indices`` (as they are when the ids already are indices)."""
    return indices if vocab.is_range else vocab.decode(indices)


InfoColumn = tuple[str, np.ndarray, np.ndarray]
"""``(key, rows [n], values [n, ...])``: an info entry for n of the rows."""


class StepResult(NamedTuple):
    """What one step did; every array is ``[b]``, aligned with ``rows`` (scalars and
    ``rows = 0`` from :meth:`FeedCore.step_one`).

    :param rows: the stepped rows (sub-environment indices), ascending.
    :param valid: the action was allowed (False only in penalty mode).
    :param items: the item placed (``PAD_ITEM`` where invalid).
    :param proba: its click probability, float64 (0 where invalid).
    :param clicks: the sampled click (False where invalid).
    :param reward: float64.
    :param terminated: the list is full, or the user left it (a user model with exits).
    :param truncated: penalty mode: ``slate_size`` invalid actions in this episode.
    """

    rows: np.ndarray
    valid: np.ndarray
    items: np.ndarray
    proba: np.ndarray
    clicks: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray


class FeedCore:
    """B lists being built at once.

    :param config: validated settings (K, C, modes).
    :param parts: data, recall and user model.
    :param n_envs: B.
    """

    def __init__(self, config: FeedConfig, parts: FeedParts, n_envs: int):
        self.config, self.parts, self.n_envs = config, parts, n_envs
        k, c, width = config.slate_size, config.num_candidates, parts.user_model.slate_size
        self.uniforms = EpisodeUniforms(n_envs, 1 + k + parts.recall.num_uniforms)
        self.request = np.zeros(n_envs, dtype=np.int64)
        self.users = np.zeros(n_envs, dtype=np.int64)
        n_user_features = parts.catalogue.user_features.shape[1]
        self.user_features = np.zeros((n_envs, n_user_features), dtype=np.float32)
        self.candidates = np.zeros((n_envs, c), dtype=np.int64)
        self.slate_items = np.full((n_envs, width), PAD_ITEM, dtype=np.int64)
        self.slate_clicks = np.zeros((n_envs, width), dtype=np.int8)
        self.slate_proba = np.zeros((n_envs, width), dtype=np.float32)
        self.position = np.zeros(n_envs, dtype=np.int64)
        self.valid = np.ones((n_envs, c), dtype=bool)
        self.click_uniforms = np.zeros((n_envs, width))
        self.invalid_count = np.zeros(n_envs, dtype=np.int64)
        self.exit_rule = exit_rule(parts.user_model)  # None: users never leave early
        self._exit_after = (  # (after a skip, after a click), for step_one's Python floats
            None if self.exit_rule is None else self.exit_rule.exit_proba(np.array([0, 1])).tolist()
        )
        self.user_context = list_context(
            parts.user_model, self.users, self.slate_items, self.slate_clicks
        )
        self.vocabularies = parts.scenario.dataset.vocabularies
        # Flat views: a step addresses cell (row, column) as ``row * n_columns + column``,
        # several times cheaper than ``[rows, columns]`` fancy indexing. The per-slot arrays
        # all have ``width`` columns, so one flat slot index serves them all.
        self._flat = _FlatViews(self)
        self.observed = {  # views of the state arrays each observation key copies, [B, ...]
            "user": self.users,
            "user_features": self.user_features,
            "position": self.position,
            "slate_items": self.slate_items[:, :k],
            "slate_clicks": self.slate_clicks[:, :k],
            "candidates": self.candidates,
            "action_mask": self.valid.view(np.int8),
        }
        self._row0 = np.zeros(1, dtype=np.int64)
        self._episode_copies: dict[str, np.ndarray] | None = None

    def reset(self, rows: np.ndarray) -> list[InfoColumn]:
        """Start a new episode in ``rows`` (ascending indices); returns its info columns."""
        sel = self._select(rows)
        self._episode_copies = None
        uniforms = self.uniforms.take(rows)
        k = self.config.slate_size
        lists = self.parts.sampler.lists
        request = self.parts.sampler.draw(uniforms[:, 0])
        users = lists.user_ids[request]
        self.request[sel] = request
        self.users[sel] = users
        self.user_context.start(sel, users)
        self.user_features[sel] = take_rows(self.parts.catalogue.user_features, users)
        logged = take_rows(lists.items, request)
        self.candidates[sel] = self.parts.recall(logged, uniforms[:, 1 + k :])
        self.click_uniforms[sel, :k] = uniforms[:, 1 : 1 + k]
        self.slate_items[sel] = PAD_ITEM
        self.slate_clicks[sel] = 0  # (slate_proba needs none: only slots < position are read)
        self.position[sel] = 0
        self.valid[sel] = True
        self.invalid_count[sel] = 0
        vocab = self.vocabularies
        return [
            ("request_id", rows, raw_ids(vocab.requests, lists.request_ids[request])),
            ("user_id", rows, raw_ids(vocab.users, users)),
        ]

    def step(self, rows: np.ndarray, actions: np.ndarray) -> StepResult:
        """Place ``actions [b]`` (candidate indices) in ``rows [b]``, one user-model call for all.

        The rows' episodes must be running (the environments see to that).

        :raises ValueError: an action outside ``[0, C)``, or a masked one in ``"raise"`` mode.
        """
        sel = self._select(rows)
        actions = self._checked(rows, actions)
        first = self._flat.first_cell if isinstance(sel, slice) else rows * self._flat.n_cells
        choice = first + actions  # flat (row, action) cells
        valid = self._flat.valid[choice]
        all_valid = np.count_nonzero(valid) == len(valid)
        if all_valid:
            items, proba, clicks, left = self._place(rows, sel, choice)
        else:
            items, proba, clicks, left = self._place_valid(rows, actions, valid)
        reward = self._reward(proba, clicks)
        if not all_valid:
            reward = np.where(valid, reward, self.config.invalid_penalty)
        terminated = self.position[sel] == self.config.slate_size  # [b]
        if left is not None:
            terminated |= left
        truncated = self.invalid_count[sel] >= self.config.slate_size
        return StepResult(rows, valid, items, proba, clicks, reward, terminated, truncated)

    def step_one(self, action: int) -> StepResult:
        """``step`` of row 0 of a one-row core (the single env) with scalars in and out.

        A valid action is placed with Python scalars, no arrays built (the user model sees
        one ``int`` row); any other action takes the batched path, whose errors and
        penalties it keeps (its result holds numpy scalars).
        """
        flat = self._flat  # row 0: cell (0, action) is flat cell action, slot (0, p) is p
        if not (0 <= action < self.config.num_candidates and flat.valid.item(action)):
            return StepResult(*(field[0] for field in self.step(self._row0, np.array([action]))))
        position, item = self.position.item(0), flat.candidates.item(action)  # Python ints
        proba = float(self.user_context.click_proba(0, item, position))
        uniform = flat.click_uniforms.item(position)
        click = uniform < proba
        self.user_context.place(0, item, position, click)
        flat.slate_items[position], flat.slate_clicks[position] = item, click
        flat.slate_proba[position] = proba
        flat.valid[action] = False
        self.position[0] = position + 1
        reward = float(click) if self.config.reward_mode == "click" else proba
        # a running episode has fewer than K invalid actions: a valid one does not truncate it
        terminated = position + 1 == self.config.slate_size
        if self._exit_after is not None:
            terminated |= leaves_one(uniform, proba, click, self._exit_after[click])
        return StepResult(0, True, item, proba, click, reward, terminated, False)

    def step_info(self, result: StepResult) -> list[InfoColumn]:
        """Info columns of a step: the placed item, its click probability and click; the
        invalid actions (penalty mode); and the finished lists' items and clicks."""
        rows, ok = result.rows, result.valid
        items = raw_ids(self.vocabularies.items, result.items)
        if np.count_nonzero(ok) == len(ok):
            columns = [("item_id", rows, items), ("click_proba", rows, result.proba)]
            columns.append(("click", rows, result.clicks))
        else:
            columns = [
                (key, rows[ok], values[ok])
                for key, values in (("item_id", items), ("click_proba", result.proba))
            ]
            columns.append(("click", rows[ok], result.clicks[ok]))
            columns.append(("invalid_action", rows[~ok], np.ones(int((~ok).sum()), dtype=bool)))
        ended = result.terminated | result.truncated
        if np.count_nonzero(ended):
            k, rows = self.config.slate_size, rows[ended]
            columns.append(("list_items", rows, self._raw_list_items(self.slate_items[rows, :k])))
            columns.append(("list_clicks", rows, self.slate_clicks[rows, :k]))
        return [column for column in columns if len(column[1])]

    def row_info(self, result: StepResult, info: dict[str, Any]) -> dict[str, Any]:
        """:meth:`step_info` of a :meth:`step_one` result added to ``info``: Python scalars,
        arrays for lists."""
        if result.valid:
            info["item_id"] = raw_ids(self.vocabularies.items, int(result.items))
            info["click_proba"] = float(result.proba)
            info["click"] = bool(result.clicks)
        else:
            info["invalid_action"] = True
        if result.terminated or result.truncated:
            k = self.config.slate_size
            info["list_items"] = self._raw_list_items(self.slate_items[0, :k].copy())
            info["list_clicks"] = self.slate_clicks[0, :k].copy()
        return info

    def _raw_list_items(self, items: np.ndarray) -> np.ndarray:
        """The log's own ids of the item indices ``items [..., K]``; padded slots stay
        ``PAD_ITEM`` for integer ids and become None for string ids."""
        vocab = self.vocabularies.items
        if vocab.is_range:
            return items
        shown = items != PAD_ITEM
        raw = vocab.decode(np.where(shown, items, 0))
        return np.where(shown, raw, PAD_ITEM if raw.dtype != object else None)

    def observation(self) -> dict[str, np.ndarray]:
        """All rows' observations, ``[B, ...]`` per key (see ``observation_space``).

        Copies, which the core never writes to: the keys that change at every step are new
        arrays; those fixed for an episode (``EPISODE_KEYS``) are copied again only after a
        reset, so consecutive observations of an episode share them.
        """
        if self._episode_copies is None:
            self._episode_copies = {key: self.observed[key].copy() for key in EPISODE_KEYS}
        episode = self._episode_copies
        return {
            key: episode[key] if key in episode else view.copy()
            for key, view in self.observed.items()
        }

    def _select(self, rows: np.ndarray) -> slice | np.ndarray:
        """``rows`` as an index for row-only access: a slice (views, no copies) when all rows."""
        return slice(None) if len(rows) == self.n_envs else rows

    def _place(
        self, rows: np.ndarray, sel: slice | np.ndarray, choice: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """Put each row's chosen candidate in its next slot; draw the clicks and exits.

        ``rows``, ``sel`` (the same rows, maybe as a slice) and ``choice`` (flat index
        ``row * C + action`` of the chosen candidates) are ``[b]``; so are the returned
        items, probabilities (float64), clicks and the users who left (None: no exits).
        """
        flat = self._flat
        position = self.position[sel]
        first = flat.first_slot if isinstance(sel, slice) else rows * flat.width
        slot = first + position  # flat (row, position) cells
        items = flat.candidates[choice]
        model_proba = self.user_context.click_proba(sel, items, position)  # float32
        proba = np.asarray(model_proba, dtype=np.float64)
        uniforms = flat.click_uniforms[slot]
        clicks = uniforms < proba
        left = None
        if self.exit_rule is not None:
            left = leaves(uniforms, proba, clicks, self.exit_rule.exit_proba(clicks))
        self.user_context.place(sel, items, position, clicks)
        flat.slate_items[slot] = items
        flat.slate_clicks[slot] = clicks
        flat.slate_proba[slot] = model_proba
        flat.valid[choice] = False
        self.position[sel] += 1
        return items, proba, clicks, left

    def _place_valid(
        self, rows: np.ndarray, actions: np.ndarray, valid: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """Penalty mode: place the valid actions only and count the others against their rows."""
        if self.config.invalid_action == "raise":
            raise ValueError(self._describe_invalid(rows, actions, valid))
        self.invalid_count[rows[~valid]] += 1
        rows = rows[valid]
        items, proba, clicks, left = self._place(
            rows, rows, rows * self.config.num_candidates + actions[valid]
        )
        return (
            _expand(valid, items, PAD_ITEM),
            _expand(valid, proba, 0.0),
            _expand(valid, clicks, False),
            None if left is None else _expand(valid, left, False),
        )

    def _reward(self, proba: np.ndarray, clicks: np.ndarray) -> np.ndarray:
        """``[b]`` float64 rewards of placed items in the configured mode (a new array)."""
        return clicks.astype(np.float64) if self.config.reward_mode == "click" else proba.copy()

    def _checked(self, rows: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """``actions`` as int64 (uint64 ones would turn the flat cell indices into floats).

        :raises ValueError: not ``[b]`` integers, or an action outside ``[0, C)``.
        """
        if actions.shape != rows.shape or actions.dtype.kind not in "iu":
            raise ValueError(
                f"actions must be {rows.shape} integers, got {actions.dtype} {actions.shape}"
            )
        # both bounds in one comparison: as unsigned integers, negative actions are huge
        outside = actions.astype(np.int64, copy=False).view(np.uint64) >= self.config.num_candidates
        if np.count_nonzero(outside):
            first = int(np.argmax(outside))
            raise ValueError(
                f"{self._who(rows[first])}action {actions[first]} is outside "
                f"Discrete({self.config.num_candidates})"
            )
        return actions.astype(np.int64, copy=False)

    def _describe_invalid(self, rows: np.ndarray, actions: np.ndarray, valid: np.ndarray) -> str:
        first = int(np.argmin(valid))
        row, action = rows[first], actions[first]
        item = self.candidates[row, action]
        slot = int(np.flatnonzero(self.slate_items[row] == item)[0])
        raw = raw_ids(self.vocabularies.items, int(item))
        return (
            f"{self._who(row)}action {action} picks item_id {raw!r} (index {item}), already "
            f"placed in slot {slot}; "
            "choose an action with action_mask == 1 (or leave invalid_action at 'penalty')"
        )

    def _who(self, row: int) -> str:
        return f"sub-env {row}: " if self.n_envs > 1 else ""


class _FlatViews:
    """1-D views of a core's ``[B, n]`` arrays that a step indexes by cell, and each row's
    first cell (``row * n``) in the candidate arrays and in the slot arrays."""

    def __init__(self, core: FeedCore):
        self.n_cells, self.width = core.candidates.shape[1], core.slate_items.shape[1]
        self.first_cell = np.arange(core.n_envs) * self.n_cells
        self.first_slot = np.arange(core.n_envs) * self.width
        self.candidates = core.candidates.reshape(-1)
        self.valid = core.valid.reshape(-1)
        self.slate_items = core.slate_items.reshape(-1)
        self.slate_clicks = core.slate_clicks.reshape(-1).view(bool)  # bools: no cast on write
        self.slate_proba = core.slate_proba.reshape(-1)
        self.click_uniforms = core.click_uniforms.reshape(-1)


def _expand(valid: np.ndarray, values: np.ndarray, fill: object) -> np.ndarray:
    """``values`` of the valid rows spread over all rows, ``fill`` elsewhere."""
    out = np.full(len(valid), fill, dtype=values.dtype)
    out[valid] = values
    return out
