"""Logistic matrix factorisation (MF) click model: the reference point of the offline table.

``P(click | u, i) = sigmoid(b + b_u + b_i + <p_u, q_i>)``, fitted on every shown slot of the
training lists by full-batch L-BFGS with an L2 penalty, the penalty picked from a grid by
validation AUC. It reads no list context: the same score for an item wherever it is shown.
:func:`fit_or_load_mf` keeps the fits in a disk cache (``$REC_ENV_DATA/mf/``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from agents.metrics import auc
from agents.policies import Observation, masked_argmax, valid_mask
from agents.requests import IdSpace, recommend_request
from rec_env.cache import keyed_path, load_or_fit, load_payload, save_payload
from rec_env.data import LoggedLists
from rec_env.data import cache_dir as data_cache_dir

L2_GRID = (1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4)
"""penalties tried by :func:`fit_mf` (per unit of mean log-loss)"""
MF_VERSION = 1
"""Version of the fit recipe (:func:`fit_one`, :func:`fit_mf`), part of the cache key of
:func:`fit_or_load_mf`: bump it when a code change makes a cached fit stale."""
_TABLES = ("user_table", "item_table")
"""the arrays of an :class:`MFAgent` in its cache file"""


class MFAgent:
    """A fitted MF model as a ranker (the interface of :class:`~agents.baselines.PopularityAgent`).

    :param user_table: ``[n_users, F + 1]`` rows ``[p_u; b_u]``.
    :param item_table: ``[n_items, F + 1]`` rows ``[q_i; b_i]``.
    :param l2: the penalty it was fitted with (reported, not used).
    """

    def __init__(self, user_table: np.ndarray, item_table: np.ndarray, l2: float) -> None:
        self.user_table, self.item_table, self.l2 = user_table, item_table, l2

    def scores(self, user_ids: np.ndarray, items: np.ndarray) -> np.ndarray:
        """``[N, M]`` click logits (minus the global bias) of items ``[N, M]`` for users ``[N]``."""
        user = self.user_table[user_ids][:, None, :]  # [N, 1, F + 1]
        item = self.item_table[items]  # [N, M, F + 1]
        match = (user[..., :-1] * item[..., :-1]).sum(-1)
        return match + user[..., -1] + item[..., -1]

    def score_logged(self, lists: LoggedLists) -> np.ndarray:
        """``[N, K]`` the logit of each logged item (padded slots score whatever item 0 does)."""
        return self.scores(lists.user_ids, np.where(lists.mask, lists.items, 0))

    __call__ = score_logged

    def save(self, path: str | Path) -> Path:
        """Write the tables and penalty to ``path`` atomically (:func:`~rec_env.cache.save_payload`)."""
        tables = {name: torch.from_numpy(getattr(self, name)) for name in _TABLES}
        return save_payload({**tables, "l2": self.l2}, path)

    @classmethod
    def load(cls, path: str | Path) -> MFAgent:
        """Read an agent written by :meth:`save` (``torch.load(weights_only=True)``), the
        tables bit for bit."""
        payload = load_payload(path)
        tables = (payload[name].numpy() for name in _TABLES)
        return cls(*tables, float(payload["l2"]))

    def recommend(self, user_id: int, candidates: Sequence[int], k: int) -> list[int]:
        """The k candidates of highest logit, ties in candidate order (checked as
        :func:`agents.requests.recommend_request`)."""
        ids = IdSpace(self.user_table.shape[0], self.item_table.shape[0])
        users, items = recommend_request(user_id, candidates, k, ids)
        order = np.argsort(-self.scores(users, items)[0], kind="stable")
        return items[0, order[:k]].tolist()

    def act(self, observation: Observation) -> np.ndarray:
        """``[N]`` the valid candidate of highest logit in each request."""
        logits = self.scores(observation["user"].astype(np.int64), observation["candidates"])
        return masked_argmax(logits, valid_mask(observation))


def shown_rows(lists: LoggedLists) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(user ids, item ids, clicks)``, one entry per shown slot."""
    users = np.broadcast_to(lists.user_ids[:, None], lists.items.shape)[lists.mask]
    return (
        torch.as_tensor(users, dtype=torch.int64),
        torch.as_tensor(lists.items[lists.mask], dtype=torch.int64),
        torch.as_tensor(lists.clicks[lists.mask], dtype=torch.float32),
    )


class MFLogits(torch.autograd.Function):
    """``bias + <p_u, q_i> + b_u + b_i`` ``[N]`` of N (user, item) rows, tables ``[n, F + 1]``.

    The values and gradients, bit for bit, of the indexing expression
    ``bias + (U[u, :-1] * I[i, :-1]).sum(-1) + U[u, -1] + I[i, -1]``, whose autograd
    backward zero-fills an ``[N, F + 1]`` gradient per slice: the backward here scatters each
    row's gradient straight into the tables (``index_add_``, in row order as autograd's). A
    full-batch L-BFGS evaluation on synthetic-gap's 800k train slots takes about half the time.

    Arguments of ``apply``: ``bias [1]``, ``user_table``, ``item_table``, ``users [N]`` and
    ``items [N]`` (int64 row ids).
    """

    @staticmethod
    def forward(ctx, bias, user_table, item_table, users, items):
        user, item = user_table.index_select(0, users), item_table.index_select(0, items)
        ctx.save_for_backward(user, item, users, items)
        ctx.table_rows = user_table.shape[0], item_table.shape[0]
        return bias + (user[:, :-1] * item[:, :-1]).sum(-1) + user[:, -1] + item[:, -1]

    @staticmethod
    def backward(ctx, grad):
        user, item, users, items = ctx.saved_tensors
        grads = []
        for rows, ids, own, other in (
            (ctx.table_rows[0], users, user, item),
            (ctx.table_rows[1], items, item, user),
        ):
            table_grad = own.new_zeros(rows, own.shape[1])
            table_grad[:, :-1].index_add_(0, ids, grad.unsqueeze(-1) * other[:, :-1])
            table_grad[:, -1].index_add_(0, ids, grad)
            grads.append(table_grad)
        return grad.sum(0, keepdim=True), *grads, None, None


def fit_one(train: LoggedLists, dim: int, l2: float, seed: int, max_iter: int = 300) -> MFAgent:
    """Full-batch L-BFGS on mean log-loss + ``l2`` * (sum of squared factors and biases)."""
    users, items, clicks = shown_rows(train)
    generator = torch.Generator().manual_seed(seed)
    n_users, n_items = len(train.user_features), len(train.item_features)
    user_table = (0.01 * torch.randn(n_users, dim + 1, generator=generator)).requires_grad_()
    item_table = (0.01 * torch.randn(n_items, dim + 1, generator=generator)).requires_grad_()
    rate = clicks.mean().clamp(1e-6, 1 - 1e-6)
    bias = torch.logit(rate).reshape(1).requires_grad_()
    optimizer = torch.optim.LBFGS(
        [user_table, item_table, bias], max_iter=max_iter, line_search_fn="strong_wolfe"
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        logits = MFLogits.apply(bias, user_table, item_table, users, items)
        penalty = user_table.square().sum() + item_table.square().sum()
        loss = F.binary_cross_entropy_with_logits(logits, clicks) + l2 * penalty
        loss.backward()
        return loss

    optimizer.step(closure)
    return MFAgent(user_table.detach().numpy(), item_table.detach().numpy(), l2)


def fit_mf(
    train: LoggedLists,
    valid: LoggedLists,
    dim: int = 8,
    l2_grid: tuple[float, ...] = L2_GRID,
    seed: int = 0,
    max_iter: int = 300,
    progress: bool = True,
) -> MFAgent:
    """The model of best validation AUC over ``l2_grid`` (ties: the earlier penalty).

    :param dim: F, the width of the user and item factors.
    :param max_iter: L-BFGS iterations of each fit (:func:`fit_one`).
    :param progress: show a tqdm bar over the grid with the best validation AUC so far.
    """
    shown = valid.clicks[valid.mask]
    if shown.min() == shown.max():
        raise ValueError("the validation lists' clicks are all 0 or all 1: no AUC to pick L2 by")
    best, best_auc = None, float("-inf")
    bar = tqdm(l2_grid, desc="mf L2 grid", disable=not progress)
    for l2 in bar:
        agent = fit_one(train, dim, l2, seed, max_iter)
        score = auc(shown, agent.score_logged(valid)[valid.mask])
        if score > best_auc:
            best, best_auc = agent, score
        bar.set_postfix(best_l2=best.l2, valid_auc=f"{best_auc:.4f}")
    return best


def mf_cache_path(
    train: LoggedLists,
    valid: LoggedLists,
    dim: int,
    l2_grid: tuple[float, ...],
    seed: int,
    max_iter: int,
    cache_dir: str | Path | None = None,
) -> Path:
    """``<cache_dir>/mf<dim>-<key>.pt``, ``key`` a hash of everything that determines
    :func:`fit_mf`'s result: the train and valid lists' content
    (:meth:`~rec_env.data.LoggedLists.fingerprint`), ``dim``, ``l2_grid``, ``seed``,
    ``max_iter``, the torch thread count (a fit is reproducible for a fixed one) and
    :data:`MF_VERSION`.

    :param cache_dir: defaults to ``rec_env.data.cache_dir() / "mf"``.
    """
    recipe = {
        "train": train.fingerprint(),
        "valid": valid.fingerprint(),
        "dim": dim,
        "l2_grid": list(l2_grid),
        "seed": seed,
        "max_iter": max_iter,
        "threads": torch.get_num_threads(),
        "mf_version": MF_VERSION,
    }
    folder = cache_dir if cache_dir is not None else data_cache_dir() / "mf"
    return keyed_path(folder, f"mf{dim}", recipe)


def fit_or_load_mf(
    train: LoggedLists,
    valid: LoggedLists,
    dim: int = 8,
    l2_grid: tuple[float, ...] = L2_GRID,
    seed: int = 0,
    max_iter: int = 300,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> MFAgent:
    """:func:`fit_mf`, from the disk cache when present (the same tables, bit for bit); an
    unreadable cache file is refitted and overwritten, with a warning
    (:func:`~rec_env.cache.load_or_fit`).

    :param cache_dir: folder of cached fits; defaults to ``rec_env.data.cache_dir() / "mf"``.
    """
    path = mf_cache_path(train, valid, dim, l2_grid, seed, max_iter, cache_dir)

    def fit() -> MFAgent:
        return fit_mf(train, valid, dim, l2_grid, seed, max_iter, progress)

    return load_or_fit(path, fit, MFAgent.load, MFAgent.save)
