"""`LoggedLists` arrays and deterministic, disjoint splits."""

import numpy as np
import pandas as pd
import pytest

from rec_env.data import PAD_ITEM, LoggedLists, load_log, split_lists, split_rows
from rec_env.data.dataset import dataset_from_log


def small_dataset():
    log = pd.DataFrame(
        {
            "user_id": [0, 0, 1, 2, 2, 2],
            "request_id": [7, 7, 3, 9, 9, 9],
            "position": [0, 2, 1, 0, 1, 2],
            "item_id": [4, 5, 6, 4, 7, 8],
            "click": [1, 0, 1, 0, 0, 1],
            "timestamp": [30, 30, 10, 20, 20, 20],
            "i_price": [1.0, 2.0, 3.0, 1.0, 4.0, 5.0],
        }
    )
    return dataset_from_log("small", log, slate_size=3)


def test_lists_are_padded_and_masked():
    lists = LoggedLists.from_dataset(small_dataset())
    assert lists.items.shape == lists.clicks.shape == lists.mask.shape == (3, 3)
    vocab = small_dataset().vocabularies  # ids become indices in the ids' order
    np.testing.assert_array_equal(vocab.requests.decode(lists.request_ids), [3, 7, 9])
    np.testing.assert_array_equal(
        lists.items, [[PAD_ITEM, 2, PAD_ITEM], [0, PAD_ITEM, 1], [0, 3, 4]]
    )
    np.testing.assert_array_equal(vocab.items.decode(lists.items[2]), [4, 7, 8])
    np.testing.assert_array_equal(lists.mask, lists.items != PAD_ITEM)
    np.testing.assert_array_equal(lists.clicks, [[0, 1, 0], [1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(lists.user_ids, [1, 0, 2])
    np.testing.assert_array_equal(lists.timestamps, [10, 30, 20])
    assert lists.item_features.shape == (5, 1) and lists.item_features[4, 0] == 5.0
    assert lists.user_features.shape == (3, 0)


def test_every_logged_slot_is_in_the_arrays():
    from rec_env.data import load_dataset

    dataset = load_dataset("synthetic", n_users=50, n_items=80, n_requests=300, progress=False)
    lists = LoggedLists.from_dataset(dataset)
    assert lists.mask.sum() == len(dataset.log)
    assert lists.clicks.sum() == dataset.log["click"].sum()


def big_lists(n=1000):
    rng = np.random.default_rng(0)
    return LoggedLists(
        items=rng.integers(0, 50, (n, 4)), clicks=np.zeros((n, 4), np.int8), mask=np.ones((n, 4), bool),
        user_ids=rng.integers(0, 30, n), request_ids=np.arange(n) * 2, timestamps=rng.permutation(n) * 1.0,
        item_features=np.zeros((50, 0), np.float32), user_features=np.zeros((30, 0), np.float32),
    )  # fmt: skip


@pytest.mark.parametrize("by", ["request", "time"])
@pytest.mark.parametrize("fractions", [(0.8, 0.1, 0.1), (0.5, 0.0, 0.5)])
def test_splits_are_deterministic_disjoint_and_complete(by, fractions):
    lists = big_lists()
    first, second = (
        split_rows(lists, by, fractions, seed=1),
        split_rows(lists, by, fractions, seed=1),
    )
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    everything = np.concatenate(first)
    assert len(everything) == len(lists) == len(np.unique(everything))
    assert [len(part) for part in first] == [round(f * 1000) for f in fractions]


def test_request_split_depends_on_seed():
    lists = big_lists()
    assert not np.array_equal(split_rows(lists, seed=1)[0], split_rows(lists, seed=2)[0])


def test_time_split_puts_the_past_in_train():
    splits = split_lists(big_lists(), by="time")
    assert splits.train.timestamps.max() < splits.valid.timestamps.min()
    assert splits.valid.timestamps.max() < splits.test.timestamps.min()


def test_time_split_needs_timestamps(tmp_path):
    path = tmp_path / "log.csv"
    small_dataset().log.drop(columns="timestamp").to_csv(path, index=False)
    lists = LoggedLists.from_dataset(load_log(path))
    with pytest.raises(ValueError, match="timestamp"):
        split_rows(lists, by="time")


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.8, 0.3, 0.1), (-0.1, 0.6, 0.5)])
def test_bad_fractions_raise(fractions):
    with pytest.raises(ValueError, match="fractions"):
        split_rows(big_lists(), fractions=fractions)
