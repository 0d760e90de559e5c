"""Map a raw log's id columns (sparse integers or strings) to dense indices, once, at load."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rec_env.data.schema import (
    ID_COLUMNS,
    SHOW_ROWS,
    LogValidationError,
    int64_values,
    raise_if_any,
    require_columns,
)
from rec_env.data.vocabulary import IdVocabulary, Vocabularies

INTEGER_KINDS = ("integer",)
FLOAT_KINDS = ("floating", "mixed-integer-float")
STRING_KINDS = ("string",)


def raw_id_values(log: pd.DataFrame, column: str) -> np.ndarray:
    """``[N]`` the raw ids of ``column`` as int64 (integers, integral floats) or object (str).

    :raises LogValidationError: missing values, infinite or non-integral floats, integers
        beyond int64 (which a cast would silently wrap), or ids that are neither
        all integers nor all strings (e.g. booleans, date-times, a mix of types).
    """
    values = log[column]
    raise_if_any(log, column, values.isna(), "missing ids (NaN)")
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    kind = pd.api.types.infer_dtype(values, skipna=False)
    if kind in INTEGER_KINDS:
        return int64_values(log, values, "ids")
    if kind in FLOAT_KINDS:
        return int64_values(log, values.astype(np.float64), "ids")
    if kind in STRING_KINDS:
        return values.to_numpy(object)
    raise LogValidationError(
        f"ids must be all integers or all strings, got {kind} values (dtype {values.dtype})",
        column,
        log.head(SHOW_ROWS),
    )


def encode_ids(log: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, IdVocabulary]]:
    """``log`` with ``user_id``, ``request_id``, ``item_id`` replaced by dense int64 indices,
    and the vocabulary of each (keyed by column). One sorted factorisation per column.

    :raises LogValidationError: a missing column or bad ids (see :func:`raw_id_values`).
    """
    require_columns(log)
    out = log.copy()
    vocabularies = {}
    for column in ID_COLUMNS:
        vocabularies[column], out[column] = IdVocabulary.build(column, raw_id_values(log, column))
    return out, vocabularies


def range_vocabularies(log: pd.DataFrame, items: pd.DataFrame, users: pd.DataFrame) -> Vocabularies:
    """Range vocabularies of a log whose ids already are indices: sizes ``max id + 1`` over
    the log and the feature tables (so ids without a row in the log keep their index)."""

    def size(column: str, table: pd.DataFrame | None) -> int:
        extra = -1 if table is None else table.index.to_numpy().max(initial=-1)
        return int(max(log[column].max(), extra)) + 1

    return Vocabularies(
        users=IdVocabulary.range("user_id", size("user_id", users)),
        items=IdVocabulary.range("item_id", size("item_id", items)),
        requests=IdVocabulary.range("request_id", size("request_id", None)),
    )
