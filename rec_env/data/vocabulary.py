"""`IdVocabulary`: a log's own ids (sparse integers or strings) <-> dense indices ``0..n-1``.

Every id column (``user_id``, ``item_id``, ``request_id``) is mapped to dense indices once,
when a log is loaded; the arrays, the simulator and the agents only ever see the indices,
so their tables have one row per real user and item. The vocabulary turns indices back
into the user's ids (the environment's ``info`` speaks them) and serialises to plain JSON:

>>> vocab, codes = IdVocabulary.build("item_id", np.array([996_811, 7, 996_811]))
>>> codes.tolist(), vocab.decode(codes).tolist(), len(vocab)
([1, 0, 1], [996811, 7, 996811], 2)
>>> IdVocabulary.from_dict(vocab.to_dict()).encode([7]).tolist()
[0]

Index ``i`` is the ``i``-th smallest id (integers numerically, strings lexicographically),
so the indices keep the ids' order. A dataset whose ids already are ``0..n-1`` (the built-in
ones) gets a *range* vocabulary of the same class, whose encode / decode are identities.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rec_env.checks import InputError

SHOW_IDS = 5


class UnknownIdError(InputError):
    """Ids that are not in a vocabulary (or indices outside ``0..n-1``); an
    :class:`~rec_env.checks.InputError`, so a ``ValueError``.

    :param field: the id column, e.g. ``"item_id"``; :param unknown: the first unknown ids.
    """

    def __init__(self, field: str, unknown: list, count: int, size: int):
        self.field, self.unknown = field, unknown
        super().__init__(
            f"{field}: {count} value(s) not in the vocabulary of {size} ids, "
            f"first {unknown[:SHOW_IDS]}"
        )


@dataclass(frozen=True, eq=False)
class IdVocabulary:
    """The raw ids of one id column, in index order.

    Use :meth:`build` (from raw ids), :meth:`range` (ids that already are ``0..n-1``) or
    :meth:`from_dict`.

    :param field: the column it encodes: ``"user_id"``, ``"item_id"`` or ``"request_id"``.
    :param ids: ``[n]`` the raw id of each index, sorted, unique: int64, or object (str);
        ``None`` for a range vocabulary (raw id == index).
    :param size: n, the number of ids.
    """

    field: str
    ids: np.ndarray | None
    size: int

    @classmethod
    def build(cls, field: str, raw: np.ndarray | pd.Series) -> tuple[IdVocabulary, np.ndarray]:
        """The vocabulary of ``raw [N]`` (integers or strings, no missing values; checked by
        the loader) and the ``[N]`` int64 indices of its values, in one sorted factorisation."""
        codes, uniques = pd.factorize(np.asarray(raw), sort=True)
        ids = np.asarray(uniques, dtype=np.int64 if _is_integer(uniques) else object)
        ids.flags.writeable = False
        return cls(field, ids, len(ids)), codes.astype(np.int64)

    @classmethod
    def range(cls, field: str, size: int) -> IdVocabulary:
        """The vocabulary of ids that already are the dense indices ``0..size-1``."""
        return cls(field, None, int(size))

    @property
    def is_range(self) -> bool:
        """True when every raw id equals its index (no mapping at all)."""
        return self.ids is None

    def __len__(self) -> int:
        return self.size

    def encode(self, raw: Any) -> np.ndarray:
        """``[...]`` int64 indices of the raw ids ``raw`` (any array-like of ids).

        :raises UnknownIdError: some id is not in the vocabulary (names the field and the
            first unknown ids).
        """
        raw = np.asarray(raw)
        if self.ids is None:
            integral = _is_integer(raw.ravel())
            indices = raw.astype(np.int64) if integral else np.full(raw.shape, -1, np.int64)
        else:
            indices = self._index.get_indexer(raw.ravel()).reshape(raw.shape).astype(np.int64)
        return self._checked(raw, indices, (indices >= 0) & (indices < self.size))

    def decode(self, indices: Any) -> Any:
        """The raw ids at ``indices`` (an int, or an array-like of ``[...]`` ints).

        :return: one raw id (Python int or str) for an int, else an array of the raw ids
            (int64, or object for strings), shaped like ``indices``.
        :raises UnknownIdError: an index outside ``0..n-1``.
        """
        if isinstance(indices, int | np.integer):
            value = self.decode(np.asarray([indices]))[0]
            return value.item() if isinstance(value, np.generic) else value
        indices = np.asarray(indices, dtype=np.int64)
        inside = (indices >= 0) & (indices < self.size)
        self._checked(indices, indices, inside)
        return indices.copy() if self.ids is None else self.ids.take(indices)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"field", "size"}`` plus ``"ids"`` (a list of ints or strings) unless
        a range vocabulary. :meth:`from_dict` reads it back."""
        out: dict[str, Any] = {"field": self.field, "size": self.size}
        if self.ids is not None:
            out["ids"] = self.ids.tolist()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IdVocabulary:
        """The vocabulary written by :meth:`to_dict`."""
        if "ids" not in data:
            return cls.range(data["field"], data["size"])
        ids = pd.Series(data["ids"])
        vocab, codes = cls.build(data["field"], ids)
        if len(vocab) != len(ids) or not np.array_equal(codes, np.arange(len(ids))):
            raise ValueError(f"{data['field']}: vocabulary ids must be unique and sorted")
        return vocab

    def digest_bytes(self) -> bytes:
        """Bytes identifying the mapping (for fingerprints): the size, and the ids unless a
        range vocabulary."""
        head = f"{self.field}:{self.size}".encode()
        if self.ids is None:
            return head
        return head + pd.util.hash_array(self.ids).tobytes()

    @functools.cached_property
    def _index(self) -> pd.Index:
        """The ids as a pandas index, for :meth:`encode`'s hash look-ups (built once)."""
        return pd.Index(self.ids)

    def _checked(self, given: np.ndarray, indices: np.ndarray, known: np.ndarray) -> np.ndarray:
        known = np.asarray(known, dtype=bool)
        if not known.all():
            unknown = given[~known].ravel()
            raise UnknownIdError(self.field, unknown[:SHOW_IDS].tolist(), len(unknown), self.size)
        return indices


def _is_integer(values: Any) -> bool:
    return pd.api.types.infer_dtype(values, skipna=False) == "integer"


@dataclass(frozen=True, eq=False)
class Vocabularies:
    """Everything needed to map a dataset's arrays back to the user's log.

    :param users: ``user_id`` <-> user index.
    :param items: ``item_id`` <-> item index.
    :param requests: ``request_id`` <-> request index.
    :param categories: each categorical feature column (e.g. ``"i_category"``) -> its levels
        (strings, sorted); the feature table holds one 0/1 column ``"<column>=<level>"`` per
        level.
    """

    users: IdVocabulary
    items: IdVocabulary
    requests: IdVocabulary
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; :meth:`from_dict` reads it back."""
        return {
            "users": self.users.to_dict(),
            "items": self.items.to_dict(),
            "requests": self.requests.to_dict(),
            "categories": {column: list(levels) for column, levels in self.categories.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Vocabularies:
        return cls(
            *(IdVocabulary.from_dict(data[key]) for key in ("users", "items", "requests")),
            {column: tuple(levels) for column, levels in data.get("categories", {}).items()},
        )

    def digest_bytes(self) -> bytes:
        """Bytes identifying every mapping (part of :meth:`LogDataset.fingerprint`)."""
        parts = [vocab.digest_bytes() for vocab in (self.users, self.items, self.requests)]
        parts += [f"{c}={'|'.join(levels)}".encode() for c, levels in self.categories.items()]
        return b";".join(parts)
