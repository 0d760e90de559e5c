"""The canonical log validator and file loading: every bad input raises a named error."""

import numpy as np
import pandas as pd
import pytest

from rec_env.data import LogFileError, LogValidationError, load_log, validate_log


def good_log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [0, 0, 0, 1, 1],
            "request_id": [10, 10, 10, 11, 11],
            "position": [0, 1, 2, 0, 1],
            "item_id": [3, 4, 5, 3, 6],
            "click": [0, 1, 0, 0, 1],
        }
    )


def with_value(column, row, value):
    def edit(log):
        log[column] = log[column].astype(object if isinstance(value, str) else float)
        log.loc[row, column] = value
        return log

    return edit


BAD_LOGS = {
    "missing column": (lambda log: log.drop(columns="click"), "click", "missing"),
    "NaN user id": (with_value("user_id", 1, np.nan), "user_id", "NaN"),
    "negative item id": (with_value("item_id", 2, -4), "item_id", "below 0"),
    "NaN request id": (with_value("request_id", 0, np.nan), "request_id", "NaN"),
    "fractional id": (with_value("item_id", 0, 1.5), "item_id", "non-integer"),
    "string id": (with_value("user_id", 0, "alice"), "user_id", "must be integer"),
    "click of 2": (with_value("click", 3, 2), "click", "0 or 1"),
    "NaN click": (with_value("click", 3, np.nan), "click", "0 or 1"),
    "negative position": (with_value("position", 0, -1), "position", "below 0"),
    "duplicate position": (with_value("position", 1, 0), "position", "duplicate"),
    "two users in a request": (with_value("user_id", 2, 7), "user_id", "more than one user"),
    "longer than K": (with_value("position", 2, 3), "position", "longer than K"),
}


@pytest.mark.parametrize("case", BAD_LOGS, ids=list(BAD_LOGS))
def test_bad_log_raises_naming_column_and_rows(case):
    edit, column, phrase = BAD_LOGS[case]
    with pytest.raises(LogValidationError, match=phrase) as error:
        validate_log(edit(good_log()), slate_size=3)
    assert error.value.column == column
    assert f"'{column}'" in str(error.value)
    if case != "missing column":
        assert error.value.rows is not None and len(error.value.rows) >= 1


def test_error_is_a_value_error_and_shows_offending_rows():
    log = good_log()
    log.loc[4, "click"] = 5
    with pytest.raises(ValueError, match="first offending rows") as error:
        validate_log(log)
    assert list(error.value.rows.index) == [4]


def test_empty_log_raises():
    with pytest.raises(LogValidationError, match="empty"):
        validate_log(good_log().iloc[:0])


def test_valid_log_is_sorted_and_typed_without_losing_rows():
    shuffled = good_log().sample(frac=1.0, random_state=0).assign(rating=[1, 2, 3, 4, 5])
    out = validate_log(shuffled, slate_size=3)
    assert len(out) == len(shuffled)
    assert list(out["request_id"]) == [10, 10, 10, 11, 11]
    assert list(out["position"]) == [0, 1, 2, 0, 1]
    assert out["click"].dtype == np.int8 and out["item_id"].dtype == np.int64
    assert "rating" in out.columns


def test_short_requests_are_kept():
    log = good_log().iloc[:4]  # request 11 has a single slot
    assert len(validate_log(log, slate_size=10)) == 4


FILE_CASES = {
    "missing": (None, "not found"),
    "empty": (b"", "empty"),
    "header only": (b"user_id,request_id,position,item_id,click\n", "no rows"),
    "garbage parquet": (b"not a parquet file at all", "cannot read"),
}


@pytest.mark.parametrize("case", FILE_CASES, ids=list(FILE_CASES))
def test_unreadable_files_raise_log_file_error(tmp_path, case):
    content, phrase = FILE_CASES[case]
    path = tmp_path / ("log.parquet" if case == "garbage parquet" else "log.csv")
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LogFileError, match=phrase):
        load_log(path)


def test_unknown_suffix_raises(tmp_path):
    path = tmp_path / "log.txt"
    path.write_text("x")
    with pytest.raises(LogFileError, match="unsupported extension '.txt'.*use .csv or .parquet"):
        load_log(path)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_load_log_splits_out_feature_tables(tmp_path, suffix):
    log = good_log().assign(u_age=[0.1, 0.1, 0.1, 0.7, 0.7], i_price=[3.0, 4.0, 5.0, 3.0, 6.0])
    path = tmp_path / f"mine{suffix}"
    log.to_csv(path, index=False) if suffix == ".csv" else log.to_parquet(path)
    dataset = load_log(path)
    assert dataset.name == "mine" and dataset.slate_size == 3
    assert list(dataset.users["u_age"]) == [0.1, 0.7]
    assert dataset.items.loc[dataset.vocabularies.items.encode(6), "i_price"] == 6.0
    assert not any(c.startswith(("u_", "i_")) for c in dataset.log.columns)


def test_load_log_rejects_request_longer_than_slate_size(tmp_path):
    path = tmp_path / "log.csv"
    good_log().to_csv(path, index=False)
    with pytest.raises(LogValidationError, match="longer than K"):
        load_log(path, slate_size=2)
