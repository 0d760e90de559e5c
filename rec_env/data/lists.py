"""`LoggedLists`: a log as fixed-shape arrays, and deterministic train / valid / test splits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
import pandas as pd

from rec_env.data.dataset import LogDataset, dense_features
from rec_env.data.schema import timestamp_seconds

PAD_ITEM = -1
"""Item id in padded (never shown) slots. Index with ``np.where(mask, items, 0)``."""


@dataclass(frozen=True)
class LoggedLists:
    """N logged lists of K slots as aligned arrays; row r is one request.

    :param items: ``[N, K]`` int64 item ids, ``PAD_ITEM`` where no item was shown.
    :param clicks: ``[N, K]`` int8, 0 in padded slots.
    :param mask: ``[N, K]`` bool, True where an item was shown.
    :param user_ids: ``[N]`` int64 user indices.
    :param request_ids: ``[N]`` int64 request indices (the dataset's ``vocabularies.requests``
        decodes them to the log's own ``request_id``).
    :param timestamps: ``[N]`` float64 seconds, the request's first timestamp (NaN if the log
        has none).
    :param item_features: ``[n_items, F_i]`` float32, row = item id (shared, not split).
    :param user_features: ``[n_users, F_u]`` float32, row = user id (shared, not split).
    """

    items: np.ndarray
    clicks: np.ndarray
    mask: np.ndarray
    user_ids: np.ndarray
    request_ids: np.ndarray
    timestamps: np.ndarray
    item_features: np.ndarray
    user_features: np.ndarray

    @classmethod
    def from_dataset(cls, dataset: LogDataset) -> LoggedLists:
        """Scatter the log's rows into ``[N, K]`` arrays, one row per request, in request order."""
        return cls.from_log(
            dataset.log,
            dataset.slate_size,
            dense_features(dataset.items, dataset.n_items),
            dense_features(dataset.users, dataset.n_users),
        )

    @classmethod
    def from_log(
        cls,
        log: pd.DataFrame,
        slate_size: int,
        item_features: np.ndarray,
        user_features: np.ndarray,
    ) -> LoggedLists:
        """The lists of a validated log (:func:`~rec_env.data.validate_log`) whose ids are
        indices into ``item_features [n_items, F_i]`` / ``user_features [n_users, F_u]``:
        one row per request, in request order, ``slate_size`` (K) slots each."""
        request_ids, row = np.unique(log["request_id"].to_numpy(), return_inverse=True)
        n, k = len(request_ids), slate_size
        position = log["position"].to_numpy()
        items = np.full((n, k), PAD_ITEM, dtype=np.int64)
        clicks = np.zeros((n, k), dtype=np.int8)
        mask = np.zeros((n, k), dtype=bool)
        items[row, position] = log["item_id"].to_numpy()
        clicks[row, position] = log["click"].to_numpy()
        mask[row, position] = True
        first = np.unique(row, return_index=True)[1]
        user_ids = log["user_id"].to_numpy()[first]
        if "timestamp" in log:
            timestamps = timestamp_seconds(log)[first]
        else:
            timestamps = np.full(n, np.nan)
        return cls(
            items=items,
            clicks=clicks,
            mask=mask,
            user_ids=user_ids,
            request_ids=request_ids,
            timestamps=timestamps,
            item_features=item_features,
            user_features=user_features,
        )

    def __len__(self) -> int:
        return len(self.items)

    @property
    def slate_size(self) -> int:
        return self.items.shape[1]

    def fingerprint(self) -> str:
        """sha256 of every array's name, dtype, shape and bytes (cache key of a fit on these
        lists: equal lists give equal fingerprints, in any process)."""
        digest = hashlib.sha256()
        for f in fields(self):
            array = np.ascontiguousarray(getattr(self, f.name))
            digest.update(f"{f.name} {array.dtype.str} {array.shape};".encode())
            digest.update(array.tobytes())
        return digest.hexdigest()

    def subset(self, rows: np.ndarray) -> LoggedLists:
        """The lists at ``rows`` (indices or a bool mask); feature tables are shared."""
        shared = ("item_features", "user_features")
        return LoggedLists(
            **{
                f.name: getattr(self, f.name) if f.name in shared else getattr(self, f.name)[rows]
                for f in fields(self)
            }
        )


@dataclass(frozen=True)
class Splits:
    """Disjoint train / valid / test lists."""

    train: LoggedLists
    valid: LoggedLists
    test: LoggedLists


def split_rows(
    lists: LoggedLists,
    by: Literal["request", "time"] = "request",
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices of a deterministic three-way split.

    :param by: ``"request"``: a seeded random permutation of the requests; ``"time"``:
        requests ordered by timestamp (ties by request id), the earliest go to train.
    :param fractions: train, valid, test shares; must be non-negative and sum to 1.
    :param seed: used by ``by="request"`` only.
    """
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(
            f"fractions must be three non-negative shares summing to 1, got {fractions}"
        )
    n = len(lists)
    if by == "request":
        order = np.random.default_rng(seed).permutation(n)
    elif by == "time":
        if np.isnan(lists.timestamps).any():
            raise ValueError("by='time' needs a 'timestamp' column in the log; use by='request'")
        order = np.lexsort((lists.request_ids, lists.timestamps))
    else:
        raise ValueError(f"by must be 'request' or 'time', got {by!r}")
    cuts = np.round(np.cumsum(fractions)[:2] * n).astype(int)
    train, valid, test = np.split(order, cuts)
    return np.sort(train), np.sort(valid), np.sort(test)


def split_lists(
    lists: LoggedLists,
    by: Literal["request", "time"] = "request",
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> Splits:
    """:func:`split_rows` applied: the train / valid / test :class:`LoggedLists`."""
    train, valid, test = split_rows(lists, by, fractions, seed)
    return Splits(lists.subset(train), lists.subset(valid), lists.subset(test))
