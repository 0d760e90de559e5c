"""Fuzzing the log loaders: a malformed log either loads, whole, or raises the documented
LogValidationError / LogFileError naming the column; never an error from inside pandas/numpy.

Each example starts from a valid log and breaks it (a column's values replaced by nasty ones,
a column dropped or added, rows duplicated or removed...). Examples per test: see the
hypothesis profiles in tests/conftest.py.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rec_env.data import (
    REQUIRED_COLUMNS,
    LogDataset,
    LogDataWarning,
    LogFileError,
    LogValidationError,
    dataset_from_log,
    load_dataset,
    load_log,
    validate_log,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::rec_env.data.LogDataWarning",  # documented fills and first-row rules
    "error::RuntimeWarning",  # e.g. numpy's "invalid value encountered in cast"
)

NASTY_SCALARS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-3, max_value=30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, 1.0, -1.0, 2.0**63, float("nan"), float("inf")]),
    st.text(max_size=5),
    st.booleans(),
    st.none(),
)
"""One cell of a broken column: any Python scalar a log might hold."""

COLUMN_NAMES = st.one_of(
    st.sampled_from([*REQUIRED_COLUMNS, "timestamp", "u_age", "i_category", "i_price"]),
    st.text(min_size=1, max_size=6),  # unicode names, extra columns
)


@st.composite
def valid_logs(draw) -> pd.DataFrame:
    """A small valid log: 1-6 requests of 1-4 slots, sparse or string ids."""
    lengths = draw(st.lists(st.integers(1, 4), min_size=1, max_size=6))
    request = np.repeat(np.arange(len(lengths)), lengths)
    position = np.concatenate([np.arange(n) for n in lengths])
    n = len(request)
    users = draw(st.lists(st.integers(0, 3), min_size=len(lengths), max_size=len(lengths)))
    log = pd.DataFrame(
        {
            "user_id": np.asarray(users)[request],
            "request_id": request,
            "position": position,
            "item_id": draw(st.lists(st.integers(0, 2**40), min_size=n, max_size=n)),
            "click": draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)),
        }
    )
    if draw(st.booleans()):
        log["item_id"] = "item-" + log["item_id"].astype(str)
    return log


@st.composite
def broken_logs(draw) -> pd.DataFrame:
    """A valid log, then one to three breakages."""
    log = draw(valid_logs())
    for _ in range(draw(st.integers(1, 3))):
        log = draw(st.sampled_from(BREAKAGES))(draw, log)
    return log


def _replace_cells(draw, log: pd.DataFrame) -> pd.DataFrame:
    column = draw(COLUMN_NAMES)
    values = draw(st.lists(NASTY_SCALARS, min_size=len(log), max_size=len(log)))
    return log.assign(**{column: pd.Series(values, index=log.index, dtype=object)})


def _replace_one_cell(draw, log: pd.DataFrame) -> pd.DataFrame:
    if log.empty:
        return log
    column = draw(st.sampled_from(list(log.columns)))
    values = log[column].astype(object).copy()
    values.iloc[draw(st.integers(0, len(log) - 1))] = draw(NASTY_SCALARS)
    return log.assign(**{column: values.infer_objects()})


def _drop_column(draw, log: pd.DataFrame) -> pd.DataFrame:
    if not len(log.columns):
        return log
    return log.drop(columns=draw(st.sampled_from(list(log.columns))))


def _add_numbers(draw, log: pd.DataFrame) -> pd.DataFrame:
    column = draw(COLUMN_NAMES)
    floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
    values = draw(st.lists(floats, min_size=len(log), max_size=len(log)))
    return log.assign(**{column: values})


def _duplicate_rows(draw, log: pd.DataFrame) -> pd.DataFrame:
    if log.empty:
        return log
    rows = draw(st.lists(st.integers(0, len(log) - 1), min_size=1, max_size=3))
    return pd.concat([log, log.iloc[rows]], ignore_index=True)


def _drop_rows(draw, log: pd.DataFrame) -> pd.DataFrame:
    keep = draw(st.integers(0, len(log)))
    return log.iloc[:keep].reset_index(drop=True)


def _shift_positions(draw, log: pd.DataFrame) -> pd.DataFrame:
    if not pd.api.types.is_integer_dtype(log.get("position", pd.Series(dtype=object))):
        return log  # already broken otherwise
    return log.assign(position=log["position"] + draw(st.sampled_from([1, -1, 10**6])))


BREAKAGES = (
    _replace_cells,
    _replace_one_cell,
    _drop_column,
    _add_numbers,
    _duplicate_rows,
    _drop_rows,
    _shift_positions,
)


def check_error_names_a_column(error: LogValidationError, log: pd.DataFrame) -> None:
    """A column to blame is one of the log's (or a missing required one), and named."""
    if error.column is not None:
        assert error.column in [*log.columns, *REQUIRED_COLUMNS]
        assert repr(error.column) in str(error)
    if error.rows is not None and len(error.rows):
        assert "first offending rows" in str(error)


# Minimal failing examples found by the fuzzing, kept (each was an error from inside
# pandas / numpy, a crash, or a silently wrapped id before the fix):
INF_POSITION = pd.DataFrame(
    {"user_id": [0, 0], "request_id": [0, 0], "position": [0, math.inf], "item_id": [1, 2],
     "click": [0, 1]}
)  # fmt: skip
HUGE_FLOAT_ID = INF_POSITION.assign(position=[0, 1], item_id=[1e20, 2.0])
HUGE_UINT_ID = INF_POSITION.assign(position=[0, 1], item_id=np.array([2**63 + 5, 2], np.uint64))
HUGE_PYTHON_ID = INF_POSITION.assign(position=[0, 1], item_id=pd.Series([2**70, 2], dtype=object))
INF_ID = INF_POSITION.assign(position=[0, 1], item_id=[math.inf, 2.0])
INT_COLUMN_NAME = INF_POSITION.assign(position=[0, 1]).rename(columns={"click": 0}).assign(click=0)
REPEATED_COLUMN = pd.concat([INF_POSITION.assign(position=[0, 1]), INF_POSITION[["click"]]], axis=1)
INF_FEATURE = INF_POSITION.assign(position=[0, 1], i_price=[math.inf, 1.0])
LIST_FEATURE = INF_POSITION.assign(position=[0, 1], i_tags=[["a"], ["b"]])


@pytest.mark.parametrize(
    ("log", "column", "message"),
    [
        (INF_POSITION, "position", "infinite values"),
        (HUGE_FLOAT_ID, "item_id", "outside the int64 range"),
        (HUGE_UINT_ID, "item_id", "outside the int64 range"),
        (HUGE_PYTHON_ID, "item_id", "outside the int64 range"),
        (INF_ID, "item_id", "infinite ids"),
        (INT_COLUMN_NAME, None, r"column names must be strings, got \[0\]"),
        (REPEATED_COLUMN, None, r"column names must be unique, repeated: \['click'\]"),
        (INF_FEATURE, "i_price", "infinite values for items"),
        (LIST_FEATURE, "i_tags", "values must be numbers, booleans or strings"),
    ],
    ids=["inf-position", "1e20-id", "uint64-id", "2**70-id", "inf-id", "int-name", "repeated",
         "inf-feature", "list-feature"],
)  # fmt: skip
def test_found_by_fuzzing_dataset_from_log_names_the_column(log, column, message):
    with pytest.raises(LogValidationError, match=message) as caught:
        dataset_from_log("found", log)
    assert caught.value.column == column


@pytest.mark.parametrize(
    ("log", "message"),
    [
        (INF_POSITION, "'position': infinite values"),
        (HUGE_FLOAT_ID, "'item_id': values outside the int64 range"),
        (HUGE_UINT_ID, "'item_id': values outside the int64 range"),
        (INF_ID, "'item_id': infinite values"),
        (INT_COLUMN_NAME, "column names must be strings"),
        (REPEATED_COLUMN, "column names must be unique"),
    ],
    ids=["inf-position", "1e20-id", "uint64-id", "inf-id", "int-name", "repeated"],
)
def test_found_by_fuzzing_validate_log_names_the_column(log, message):
    with pytest.raises(LogValidationError, match=message):
        validate_log(log)


@given(log=broken_logs())
@example(log=INF_POSITION)
@example(log=HUGE_FLOAT_ID)
@example(log=HUGE_UINT_ID)
@example(log=INF_ID)
@example(log=INT_COLUMN_NAME)
@example(log=REPEATED_COLUMN)
def test_validate_log_returns_a_canonical_log_or_names_the_column(log):
    try:
        out = validate_log(log)
    except LogValidationError as error:
        check_error_names_a_column(error, log)
        return
    assert len(out) == len(log)  # nothing dropped
    assert all(out[c].dtype == np.int64 for c in ("user_id", "request_id", "item_id", "position"))
    assert out["click"].isin([0, 1]).all() and (out[["user_id", "item_id"]] >= 0).all().all()
    assert not out.duplicated(["request_id", "position"]).any()


@given(log=broken_logs())
@example(log=HUGE_PYTHON_ID)
@example(log=INF_FEATURE)
@example(log=LIST_FEATURE)
@example(log=INF_POSITION.assign(position=[0, 1], item_id=[0.0, 1.0]))  # ids come back as ints
def test_dataset_from_log_keeps_every_row_or_names_the_column(log):
    try:
        dataset = dataset_from_log("fuzz", log)
    except LogValidationError as error:
        check_error_names_a_column(error, log)
        return
    check_dataset(dataset, log)


def check_dataset(dataset: LogDataset, log: pd.DataFrame) -> None:
    """Every row kept, ids inside their vocabularies, the raw ids decoded back."""
    assert len(dataset.log) == len(log)
    assert dataset.log["item_id"].between(0, dataset.n_items - 1).all()
    assert dataset.log["user_id"].between(0, dataset.n_users - 1).all()
    decoded = dataset.to_frame()["item_id"]  # integral floats come back as ints
    given = log["item_id"] if decoded.dtype == object else log["item_id"].astype(decoded.dtype)
    assert sorted(decoded.tolist()) == sorted(given.tolist())
    for table in (dataset.items, dataset.users):
        assert np.isfinite(table.to_numpy(np.float64)).all()


SUFFIXES = [".csv", ".parquet"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """One folder for the module's files (hypothesis reuses it across examples)."""
    return tmp_path_factory.mktemp("fuzz_logs")


def write(log: pd.DataFrame, path) -> bool:
    """Write ``log`` by suffix; False when the writer itself refuses it (mixed-type object
    columns in parquet, say): then there is no file to load."""
    try:
        if path.suffix == ".csv":
            log.to_csv(path, index=False)
        else:
            log.to_parquet(path, index=False)
    except Exception:  # the writer's own refusals are not what is tested
        return False
    return True


@pytest.mark.parametrize("suffix", SUFFIXES)
@given(log=broken_logs())
def test_load_log_of_a_written_file_loads_or_names_the_column(folder, suffix, log):
    path = folder / f"log{suffix}"
    path.unlink(missing_ok=True)
    if not write(log, path):
        return
    for load in (load_log, lambda p: load_dataset(str(p))):
        try:
            dataset = load(path)
        except LogFileError as error:
            assert str(path) in str(error)
            continue
        except LogValidationError as error:
            check_error_names_a_column(error, pd.read_csv(path) if suffix == ".csv" else log)
            continue
        assert len(dataset.log) == len(log)


@pytest.mark.parametrize("suffix", [*SUFFIXES, ".pq"])
@given(content=st.binary(max_size=200))
def test_a_file_of_random_bytes_is_a_log_file_error_or_a_validation_error(folder, suffix, content):
    path = folder / f"bytes{suffix}"
    path.write_bytes(content)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogDataWarning)
        try:
            load_log(path)
        except LogFileError as error:
            assert str(path) in str(error)
        except LogValidationError:
            assert suffix == ".csv"  # a parquet file either reads as a table or fails to
        else:
            pytest.fail("random bytes loaded as a log")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.csv", "log file not found"),
        ("missing.parquet", "log file not found"),
        ("a_folder.csv", "log file not found"),
        ("empty.csv", "log file is empty"),
        ("header_only.csv", "log file has a header but no rows"),
        ("log.json", "unsupported extension '.json'"),
        ("truncated.parquet", "cannot read"),
    ],
)
def test_a_missing_or_unreadable_file_is_a_log_file_error_naming_it(tmp_path, name, message):
    path = tmp_path / name
    if name == "a_folder.csv":
        path.mkdir()
    elif name == "empty.csv":
        path.touch()
    elif name == "header_only.csv":
        path.write_text(",".join(REQUIRED_COLUMNS) + "\n")
    elif name == "log.json":
        path.write_text("{}")
    elif name == "truncated.parquet":
        INF_POSITION.assign(position=[0, 1]).to_parquet(path)
        path.write_bytes(path.read_bytes()[:-20])
    for load in (load_log, lambda p: load_dataset(str(p))):
        with pytest.raises(LogFileError, match=message) as caught:
            load(path)
        assert str(path) in str(caught.value)
