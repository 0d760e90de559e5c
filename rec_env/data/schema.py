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

``click`` may also be booleans or the strings ``"true"`` / ``"false"`` / ``"1"`` / ``"0"``
(any case, e.g. a parquet column of strings): they become 1 / 0 whatever the file format, so
a CSV and a parquet file of the same log load alike.

This is the *canonical* form, with ids as dense indices. A user's own log may use ids of
any kind (sparse integers, strings): :func:`~rec_env.data.load_log` maps them to indices
first (:mod:`rec_env.data.vocabulary`). Positions are 0-based: a log without any row at
position 0 is refused (1-based positions would silently add an empty slot).

Optional: ``timestamp`` (numbers in any unit, datetimes, or ISO 8601 strings such as
``"2024-01-01 00:00:44"``; all become float64 seconds, datetimes since 1970-01-01 UTC, naive
ones read as UTC), ``rating``, ``propensity_score``, user feature columns ``u_*`` and item
feature columns ``i_*``. Other columns are kept as they are.

Every loader goes through :func:`validate_log`; bad input raises
:class:`LogValidationError` naming the column and showing the first offending rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("user_id", "request_id", "position", "item_id", "click")
ID_COLUMNS = ("user_id", "request_id", "item_id")
SHOW_ROWS = 5
INT64_LIMIT = 2**63
OUTSIDE_INT64 = "outside the int64 range (|value| < 2**63)"
EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
CLICK_WORDS = {"true": 1, "false": 0, "1": 1, "0": 0}
"""strings a ``click`` column may hold (compared lower-case, stripped), and their clicks"""


class LogValidationError(ValueError):
    """A log does not follow the canonical schema.

    :param message: what is wrong and how to fix it.
    :param column: the offending column, if one is to blame.
    :param rows: the first offending rows (at most ``SHOW_ROWS``), if any.
    """

    def __init__(self, message: str, column: str | None = None, rows: pd.DataFrame | None = None):
        self.message, self.column, self.rows = message, column, rows
        text = message if column is None else f"column {column!r}: {message}"
        if rows is not None and len(rows):
            text += f"\nfirst offending rows:\n{rows.head(SHOW_ROWS).to_string()}"
        super().__init__(text)

    def with_rows(self, rows: pd.DataFrame) -> LogValidationError:
        """The same error showing ``rows`` instead (e.g. the offending rows as the user wrote
        them, before their ids were encoded)."""
        return type(self)(self.message, self.column, rows)


def raise_if_any(log: pd.DataFrame, column: str, bad: np.ndarray | pd.Series, message: str) -> None:
    """Raise if any row is ``bad``; the error counts them and shows the first ones."""
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        count = int(bad.sum())
        raise LogValidationError(f"{message} ({count} of {len(log)} rows)", column, log[bad])


def _check_integer_column(log: pd.DataFrame, column: str, minimum: int) -> None:
    values = log[column]
    raise_if_any(log, column, values.isna(), "missing values (NaN)")
    if not (pd.api.types.is_integer_dtype(values) or pd.api.types.is_float_dtype(values)):
        hint = "; load_log / dataset_from_log map ids of any kind" if column in ID_COLUMNS else ""
        raise LogValidationError(
            f"must be integer, got dtype {values.dtype}{hint}",
            column,
            log.head(SHOW_ROWS),
        )
    numeric = int64_values(log, values, "values")
    raise_if_any(log, column, numeric < minimum, f"values below {minimum}")


def int64_values(log: pd.DataFrame, values: pd.Series, noun: str) -> np.ndarray:
    """``[N]`` int64: ``values``, the column of ``log`` named ``values.name``, as integers.

    :param values: integers (any width, or Python ints in an object column) or floats, with
        no missing values (checked first).
    :param noun: what the values are, for the errors (``"ids"``, ``"values"``).
    :raises LogValidationError: infinite or non-integer floats, or values outside the int64
        range (which a cast would silently wrap); the error shows the rows.
    """
    column = values.name
    if pd.api.types.is_float_dtype(values):
        numeric = values.to_numpy(np.float64)
        raise_if_any(log, column, ~np.isfinite(numeric), f"infinite {noun}")
        raise_if_any(log, column, numeric != np.round(numeric), f"non-integer {noun}")
        raise_if_any(log, column, np.abs(numeric) >= INT64_LIMIT, f"{noun} {OUTSIDE_INT64}")
        return numeric.astype(np.int64)
    if pd.api.types.is_unsigned_integer_dtype(values):
        numeric = values.to_numpy(np.uint64)
        raise_if_any(log, column, numeric >= np.uint64(INT64_LIMIT), f"{noun} {OUTSIDE_INT64}")
        return numeric.astype(np.int64)
    try:  # signed integers, or Python ints in an object column
        return values.to_numpy(np.int64)
    except OverflowError:
        too_large = values.map(lambda value: abs(value) >= INT64_LIMIT)  # on error only
        raise_if_any(log, column, too_large, f"{noun} {OUTSIDE_INT64}")
        raise


def require_columns(log: pd.DataFrame) -> None:
    """Raise unless ``log`` is a non-empty DataFrame with unique string column names, every
    required column among them."""
    if not isinstance(log, pd.DataFrame):
        raise LogValidationError(f"a log must be a pandas DataFrame, got {type(log).__name__}")
    if len(log) == 0:
        raise LogValidationError("the log is empty (no rows)")
    not_strings = [name for name in log.columns if not isinstance(name, str)]
    if not_strings:
        raise LogValidationError(f"column names must be strings, got {not_strings[:SHOW_ROWS]}")
    repeated = log.columns[log.columns.duplicated()].unique().tolist()
    if repeated:
        raise LogValidationError(f"column names must be unique, repeated: {repeated}")
    for column in REQUIRED_COLUMNS:
        if column not in log.columns:
            raise LogValidationError(
                f"missing; a log needs columns {list(REQUIRED_COLUMNS)}, got {list(log.columns)}",
                column,
            )


def validate_log(log: pd.DataFrame, slate_size: int | None = None) -> pd.DataFrame:
    """Check a log against the canonical schema and return it with canonical dtypes.

    :param log: one row per shown slot (see the module docstring).
    :param slate_size: K, the longest allowed list; ``None`` accepts any length.
    :return: a copy with ids as int64, ``position`` as int64, ``click`` as int8 and
        ``timestamp`` (if any) as float64 seconds, sorted by ``(request_id, position)``.
    :raises LogValidationError: on an empty log, column names that are not unique strings,
        a missing column, NaN / infinite / negative / non-integer / beyond-int64 ids, clicks
        that are not 0 / 1 (nor booleans or :data:`CLICK_WORDS`), negative or duplicate positions in a
        request, no row at position 0, a request served to two users, a request longer than
        ``slate_size``, or a missing or unparsable timestamp.
    """
    require_columns(log)
    for column in ID_COLUMNS:
        _check_integer_column(log, column, minimum=0)
    _check_integer_column(log, "position", minimum=0)
    if not (log["position"] == 0).any():
        raise LogValidationError(
            "no row has position 0: positions are 0-based (0 = the first slot); "
            "if yours start at 1, subtract 1",
            "position",
            log.head(SHOW_ROWS),
        )
    clicks = click_values(log)
    out = log.astype({c: np.int64 for c in (*ID_COLUMNS, "position")}).assign(click=clicks)
    if "timestamp" in out.columns:
        out["timestamp"] = timestamp_seconds(out)
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
    raise_if_any(
        out, "position", _with_previous(duplicate_position), "duplicate positions within a request"
    )
    other_user = same_request & ~_same_as_previous(out["user_id"].to_numpy())
    raise_if_any(
        out, "user_id", _with_previous(other_user), "a request is served to more than one user"
    )
    if slate_size is not None:
        raise_if_any(
            out,
            "position",
            position >= slate_size,
            f"position >= slate_size {slate_size}: the request is longer than K",
        )
    return out


def click_values(log: pd.DataFrame) -> np.ndarray:
    """``[N]`` int8: the log's ``click`` column as 0 / 1.

    Numbers must be 0 or 1; booleans and the strings of :data:`CLICK_WORDS` map to 1 / 0.

    :raises LogValidationError: naming ``click``: any other value, or a missing one.
    """
    values = log["click"]
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(np.int8)
    if pd.api.types.is_numeric_dtype(values):
        raise_if_any(log, "click", ~values.isin([0, 1]), "clicks must be 0 or 1")
        return values.to_numpy(np.int8)
    words = values.astype("string").str.strip().str.lower().map(CLICK_WORDS)
    raise_if_any(
        log,
        "click",
        words.isna(),
        "clicks must be 0 or 1 (or booleans, or the strings 'true' / 'false' / '1' / '0')",
    )
    return words.to_numpy(np.int8)


def timestamp_seconds(log: pd.DataFrame) -> np.ndarray:
    """``[N]`` float64: the log's ``timestamp`` column in seconds.

    Numbers are kept as they are (any unit); datetimes (naive ones read as UTC) and ISO 8601
    strings become seconds since 1970-01-01 UTC.

    :raises LogValidationError: missing values, booleans, or strings that are not ISO 8601.
    """
    values = log["timestamp"]
    raise_if_any(log, "timestamp", values.isna(), "missing values (NaN / NaT)")
    if pd.api.types.is_bool_dtype(values):
        raise LogValidationError("must be numbers or date-times, got booleans", "timestamp")
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(np.float64)
    if not pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=True)
        raise_if_any(
            log,
            "timestamp",
            parsed.isna(),
            "neither numbers nor ISO 8601 date-times (e.g. '2024-01-01 00:00:44')",
        )
        values = parsed
    if values.dt.tz is None:
        values = values.dt.tz_localize("UTC")
    return ((values - EPOCH) / pd.Timedelta(seconds=1)).to_numpy(np.float64)


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
