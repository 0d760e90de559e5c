"""Checks of a serving request before it reaches a model: the one place where ids enter.

A request is a user and candidate items, and a list length ``k``. Ids are the log's own
(sparse integers or strings) when the model carries its dataset's vocabularies
(:class:`~rec_env.data.Vocabularies`), else the dense indices (users ``0..n_users-1``,
items ``0..n_items-1``, the rows of the feature tables). Every ranker
(:class:`~agents.serving.QAgent`, the baselines, the exported ranker of
:func:`~agents.serving_export.load_ranker`) calls :func:`recommend_request` or
:func:`batch_request`, which raise :class:`~rec_env.checks.InputError` (a ``ValueError``)
naming the argument and the offending values. Ids enter only through :meth:`IdSpace.dense`
and leave through :meth:`IdSpace.raw`.

An unknown user is an error, not a cold start: the models have no embedding for a user
absent from the training tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from rec_env.checks import InputError
from rec_env.data import IdVocabulary, UnknownIdError, Vocabularies

SHOW_IDS = 10
"""offending ids quoted in an error message, at most"""

Kind = Literal["user", "item"]


@dataclass(frozen=True)
class IdSpace:
    """The ids a model knows.

    :param n_users: users ``0..n_users-1``; None: any int (a model that ignores the user).
    :param n_items: items ``0..n_items-1``; None: any int.
    :param users: the log's user ids of those indices; None: the ids are the indices.
    :param items: the log's item ids; None: the ids are the indices.
    """

    n_users: int | None = None
    n_items: int | None = None
    users: IdVocabulary | None = None
    items: IdVocabulary | None = None

    @classmethod
    def of(cls, n_users: int, n_items: int, vocabularies: Vocabularies | None) -> IdSpace:
        """The ids of a model with ``n_users`` x ``n_items`` tables, speaking the log's ids
        where ``vocabularies`` map them (range vocabularies, where ids are indices, are
        dropped)."""
        if vocabularies is None:
            return cls(n_users, n_items)

        def mapping(vocab: IdVocabulary) -> IdVocabulary | None:
            return None if vocab.is_range else vocab

        return cls(n_users, n_items, mapping(vocabularies.users), mapping(vocabularies.items))

    def dense(self, name: str, ids: np.ndarray, kind: Kind) -> np.ndarray:
        """The dense indices (int64, same shape) of the log's ids ``ids``.

        :raises InputError: naming the ids the model does not know, or a dtype that cannot
            hold them (floats, bools; strings without a vocabulary).
        """
        vocab, n = (self.users, self.n_users) if kind == "user" else (self.items, self.n_items)
        if ids.dtype.kind not in ("iu" if vocab is None else "iuUO"):
            wanted = "integer ids" if vocab is None else "integer or string ids"
            raise InputError(f"{name} must be {wanted}, got dtype {ids.dtype}")
        if vocab is not None:
            try:
                ids = vocab.encode(ids)
            except UnknownIdError as error:
                raise InputError(
                    f"{name}: unknown {kind} ids {error.unknown}; this model knows the "
                    f"{len(vocab)} {kind}s of its training log"
                ) from None
        ids = ids.astype(np.int64, copy=False)
        if n is None:
            return ids
        unknown = ids[(ids < 0) | (ids >= n)]
        if unknown.size:
            raise InputError(
                f"{name}: unknown {kind} ids {_quote(unknown)}; this model knows {kind}s "
                f"0..{n - 1} ({kind}s absent from the training data have no embedding)"
            )
        return ids

    def raw(self, kind: Kind, indices: np.ndarray) -> np.ndarray:
        """The log's ids of dense ``indices`` (the indices themselves without a vocabulary)."""
        vocab = self.users if kind == "user" else self.items
        return indices if vocab is None else vocab.decode(indices)


def recommend_request(
    user_id: Any, candidates: Any, k: Any, ids: IdSpace, max_k: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The checked request of ``recommend(user_id, candidates, k)``.

    :param user_id: one user id (the log's own, see :class:`IdSpace`).
    :param candidates: a 1-D sequence (list, array, tensor) of distinct item ids.
    :param k: items to return, ``1 <= k <= len(candidates)`` (and ``<= max_k``).
    :param max_k: the longest list the model can build (None: no limit).
    :return: ``(user_ids [1], candidates [1, C])``, int64 dense indices.
    :raises InputError: naming the argument and the offending values.
    """
    users = id_array("user_id", user_id, ndim=0)[None]
    items = id_array("candidates", candidates, ndim=1)[None]
    _check_k(k, max_k)
    if k > items.shape[1]:
        raise InputError(f"k={k} exceeds the {items.shape[1]} candidates: give at least k ids")
    return _known_distinct(users, items, np.ones(items.shape, dtype=bool), ids, "user_id")


def batch_request(
    user_ids: Any, candidates: Any, valid: Any, k: int, ids: IdSpace
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The checked batch of a ranker called as ``(user_ids [B], candidates [B, C], valid [B, C])``.

    Each request needs at least ``k`` valid candidates, distinct among the valid ones; every
    id, valid or not, must be known (all are embedded).

    :return: the same three as tensors: int64 dense indices, int64 dense indices, bool.
    :raises InputError: naming the argument and the offending values or requests.
    """
    users = id_array("user_ids", user_ids, ndim=1)
    items = id_array("candidates", candidates, ndim=2)
    mask = _array("valid", valid, ndim=2)
    if mask.dtype != np.bool_:
        raise InputError(f"valid must be bool (True = may be shown), got dtype {mask.dtype}")
    if not users.shape[0] == items.shape[0] == mask.shape[0] or items.shape != mask.shape:
        raise InputError(
            f"shapes must be user_ids [B], candidates [B, C], valid [B, C]; got "
            f"{list(users.shape)}, {list(items.shape)}, {list(mask.shape)}"
        )
    short = np.flatnonzero(mask.sum(axis=1) < k)
    if short.size:
        raise InputError(f"valid: requests {_quote(short)} have fewer than k={k} valid candidates")
    users, items = _known_distinct(users, items, mask, ids, "user_ids")
    return torch.from_numpy(users), torch.from_numpy(items), torch.from_numpy(mask)


def id_array(name: str, values: Any, ndim: int) -> np.ndarray:
    """``values`` as a non-empty array of ``ndim`` dimensions (its dtype is checked by
    :meth:`IdSpace.dense`).

    :raises InputError: on another number of dimensions, or no values.
    """
    array = _array(name, values, ndim)
    if array.size == 0:
        raise InputError(f"{name} is empty")
    return array


def _array(name: str, values: Any, ndim: int) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    try:
        array = np.asarray(values)
    except ValueError as error:  # ragged nested lists
        raise InputError(f"{name} must be a {ndim}-D array: {error}") from None
    if array.ndim != ndim:
        shape = "a scalar" if ndim == 0 else f"{ndim}-D"
        raise InputError(f"{name} must be {shape}, got shape {list(array.shape)}")
    return array


def _check_k(k: Any, max_k: int | None) -> None:
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1:
        raise InputError(f"k must be an int >= 1, got {k!r}")
    if max_k is not None and k > max_k:
        raise InputError(f"k={k} exceeds the longest list this model builds, {max_k}")


def _known_distinct(
    users: np.ndarray, items: np.ndarray, valid: np.ndarray, ids: IdSpace, user_name: str
) -> tuple[np.ndarray, np.ndarray]:
    """The dense ids of known users and items, no item twice among a request's valid
    candidates."""
    users = ids.dense(user_name, users, "user")
    items = ids.dense("candidates", items, "item")
    # invalid slots get distinct ids below every real one, so only valid ones can repeat
    below = items.min() - 1 - np.arange(items.shape[1])
    ordered = np.sort(np.where(valid, items, below), axis=1)
    repeated = ordered[:, 1:][ordered[:, 1:] == ordered[:, :-1]]
    if repeated.size:
        repeated = ids.raw("item", repeated)
        raise InputError(f"candidates: duplicate item ids {_quote(repeated)}; give each id once")
    return users, items


def _quote(values: np.ndarray) -> str:
    """The first :data:`SHOW_IDS` distinct values, e.g. ``[3, 7] (2 in all)``."""
    distinct = np.unique(values)
    shown = distinct[:SHOW_IDS].tolist()
    return f"{shown}" + (f" ({distinct.size} in all)" if distinct.size > SHOW_IDS else "")
