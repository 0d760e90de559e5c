"""User and item feature tables from a log's ``u_*`` / ``i_*`` columns, as numbers.

Rules (the README's schema section states them too):

* one row per id: the value of the id's first row (smallest ``request_id``, then
  ``position``); a :class:`LogDataWarning` names each column whose value varies within an id;
* numbers are kept in their units (the environment and the models standardise their copy);
  booleans become 0 / 1;
* strings and pandas categories are one-hot encoded: a column ``i_category`` becomes
  ``i_category=<level>`` 0 / 1 columns, levels sorted as strings; the levels are kept in
  :attr:`Vocabularies.categories`. A column with more than ``max_levels`` levels (default
  :data:`MAX_LEVELS`) keeps its ``max_levels - 1`` most frequent ones (most ids first, ties
  in level order) and merges the rest into one last level :data:`OTHER_LEVEL`, with a
  :class:`LogDataWarning` naming the column, the merged count and the first merged levels;
* missing values (NaN): a number is filled with its column's mean over the ids that have
  one, a category with no level (all its columns 0); each fill is a :class:`LogDataWarning`
  naming the column and the count. A column with no value at all is an error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from rec_env.checks import InputError
from rec_env.data.schema import LogValidationError, raise_if_any

MAX_LEVELS = 64
"""Default most levels (one-hot columns) of a categorical feature, ``OTHER_LEVEL`` included."""
OTHER_LEVEL = "<other>"
"""The level that the rarer levels of a column with too many are merged into."""
LEVEL_SEPARATOR = "="
SHOW_LEVELS = 5


class LogDataWarning(UserWarning):
    """A log was loaded, but some values were filled in or dropped by a documented rule."""


def feature_table(
    log: pd.DataFrame, prefix: str, key: str, max_levels: int = MAX_LEVELS
) -> tuple[pd.DataFrame, dict[str, tuple[str, ...]]]:
    """The ``prefix*`` columns of the validated ``log`` as a numeric table, one row per ``key``.

    :param log: validated (sorted by request and position), ids already indices.
    :param prefix: ``"u_"`` or ``"i_"``; :param key: ``"user_id"`` or ``"item_id"``.
    :param max_levels: most one-hot columns of a categorical column (see the module doc).
    :return: ``(table, categories)``: the table indexed by ``key``, sorted, and the levels of
        each one-hot encoded column.
    :raises LogValidationError: a column with no value, with infinite numbers, complex
        numbers, date-times, values that are not scalars (lists...).
    """
    check_max_levels(max_levels)
    columns = [c for c in log.columns if c.startswith(prefix)]
    for column in columns:
        _check_scalars(log, column)
    noun = key.removesuffix("_id") + "s"
    _warn_if_varying(log, key, columns, noun)
    table = log[[key, *columns]].drop_duplicates(key).set_index(key).sort_index()
    encoded, categories = [], {}
    for column in columns:
        block, levels = _encode_column(table[column], noun, max_levels)
        encoded.append(block)
        if levels is not None:
            categories[column] = levels
    out = pd.concat(encoded, axis=1) if encoded else table
    return out, categories


def decode_features(table: pd.DataFrame, categories: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """The inverse of the one-hot encoding: each ``column=level`` block back to one column of
    levels (missing where no level is set), in place of the block."""
    parts = []
    for column in table.columns:
        name = column.split(LEVEL_SEPARATOR, 1)[0]
        if name not in categories:
            parts.append(table[column])
        elif column == _level_column(name, categories[name][0]):
            levels = categories[name]
            block = table[[_level_column(name, level) for level in levels]].to_numpy() > 0
            chosen = np.asarray(levels, dtype=object)[block.argmax(axis=1)]
            values = np.where(block.any(axis=1), chosen, None)
            parts.append(pd.Series(values, index=table.index, name=name))
    return pd.concat(parts, axis=1) if parts else table


def _level_column(column: str, level: str) -> str:
    return f"{column}{LEVEL_SEPARATOR}{level}"


def check_max_levels(max_levels: int) -> None:
    """:raises InputError: naming ``max_levels``, unless an int >= 2 (a kept level + other)."""
    if not isinstance(max_levels, int | np.integer) or isinstance(max_levels, bool):
        raise InputError(f"max_levels must be an int >= 2, got {max_levels!r}")
    if max_levels < 2:
        raise InputError(
            f"max_levels must be >= 2 (one level kept plus {OTHER_LEVEL!r}), got {max_levels}"
        )


def _encode_column(
    values: pd.Series, noun: str, max_levels: int
) -> tuple[pd.DataFrame, tuple[str, ...] | None]:
    """One feature column as numbers: ``([n, 1 or L] table, levels or None)``."""
    column = values.name
    missing = values.isna().to_numpy()
    if missing.all():
        raise LogValidationError(
            f"every value is missing (NaN) for all {len(values)} {noun}", column
        )
    if pd.api.types.is_bool_dtype(values):
        return values.astype(np.float32).to_frame(), None
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_timedelta64_dtype(values):
        raise LogValidationError("date-time features are not supported; convert to numbers", column)
    if pd.api.types.is_complex_dtype(values):
        raise LogValidationError("complex numbers are not supported; give real numbers", column)
    if pd.api.types.is_numeric_dtype(values):
        infinite = np.isinf(values.to_numpy(np.float64, na_value=np.nan))
        raise_if_any(values.to_frame(), column, infinite, f"infinite values for {noun}")
        if missing.any():
            mean = float(values.mean())
            _warn(
                f"{column}: {missing.sum()} of {len(values)} {noun} have no value (NaN); "
                f"filled with the column mean {mean:.6g}"
            )
            values = values.fillna(mean)
        return values.to_frame(), None
    return _one_hot(values, missing, noun, max_levels)


def _check_scalars(log: pd.DataFrame, column: str) -> None:
    """Raise unless every value of ``column`` is a scalar (lists, dicts, sets... are not)."""
    try:
        pd.unique(log[column])  # one C pass; raises on the first unhashable value
    except TypeError:
        scalar = log[column].map(pd.api.types.is_scalar)  # a Python pass, on error only
        raise_if_any(log, column, ~scalar, "values must be numbers, booleans or strings")
        raise


def _one_hot(
    values: pd.Series, missing: np.ndarray, noun: str, max_levels: int
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    column = values.name
    codes, levels = pd.factorize(values.astype("string"), sort=True)
    levels = tuple(str(level) for level in levels)
    if len(levels) > max_levels:
        codes, levels = _merge_rare(column, codes, levels, max_levels, noun)
    if missing.any():
        _warn(
            f"{column}: {missing.sum()} of {len(values)} {noun} have no value (NaN); "
            "encoded as no level (all its one-hot columns 0)"
        )
    one_hot = (codes[:, None] == np.arange(len(levels))).astype(np.float32)
    names = [_level_column(column, level) for level in levels]
    return pd.DataFrame(one_hot, index=values.index, columns=names), levels


def _merge_rare(
    column: str, codes: np.ndarray, levels: tuple[str, ...], max_levels: int, noun: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    """``(codes [n], levels)`` with all but the ``max_levels - 1`` most frequent levels merged
    into :data:`OTHER_LEVEL` (the last level); a level spelled :data:`OTHER_LEVEL` is merged."""
    counts = np.bincount(codes[codes >= 0], minlength=len(levels))
    rank = np.where(np.asarray(levels, dtype=object) == OTHER_LEVEL, -1, counts)
    kept = np.sort(np.lexsort((np.arange(len(levels)), -rank))[: max_levels - 1])
    merged = np.setdiff1d(np.arange(len(levels)), kept)
    new_codes = np.full(len(levels), len(kept))
    new_codes[kept] = np.arange(len(kept))
    _warn(
        f"{column}: {len(levels)} levels, more than max_levels={max_levels}; the "
        f"{len(merged)} rarest (on {counts[merged].sum()} of {len(codes)} {noun}) merged into "
        f"{OTHER_LEVEL!r}, first {[levels[i] for i in merged[:SHOW_LEVELS]]}"
    )
    codes = np.where(codes >= 0, new_codes[np.maximum(codes, 0)], -1)
    return codes, (*(levels[i] for i in kept), OTHER_LEVEL)


def _warn_if_varying(log: pd.DataFrame, key: str, columns: list[str], noun: str) -> None:
    """Warn about each column whose value differs between rows of one id (batched)."""
    if not columns:
        return
    varying = (log.groupby(key, sort=False)[columns].nunique(dropna=False) > 1).sum()
    for column, count in varying[varying > 0].items():
        _warn(
            f"{column} varies within {count} {noun}; each keeps the value of its first row "
            "(smallest request_id, then position)"
        )


def _warn(message: str) -> None:
    warnings.warn(message, LogDataWarning, stacklevel=2)
