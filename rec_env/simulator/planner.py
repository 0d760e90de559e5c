"""Planning lists on the synthetic world's true model: greedy, beam search + local search, and
closed-loop roll-outs that re-plan after each observed click.

Every function is batched over N lists (:class:`~rec_env.simulator.click_paths.Lists`) and
their click paths; the Python loops run over slots, beam moves and rounds, never over lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from rec_env.data.synthetic_dynamics import leaves
from rec_env.simulator.click_paths import (
    CHUNK_CELLS,
    Lists,
    PathModel,
    expected_clicks,
    place,
)


@dataclass(frozen=True)
class PlannerConfig:
    """The planner: beam search over the exact expected clicks, then local search."""

    beam_width: int = 20
    """partial lists kept per request after each slot (1 = greedy)"""
    rounds: int = 3
    """local search rounds, each moving to the best of the neighbouring lists"""
    replacements: int = 5
    """unused candidates tried in each slot per round (best base logit first)"""


def beam_search(paths: PathModel, lists: Lists, slots: int, width: int) -> np.ndarray:
    """``[N, slots]`` candidate indices: the best of ``width`` partial lists extended slot by
    slot, each scored by its exact expected clicks so far (``width = 1``: greedy)."""
    c = lists.base.shape[1]
    step = max(1, CHUNK_CELLS // (width * c * 2 ** (slots - 1)))
    return np.concatenate(
        [
            _beam(paths, lists.rows(slice(s, s + step)), slots, width)
            for s in range(0, len(lists), step)
        ]
    )


def _beam(paths: PathModel, lists: Lists, slots: int, width: int) -> np.ndarray:
    n, c = lists.base.shape
    rows = np.arange(n)[:, None]
    mass = np.ones((n, 1, 1), dtype=np.float32)  # [n, W, P]
    base = lists.base.astype(np.float32)[:, None, None, :]  # [n, W, P, C] on each path
    shown = lists.shown.astype(np.float32)[:, None, :]  # [n, W, C]
    used = lists.used[:, None, :]
    value, chosen = np.zeros((n, 1)), np.zeros((n, 1, 0), dtype=np.int64)
    for t in range(slots):
        proba = paths.proba(base, shown[:, :, None, :], lists.position + t)  # [n, W, P, C]
        score = value[..., None] + np.matmul(mass[:, :, None, :], proba)[:, :, 0]
        score[used] = -np.inf
        flat = score.reshape(n, -1)
        keep = min(width, flat.shape[1])
        best = np.argsort(-flat, axis=1, kind="stable")[:, :keep]  # [n, W']
        parent, item = best // c, best % c
        value = np.take_along_axis(flat, best, axis=1)
        chosen = np.concatenate([chosen[rows, parent], item[..., None]], axis=2)
        used = used[rows, parent]
        used[rows, np.arange(keep)[None, :], item] = True
        if t + 1 < slots:
            proba = proba[rows, parent, :, item]  # [n, W', P]
            similarity = lists.gram[rows, item].astype(np.float32)  # [n, W', C]
            clicked = lists.clicked((rows, item), similarity).astype(np.float32)
            term = paths.click_term(clicked)
            shown = shown[rows, parent] + similarity
            mass, base = paths.branch(mass[rows, parent], proba, base[rows, parent], term)
    return chosen[:, 0]


def neighbours(lists: Lists, slates: np.ndarray, replacements: int) -> np.ndarray:
    """``[N, M, R]``: ``slates [N, R]`` with two slots swapped, or one slot's item replaced by
    one of the ``replacements`` unused candidates of highest base logit."""
    n, r = slates.shape
    swaps = []
    for i, j in combinations(range(r), 2):
        swapped = slates.copy()
        swapped[:, [i, j]] = slates[:, [j, i]]
        swaps.append(swapped)
    free = np.where(lists.used, -np.inf, lists.base)
    free[np.arange(n)[:, None], slates] = -np.inf
    top = np.argsort(-free, axis=1, kind="stable")[:, :replacements]  # [N, m]
    moved = np.repeat(slates[:, None, None, :], top.shape[1], axis=1).repeat(
        r, axis=2
    )  # [N, m, R, R]
    moved[:, :, np.arange(r), np.arange(r)] = top[:, :, None]
    return np.concatenate([np.stack(swaps, axis=1), moved.reshape(n, -1, r)], axis=1)


def local_search(
    paths: PathModel, lists: Lists, slates: np.ndarray, config: PlannerConfig
) -> np.ndarray:
    """``slates [N, R]`` improved by up to ``config.rounds`` best-neighbour moves
    (:func:`neighbours`), each kept only where it raises the exact expected clicks."""
    value = expected_clicks(paths, lists, slates[:, None, :])[:, 0]
    for _ in range(config.rounds):
        options = neighbours(lists, slates, config.replacements)
        scores = expected_clicks(paths, lists, options)
        best = np.argmax(scores, axis=1)
        better = scores[np.arange(len(slates)), best] > value + 1e-12
        if not better.any():
            break
        slates = np.where(better[:, None], options[np.arange(len(slates)), best], slates)
        value = np.maximum(value, scores[np.arange(len(slates)), best])
    return slates


def plan(paths: PathModel, lists: Lists, slots: int, config: PlannerConfig) -> np.ndarray:
    """``[N, slots]`` the planner's list: :func:`beam_search`, then :func:`local_search`."""
    slates = beam_search(paths, lists, slots, config.beam_width)
    return local_search(paths, lists, slates, config) if slots > 1 else slates


def random_slates(lists: Lists, slots: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """``[N, draws, slots]`` lists of distinct unused candidates drawn uniformly."""
    keys = rng.random((len(lists), draws, lists.base.shape[1]))
    keys[np.broadcast_to(lists.used[:, None, :], keys.shape)] = np.inf
    return np.argsort(keys, axis=2)[:, :, :slots]


def roll_out(
    paths: PathModel,
    lists: Lists,
    slates: np.ndarray,
    uniforms: np.ndarray,
    replan: PlannerConfig | None = None,
    origin: np.ndarray | None = None,
) -> np.ndarray:
    """``[N]`` clicks of lists served slot by slot on the click uniforms ``uniforms [N, R]``.

    Open loop (``replan`` None) the lists are ``slates [N, R]`` as planned. Closed loop, after
    each observed click the rest of the list is planned again (:func:`plan` with ``replan``)
    from what was placed and clicked. Each slot counts its click probability given the path
    so far (no variance from the click itself); clicks and exits are drawn with
    :func:`~rec_env.data.synthetic_dynamics.leaves` from the same uniforms.

    :param origin: ``[N]`` ints, equal for rows that start as the same list with the same
        slates (samples of one request): rows with the same clicks so far are planned once.
    """
    slates, r = slates.copy(), slates.shape[1]
    alive, value = np.ones(len(lists), dtype=bool), np.zeros(len(lists))
    rows = np.arange(len(lists))
    history = (rows if origin is None else np.asarray(origin)).astype(np.int64) << r
    for t in range(r):
        item = slates[:, t]
        proba = paths.proba(lists.base[rows, item], lists.shown[rows, item], lists.position)
        value += alive * proba
        clicks = uniforms[:, t] < proba
        stay = np.where(clicks, paths.stay_after_click, paths.stay_after_skip)
        alive &= ~leaves(uniforms[:, t], proba, clicks, 1.0 - stay)
        lists = place(paths, lists, item, clicks)
        history |= clicks.astype(np.int64) << t
        again = np.flatnonzero(alive & clicks)
        if replan is not None and t + 1 < r and len(again):
            _, first, same = np.unique(history[again], return_index=True, return_inverse=True)
            planned = plan(paths, lists.rows(again[first]), r - t - 1, replan)
            slates[again, t + 1 :] = planned[same]
    return value
