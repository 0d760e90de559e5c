"""Bring your own log: ids of any kind, datetimes, categorical and missing features, from a
file to a fitted simulator, an environment that speaks the log's ids, and a training run."""

import json
import warnings

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from agents_testing import tiny_config

import rec_env  # noqa: F401  (registers ListwiseFeed-v0)
from agents.train import load_agent, run
from rec_env import Scenario
from rec_env.data import (
    IdVocabulary,
    LogDataWarning,
    LogFileError,
    LoggedLists,
    LogValidationError,
    UnknownIdError,
    Vocabularies,
    dataset_from_log,
    load_dataset,
)

N_USERS, N_ITEMS, N_REQUESTS, K = 50, 40, 300, 10
COUNTRIES = ("de", "fr", "jp")
CATEGORIES = ("books", "games", "music", "toys")
ID_KINDS = ("sparse", "string")
SUFFIXES = (".csv", ".parquet")


def raw_ids(kind: str, prefix: str, n: int) -> np.ndarray:
    """``n`` distinct ids as a real system has them: sparse 64-bit integers or strings."""
    if kind == "sparse":
        offset = {"u": 1_000_000, "i": 996_000, "r": 10_000_000}[prefix]
        return offset + np.arange(n, dtype=np.int64) * 20_011
    return np.array([f"{prefix}-{i:04d}x" for i in range(n)], dtype=object)


def own_log(kind: str, seed: int = 0) -> pd.DataFrame:
    """300 lists of 6-10 slots from 50 users and 40 items, a datetime ``timestamp``, a string
    and a partly missing feature per side (built with numpy, one row per shown slot)."""
    rng = np.random.default_rng(seed)
    users, items = raw_ids(kind, "u", N_USERS), raw_ids(kind, "i", N_ITEMS)
    requests = raw_ids(kind, "r", N_REQUESTS)
    user = rng.integers(N_USERS, size=N_REQUESTS)
    slate = np.argsort(rng.random((N_REQUESTS, N_ITEMS)), axis=1)[:, :K]  # distinct items
    shown = np.arange(K) < rng.integers(6, K + 1, size=N_REQUESTS)[:, None]
    request, position = np.nonzero(shown)
    item = slate[request, position]
    age = np.where(np.arange(N_USERS) % 10 == 3, np.nan, 20.0 + np.arange(N_USERS))
    price = np.where(np.arange(N_ITEMS) % 8 == 5, np.nan, 1.0 + np.arange(N_ITEMS) * 2.5)
    start = pd.Timestamp("2024-01-01")
    return pd.DataFrame(
        {
            "user_id": users[user[request]],
            "request_id": requests[request],
            "position": position,
            "item_id": items[item],
            "click": (rng.random(len(request)) < 0.3).astype(int),
            "timestamp": start + pd.to_timedelta(request * 44, unit="s"),
            "u_age": age[user[request]],
            "u_country": np.array(COUNTRIES, dtype=object)[user[request] % 3],
            "i_category": np.array(CATEGORIES, dtype=object)[item % 4],
            "i_price": price[item],
        }
    )


def write(log: pd.DataFrame, path) -> str:
    log.to_csv(path, index=False) if path.suffix == ".csv" else log.to_parquet(path)
    return str(path)


def load_quietly(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogDataWarning)
        return load_dataset(str(path), **kwargs)


@pytest.fixture(scope="module", params=[(k, s) for k in ID_KINDS for s in SUFFIXES])
def log_file(request, tmp_path_factory):
    """``(raw log, path)`` for each id kind and file format."""
    kind, suffix = request.param
    log = own_log(kind)
    return log, write(log, tmp_path_factory.mktemp(kind) / f"own{suffix}")


def test_ids_become_dense_indices_and_decode_back(log_file):
    log, path = log_file
    dataset = load_quietly(path)
    assert (dataset.n_users, dataset.n_items) == (N_USERS, N_ITEMS)
    assert len(dataset.vocabularies.requests) == N_REQUESTS
    assert dataset.log["item_id"].max() == N_ITEMS - 1
    frame = dataset.to_frame()
    ordered = log.sort_values(["request_id", "position"]).reset_index(drop=True)
    for column in ("user_id", "request_id", "item_id"):
        assert list(frame[column]) == list(ordered[column])
    lists = LoggedLists.from_dataset(dataset)
    assert lists.item_features.shape[0] == N_ITEMS and lists.user_features.shape[0] == N_USERS


def test_datetimes_become_seconds_since_the_epoch(log_file):
    log, path = log_file
    seconds = load_quietly(path).log["timestamp"]
    assert seconds.dtype == np.float64
    assert seconds.min() == pd.Timestamp("2024-01-01", tz="UTC").timestamp()
    assert seconds.max() - seconds.min() == 44 * (N_REQUESTS - 1)


INSTANTS = [0, 60, 60, 120, 120]
"""Seconds since 1970-01-01 UTC of the five rows of :func:`small_log`, however written."""


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(INSTANTS),
        pd.to_datetime(pd.Series(INSTANTS), unit="s"),
        pd.to_datetime(pd.Series(INSTANTS), unit="s", utc=True),
        pd.Series(["1970-01-01 00:00:00", "1970-01-01T00:01:00", "1970-01-01 00:01", "1970-01-01 00:02:00", "1970-01-01T00:02:00.000"]),
        pd.Series(["1970-01-01 01:00:00+01:00", "1970-01-01 00:01:00Z", "1970-01-01T00:01:00+00:00", "1969-12-31 23:02:00-01:00", "1970-01-01 00:02:00"]),
    ],
    ids=["numbers", "naive datetimes", "utc datetimes", "iso strings", "iso with offsets"],
)  # fmt: skip
def test_every_timestamp_kind_parses_to_float_seconds(values):
    seconds = dataset_from_log("t", small_log().assign(timestamp=values)).log["timestamp"]
    assert seconds.dtype == np.float64 and seconds.tolist() == INSTANTS


def test_categorical_features_are_one_hot_and_missing_numbers_filled_with_a_warning(log_file):
    _, path = log_file
    with pytest.warns(LogDataWarning) as caught:
        dataset = load_dataset(path)
    messages = " | ".join(str(w.message) for w in caught)
    assert "u_age: 5 of 50 users" in messages and "i_price: 5 of 40 items" in messages
    assert dataset.vocabularies.categories == {"u_country": COUNTRIES, "i_category": CATEGORIES}
    assert list(dataset.users.columns) == ["u_age", *(f"u_country={c}" for c in COUNTRIES)]
    assert (dataset.items.filter(like="i_category=").sum(axis=1) == 1).all()
    assert not dataset.users.isna().any().any()
    prices = dataset.items["i_price"].to_numpy()  # item index i is the i-th generated item
    missing = np.arange(N_ITEMS) % 8 == 5
    np.testing.assert_allclose(prices[missing], prices[~missing].mean())


def test_save_and_load_round_trip_vocabularies_and_fingerprint(log_file, tmp_path):
    _, path = log_file
    dataset = load_quietly(path)
    for suffix in SUFFIXES:
        again = load_quietly(dataset.save(tmp_path / f"again{suffix}"))
        assert again.vocabularies.to_dict() == dataset.vocabularies.to_dict()
        assert again.fingerprint() == dataset.fingerprint()


def test_vocabularies_are_part_of_the_fingerprint():
    sparse, dense = (dataset_from_log("x", small_log(ids)) for ids in ([5, 9], [0, 1]))
    assert sparse.log.equals(dense.log) and sparse.fingerprint() != dense.fingerprint()


@pytest.mark.parametrize("kind", ID_KINDS)
def test_vocabulary_encodes_decodes_and_serialises(kind):
    raw = raw_ids(kind, "i", 6)
    vocab, codes = IdVocabulary.build("item_id", raw[[3, 1, 3, 5]])
    assert len(vocab) == 3 and codes.tolist() == [1, 0, 1, 2]
    assert vocab.decode(codes).tolist() == raw[[3, 1, 3, 5]].tolist()
    assert vocab.decode(2) == raw[5] and vocab.encode(raw[[5, 1]]).tolist() == [2, 0]
    again = IdVocabulary.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert again.encode(raw[[1, 3, 5]]).tolist() == [0, 1, 2]
    with pytest.raises(UnknownIdError, match=r"item_id: 2 value\(s\) not in") as error:
        vocab.encode(raw[[0, 1, 2]])
    assert error.value.unknown == raw[[0, 2]].tolist() and isinstance(error.value, ValueError)
    with pytest.raises(UnknownIdError, match="item_id"):
        vocab.decode([3])


def test_built_in_datasets_get_range_vocabularies(tiny_dataset):
    vocab = tiny_dataset.vocabularies
    assert vocab.items.is_range and len(vocab.items) == tiny_dataset.n_items == 150
    assert vocab.users.decode(7) == 7 and vocab.items.encode([3, 149]).tolist() == [3, 149]
    assert Vocabularies.from_dict(json.loads(json.dumps(vocab.to_dict()))).users.is_range
    with pytest.raises(UnknownIdError, match="item_id"):
        vocab.items.encode([150])


def small_log(user_ids=(5, 9)) -> pd.DataFrame:
    """Two requests (3 and 2 slots) of two users."""
    a, b = user_ids
    return pd.DataFrame(
        {
            "user_id": [a, a, a, b, b],
            "request_id": [10, 10, 10, 11, 11],
            "position": [0, 1, 2, 0, 1],
            "item_id": [3, 4, 5, 3, 6],
            "click": [0, 1, 0, 0, 1],
        }
    )


def edited(column, values):
    return lambda log: log.assign(**{column: pd.Series(values)})


BAD_LOGS = {
    "NaN user id": (edited("user_id", ["a", None, "a", "b", "b"]), "user_id", "missing ids"),
    "mixed id types": (edited("item_id", [3, "x", 5, 3, 6]), "item_id", "all integers or all"),
    "boolean ids": (edited("request_id", [True] * 3 + [False] * 2), "request_id", "boolean"),
    "fractional id": (edited("item_id", [3.5, 4, 5, 3, 6]), "item_id", "non-integer"),
    "bad timestamp": (edited("timestamp", ["2024-01-01", "yesterday", "x", "1", "2"]), "timestamp", "ISO 8601"),
    "missing timestamp": (edited("timestamp", [1, 2, None, 4, 5]), "timestamp", "missing"),
    "1-based positions": (edited("position", [1, 2, 3, 1, 2]), "position", "0-based"),
    "feature all NaN": (edited("i_price", [None] * 5), "i_price", "every value is missing"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_LOGS, ids=list(BAD_LOGS))
def test_bad_own_log_raises_naming_the_column(case):
    edit, column, phrase = BAD_LOGS[case]
    log = edit(small_log())
    with pytest.raises(LogValidationError, match=phrase) as error:
        dataset_from_log("bad", log)
    assert error.value.column == column


@pytest.mark.parametrize("suffix", [".json", ".tsv", ".xlsx", ".txt"])
def test_unsupported_extensions_are_named(tmp_path, suffix):
    path = tmp_path / f"log{suffix}"
    path.write_text("{}")
    with pytest.raises(LogFileError, match=f"unsupported extension '{suffix}'.*.csv or .parquet"):
        load_dataset(str(path))


def test_a_feature_varying_within_an_id_keeps_the_first_value_with_a_warning():
    log = small_log().assign(u_age=[30.0, 30.0, 31.0, 40.0, 40.0], i_price=[1.0, 2, 3, 9, 4])
    with pytest.warns(LogDataWarning) as caught:
        dataset = dataset_from_log("varying", log)
    messages = sorted(str(w.message).split(";")[0] for w in caught)
    assert messages == ["i_price varies within 1 items", "u_age varies within 1 users"]
    assert dataset.users["u_age"].tolist() == [30.0, 40.0]
    assert dataset.items["i_price"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_nan_in_a_hand_built_dataset_fails_at_the_boundary():
    good = dataset_from_log("x", small_log().assign(i_price=[1.0, 2, 3, 1, 4]))
    with pytest.raises(LogValidationError, match=r"missing values \(NaN\).*'i_price': 1"):
        type(good)("x", good.log, good.items.assign(i_price=[np.nan, 2, 3, 4]), good.users, 3)


@pytest.mark.filterwarnings("ignore::rec_env.data.LogDataWarning")
@pytest.mark.parametrize("kind", ID_KINDS)
def test_end_to_end_fit_environment_and_training(kind, tmp_path, monkeypatch):
    monkeypatch.setenv("REC_ENV_DATA", str(tmp_path / "cache"))
    log = own_log(kind)
    path = write(log, tmp_path / "own.csv")
    dataset = load_quietly(path)
    model = Scenario.from_dataset(dataset, progress=False).fitted_user_model(epochs=3)
    assert (model.n_users, model.n_items) == (N_USERS, N_ITEMS)

    env = gym.make("ListwiseFeed-v0", dataset=dataset, num_candidates=20)
    obs, info = env.reset(seed=0)
    assert info["user_id"] in set(log["user_id"]) and info["request_id"] in set(log["request_id"])
    assert info["user_id"] == dataset.vocabularies.users.decode(int(obs["user"]))
    for action in range(K):
        obs, _, terminated, _, info = env.step(action)
        assert info["item_id"] == dataset.vocabularies.items.decode(int(obs["candidates"][action]))
    assert terminated and set(info["list_items"]) <= set(log["item_id"])

    result = run(tiny_config(tmp_path, dataset=path, steps=2, eval_every=2))
    assert np.isfinite(result.metrics["test"]["auc"])

    agent = load_agent(result.dir)  # the run folder keeps the vocabularies
    user, candidates = log["user_id"].iloc[0], list(log["item_id"].unique()[:8])
    slate = agent.recommend(user, candidates, k=5)
    assert len(set(slate)) == 5 and set(slate) <= set(candidates)
    with pytest.raises(ValueError, match="user_id: unknown user ids"):
        agent.recommend(raw_ids(kind, "u", N_USERS + 1)[-1], candidates, k=5)
    with pytest.raises(ValueError, match="candidates: duplicate item ids"):
        agent.recommend(user, [candidates[0], *candidates], k=5)
