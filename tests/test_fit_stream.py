"""Logs larger than memory: the parquet layout of whole lists, and the streaming fit on it."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from rec_env import Scenario
from rec_env.checks import InputError
from rec_env.data import (
    REQUIRED_COLUMNS,
    LogFileError,
    LogValidationError,
    ParquetLists,
    load_dataset,
    write_lists_parquet,
)
from rec_env.data.lists import LoggedLists
from rec_env.simulator import LogClickConfig, fit_log_model, fit_log_model_streaming, fit_report
from rec_env.simulator.fit_stream import ParquetSource
from rec_env.simulator.list_tensors import LogCounts

FAST = LogClickConfig(dim=4, epochs=3, batch_size=64)
GROUP_ROWS = 250
"""25 lists of 10 per row group"""
CHUNK_ROWS = 2_000
"""a chunk: at most 8 row groups, under a third of the 7,200 training + validation rows"""


@pytest.fixture(scope="module")
def scenario():
    dataset = load_dataset("synthetic", n_users=60, n_items=80, n_requests=800, progress=False)
    return Scenario.from_dataset(dataset, split="request", split_seed=0)


@pytest.fixture(scope="module")
def path(scenario, tmp_path_factory):
    """The training + validation requests of ``scenario`` (the test ones are left out)."""
    log = scenario.dataset.log
    known = np.r_[scenario.splits.train.request_ids, scenario.splits.valid.request_ids]
    out = tmp_path_factory.mktemp("parquet") / "log.parquet"
    return write_lists_parquet(log[log["request_id"].isin(known)], out, group_rows=GROUP_ROWS)


def open_lists(scenario, path, chunk_rows: int = CHUNK_ROWS) -> ParquetLists:
    lists = scenario.lists
    return ParquetLists(path, lists.item_features, lists.user_features, 10, chunk_rows)


def test_row_groups_hold_whole_lists_in_request_order(scenario, path):
    metadata = pq.ParquetFile(path).metadata
    sizes = [metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)]
    assert max(sizes) <= GROUP_ROWS and all(size % 10 == 0 for size in sizes)
    lists = open_lists(scenario, path)
    chunks = list(lists.chunks(range(lists.n_groups)))
    assert len(chunks) > 1
    requests = np.concatenate([chunk.request_ids for chunk in chunks])
    np.testing.assert_array_equal(requests, np.unique(requests))  # each request in one chunk
    assert all(chunk.mask.all() for chunk in chunks)  # every list complete (K = 10 shown)
    assert sum(chunk.mask.sum() for chunk in chunks) == lists.n_rows


def test_streamed_counts_equal_the_counts_of_the_same_lists_in_memory(scenario, path):
    lists = open_lists(scenario, path)
    train, valid = lists.split(0.2, seed=3)
    streamed = ParquetSource(lists, train, valid).counts
    whole = LoggedLists.from_log(
        pd.read_parquet(path), 10, lists.item_features, lists.user_features
    )
    rows = np.isin(whole.request_ids, np.concatenate([c.request_ids for c in lists.chunks(train)]))
    expected = LogCounts.from_lists(whole.subset(rows))
    np.testing.assert_array_equal(streamed.item_slots, expected.item_slots)
    np.testing.assert_array_equal(streamed.user_slots, expected.user_slots)
    assert (streamed.clicks, streamed.n_lists) == (expected.clicks, expected.n_lists)


@pytest.fixture(scope="module")
def streamed(scenario, path):
    """The streaming fit, and the row counts of every read of the file during it."""
    read_rows = []
    read_row_groups = pq.ParquetFile.read_row_groups

    def counted(self, *args, **kwargs):
        table = read_row_groups(self, *args, **kwargs)
        read_rows.append(table.num_rows)
        return table

    def whole_file(*args, **kwargs):
        raise AssertionError("the whole file was read")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pq.ParquetFile, "read_row_groups", counted)
        patch.setattr(pq.ParquetFile, "read", whole_file)
        model = fit_log_model_streaming(open_lists(scenario, path), FAST, progress=False)
    return model, read_rows


def test_streaming_fit_holds_at_most_a_chunk_of_rows(streamed):
    model, read_rows = streamed
    assert max(read_rows) <= CHUNK_ROWS
    assert len(read_rows) > 2 * model.info["epochs_run"]  # several chunks per epoch
    assert len(model.info["epoch_seconds"]) == model.info["epochs_run"]


def test_streaming_fit_reaches_the_in_memory_fit_auc(scenario, streamed):
    splits = scenario.splits
    in_memory = fit_log_model(splits.train, splits.valid, FAST, progress=False)
    auc_streamed, auc_memory = (fit_report(m, scenario).auc for m in (streamed[0], in_memory))
    assert auc_streamed > 0.6
    assert auc_streamed == pytest.approx(auc_memory, abs=0.01)


def test_streaming_fit_is_seeded(scenario, path, streamed):
    again = fit_log_model_streaming(open_lists(scenario, path), FAST, progress=False)
    request = (
        np.arange(8),
        np.zeros((8, 10), int),
        np.zeros((8, 10)),
        np.arange(8),
        np.zeros(8, int),
    )
    np.testing.assert_array_equal(again.click_proba(*request), streamed[0].click_proba(*request))
    assert again.info["valid_groups"] == streamed[0].info["valid_groups"]
    other = open_lists(scenario, path).split(0.1, seed=1)[1].tolist()
    assert other != again.info["valid_groups"]  # another seed holds out other row groups


def _write(frame: pd.DataFrame, path, **kwargs):
    frame.to_parquet(path, index=False, **kwargs)
    return path


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda log, p: _write(log.drop(columns="click"), p), LogValidationError, "'click'"),
        (  # rows not sorted by request: row groups overlap
            lambda log, p: _write(log.sample(frac=1.0, random_state=0), p, row_group_size=500),
            LogValidationError,
            "'request_id'.*overlap",
        ),
        (lambda log, p: p.write_bytes(b"not parquet") and p, LogFileError, "cannot read"),
        (lambda log, p: p.with_name("missing.parquet"), LogFileError, "not found"),
    ],
)
def test_bad_files_are_refused_on_opening(scenario, tmp_path, make, error, message):
    path = make(scenario.dataset.log, tmp_path / "bad.parquet")
    with pytest.raises(error, match=message):
        open_lists(scenario, path)


@pytest.mark.parametrize(
    ("chunk_rows", "message"),
    [(0, "chunk_rows must be an int >= 1"), (2.5, "chunk_rows"), (GROUP_ROWS - 1, "chunk_rows")],
)
def test_bad_chunk_size_is_an_input_error(scenario, path, chunk_rows, message):
    with pytest.raises(InputError, match=message):
        open_lists(scenario, path, chunk_rows)


@pytest.mark.parametrize("fraction", [0.0, 1.0, 1.5])
def test_bad_valid_fraction_is_an_input_error(scenario, path, fraction):
    with pytest.raises(InputError, match="valid_fraction"):
        fit_log_model_streaming(open_lists(scenario, path), FAST, fraction, progress=False)


def test_group_rows_below_a_list_is_an_input_error(scenario, tmp_path):
    with pytest.raises(InputError, match="group_rows"):
        write_lists_parquet(scenario.dataset.log, tmp_path / "log.parquet", group_rows=9)
    assert not (tmp_path / "log.parquet").exists()  # nothing half-written


def test_frames_written_one_at_a_time_must_follow_each_other(scenario, tmp_path):
    log = scenario.dataset.log
    halves = [log[log["request_id"] < 400], log[log["request_id"] >= 400]]
    path = write_lists_parquet(iter(halves), tmp_path / "log.parquet", group_rows=GROUP_ROWS)
    assert pq.ParquetFile(path).metadata.num_rows == len(log)
    assert pq.ParquetFile(path).schema_arrow.names == list(REQUIRED_COLUMNS)
    with pytest.raises(LogValidationError, match="increasing requests"):
        write_lists_parquet(halves[::-1], tmp_path / "other.parquet")


def test_ids_outside_the_feature_tables_are_refused_when_read(scenario, path):
    lists = scenario.lists
    small = ParquetLists(path, lists.item_features[:10], lists.user_features, 10, CHUNK_ROWS)
    with pytest.raises(LogValidationError, match="'item_id'.*outside the feature table"):
        next(small.chunks([0]))
