"""The canonical log schema and its one validator.

A log has one row per shown slot:

=============  ========  =====================================================
column         dtype     meaning
=============  ========  =====================================================
``user_id``    int >= 0  who was served
``request_id`` int >= 0  one feed request (one list); all its rows share a user
``position``   int       slot in the list, ``0 <= position < slate_size``
``item_id``    int >= 0  the item shown
``click``      0 / 1     whether it was clicked
=============  ========  =====================================================

Optional: ``timestamp`` (numeric or datetime), ``rating``, ``propensity_score``,
user feature columns ``u_*`` and item feature columns ``i_*``. Other columns
are kept as they are.

Every loader goes through :func:`validate_log`; bad input raises
:class:`LogValidationError` naming the column and showing the first offending rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("user_id", "request_id", "position", "item_id", "click")
ID_COLUMNS = ("user_id", "request_id", "item_id")
SHOW_ROWS = 5


class LogValidationError(ValueError):
    """A log does not follow the canonical schema.

    :param message: what is wrong and how to fix it.
    :param column: the offending column, if one is to blame.
    :param rows: the first offending rows (at most ``SHOW_ROWS``), if any.
    """

    def __init__(self, message: str, column: str | None = None, rows: pd.DataFrame | None = None):
        self.column = column
        self.rows = rows
        text = message if column is None else f"column {column!r}: {message}"
        if rows is not None and len(rows):
            text += f"\nfirst offending rows:\n{rows.head(SHOW_ROWS).to_string()}"
        super().__init__(text)


def _fail(log: pd.DataFrame, column: str, bad: np.ndarray | pd.Series, message: str) -> None:
    """Raise if any row is ``bad``; the error counts them and shows the first ones."""
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        count = int(bad.sum())
        raise LogValidationError(f"{message} ({count} of {len(log)} rows)", column, log[bad])


def _check_integer_column(log: pd.DataFrame, column: str, minimum: int) -> None:
    values = log[column]
    _fail(log, column, values.isna(), "missing values (NaN)")
    if not (pd.api.types.is_integer_dtype(values) or pd.api.types.is_float_dtype(values)):
        raise LogValidationError(
            f"must be integer, got dtype {values.dtype}; encode ids as integers first "
            "(e.g. pandas.factorize)",
            column,
            log.head(SHOW_ROWS),
        )
    numeric = values.to_numpy()
    if pd.api.types.is_float_dtype(values):
        _fail(log, column, numeric != np.round(numeric), "non-integer values")
    _fail(log, column, numeric < minimum, f"values below {minimum}")


def validate_log(log: pd.DataFrame, slate_size: int | None = None) -> pd.DataFrame:
    """Check a log against the canonical schema and return it with canonical dtypes.

    :param log: one row per shown slot (see the module docstring).
    :param slate_size: K, the longest allowed list; ``None`` accepts any length.
    :return: a copy with ids as int64, ``position`` as int64 and ``click`` as int8,
        sorted by ``(request_id, position)``.
    :raises LogValidationError: on an empty log, a missing column, NaN / negative /
        non-integer ids, clicks outside {0, 1}, negative or duplicate positions in a
        request, a request served to two users, or a request longer than ``slate_size``.
    """
    if not isinstance(log, pd.DataFrame):
        raise LogValidationError(f"a log must be a pandas DataFrame, got {type(log).__name__}")
    if len(log) == 0:
        raise LogValidationError("the log is empty (no rows)")
    for column in REQUIRED_COLUMNS:
        if column not in log.columns:
            raise LogValidationError(
                f"missing; a log needs columns {list(REQUIRED_COLUMNS)}, got {list(log.columns)}",
                column,
            )
    for column in ID_COLUMNS:
        _check_integer_column(log, column, minimum=0)
    _check_integer_column(log, "position", minimum=0)
    _fail(log, "click", ~log["click"].isin([0, 1]), "clicks must be 0 or 1")

    out = log.astype({c: np.int64 for c in (*ID_COLUMNS, "position")}).astype({"click": np.int8})
    request = out["request_id"].to_numpy()
    position = out["position"].to_numpy()
    ordered = (request[1:] > request[:-1]) | (
        (request[1:] == request[:-1]) & (position[1:] >= position[:-1])
    )
    if not ordered.all():
        out = out.sort_values(["request_id", "position"], kind="stable")
        request = out["request_id"].to_numpy()
        position = out["position"].to_numpy()
    out = out.reset_index(drop=True)

    same_request = _same_as_previous(request)
    duplicate_position = same_request & _same_as_previous(position)
    _fail(
        out, "position", _with_previous(duplicate_position), "duplicate positions within a request"
    )
    other_user = same_request & ~_same_as_previous(out["user_id"].to_numpy())
    _fail(out, "user_id", _with_previous(other_user), "a request is served to more than one user")
    if slate_size is not None:
        _fail(
            out,
            "position",
            position >= slate_size,
            f"position >= slate_size {slate_size}: the request is longer than K",
        )
    return out


def _same_as_previous(values: np.ndarray) -> np.ndarray:
    """``[N]`` bool: row i has the same value as row i-1 (False for row 0)."""
    flags = np.zeros(len(values), dtype=bool)
    flags[1:] = values[1:] == values[:-1]
    return flags


def _with_previous(flags: np.ndarray) -> np.ndarray:
    """Mark row i-1 as well wherever row i is marked, so both rows of a clash are shown."""
    both = flags.copy()
    both[:-1] |= flags[1:]
    return both
