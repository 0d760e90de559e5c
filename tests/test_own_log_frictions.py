"""Frictions of a user's own log (issue 25): categorical columns with many levels, errors that
show the user's rows, click strings, and the longest list a trained agent recommends."""

import json
import warnings

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from agents_testing import tiny_network

import rec_env  # noqa: F401  (registers ListwiseFeed-v0)
from agents.serving import QAgent, UntrainedSlotsWarning
from rec_env.checks import InputError
from rec_env.data import LogDataWarning, LoggedLists, LogValidationError, load_dataset
from rec_env.data.__main__ import main as data_main
from rec_env.data.features import MAX_LEVELS, OTHER_LEVEL
from rec_env.simulator.__main__ import main as report_main
from rec_env.simulator.baselines import BASELINES

SUFFIXES = (".csv", ".parquet")


def write(log: pd.DataFrame, path) -> str:
    log.to_csv(path, index=False) if path.suffix == ".csv" else log.to_parquet(path)
    return str(path)


def tagged_log(n_levels: int) -> pd.DataFrame:
    """One-slot requests of items ``9e11 + i``; level ``tag-i`` is on ``n_levels - i`` items,
    so the levels are ranked by frequency ``tag-0`` first and ``tag-<n-1>`` last."""
    level = np.repeat(np.arange(n_levels), np.arange(n_levels, 0, -1))
    n = len(level)
    return pd.DataFrame(
        {
            "user_id": [f"user-{i % 7}" for i in range(n)],
            "request_id": np.arange(n) * 13,
            "position": 0,
            "item_id": 900_000_000_000 + np.arange(n),
            "click": np.arange(n) % 2,
            "i_tag": [f"tag-{i:03d}" for i in level],
        }
    )


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize(("n_levels", "max_levels"), [(MAX_LEVELS + 6, None), (10, 4), (5, 5)])
def test_rare_levels_merge_into_other_with_a_warning(tmp_path, suffix, n_levels, max_levels):
    path = write(tagged_log(n_levels), tmp_path / f"log{suffix}")
    options = {} if max_levels is None else {"max_levels": max_levels}
    limit = max_levels or MAX_LEVELS
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = load_dataset(path, **options)
    levels = dataset.vocabularies.categories["i_tag"]
    merged = [str(w.message) for w in caught if issubclass(w.category, LogDataWarning)]
    if n_levels <= limit:
        assert levels == tuple(f"tag-{i:03d}" for i in range(n_levels)) and not merged
        return
    assert levels == (*(f"tag-{i:03d}" for i in range(limit - 1)), OTHER_LEVEL)
    rare = range(limit - 1, n_levels)
    on_items = sum(n_levels - i for i in rare)
    assert merged == [
        f"i_tag: {n_levels} levels, more than max_levels={limit}; the {len(rare)} rarest "
        f"(on {on_items} of {len(dataset.items)} items) merged into '{OTHER_LEVEL}', "
        f"first {[f'tag-{i:03d}' for i in rare][:5]}"
    ]
    other = dataset.items[f"i_tag={OTHER_LEVEL}"].to_numpy()
    assert other.sum() == on_items and dataset.items.to_numpy().sum(axis=1).tolist() == [1] * len(
        dataset.items
    )
    assert set(dataset.to_frame()["i_tag"]) == {*levels}


@pytest.mark.parametrize(("max_levels", "message"), [(1, ">= 2"), ("8", "an int >= 2")])
def test_max_levels_is_checked_by_name(tmp_path, max_levels, message):
    path = write(tagged_log(3), tmp_path / "log.csv")
    with pytest.raises(InputError, match=f"max_levels must be {message}"):
        load_dataset(path, max_levels=max_levels)


def test_info_command_takes_max_levels(tmp_path, capsys):
    path = write(tagged_log(12), tmp_path / "log.parquet")
    with pytest.warns(LogDataWarning, match="more than max_levels=3; the 10 rarest"):
        data_main(["info", path, "--max-levels", "3", "--json"])
    stats = json.loads(capsys.readouterr().out)
    assert (stats["items"], stats["item_features"]) == (78, 3)  # two levels kept + other


def user_log() -> pd.DataFrame:
    """Three requests as a real system writes them: string users, huge item ids, ISO times."""
    return pd.DataFrame(
        {
            "user_id": ["anna", "anna", "bob", "bob", "carl"],
            "request_id": ["r-9", "r-9", "r-4", "r-4", "r-1"],
            "position": [0, 1, 0, 1, 0],
            "item_id": [912_345_678_901, 912_345_678_902, 912_345_678_901, 7, 7],
            "click": [0, 1, 1, 0, 0],
            "timestamp": [f"2024-03-0{d}T10:00:00+02:00" for d in (1, 1, 2, 2, 3)],
        }
    )


def edited(column: str, row: int, value):
    def edit(log: pd.DataFrame) -> pd.DataFrame:
        log[column] = log[column].astype(object)
        log.loc[row, column] = value
        return log

    return edit


RAW_ROW_ERRORS = {
    "duplicate position": (edited("position", 3, 0), "position", [2, 3]),
    "two users in a request": (edited("user_id", 1, "zoe"), "user_id", [0, 1]),
    "click of 2": (edited("click", 4, 2), "click", [4]),
}


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("case", RAW_ROW_ERRORS, ids=list(RAW_ROW_ERRORS))
def test_validation_errors_show_the_rows_as_written(tmp_path, suffix, case):
    edit, column, rows = RAW_ROW_ERRORS[case]
    raw = edit(user_log())
    with pytest.raises(LogValidationError) as error:
        load_dataset(write(raw, tmp_path / f"log{suffix}"))
    assert error.value.column == column
    assert error.value.rows.index.tolist() == rows
    expected = raw.iloc[rows].astype(str)
    pd.testing.assert_frame_equal(error.value.rows.astype(str), expected)
    assert raw.loc[rows[0], "timestamp"] in str(error.value)


CLICK_WORDS = {
    "true / false": ["true", "false", "TRUE", "False", "true"],
    "booleans": [True, False, True, False, True],
    "0 / 1 strings": ["1", "0", "1", "0", "1"],
}


@pytest.mark.parametrize("words", CLICK_WORDS, ids=list(CLICK_WORDS))
def test_click_words_load_the_same_from_csv_and_parquet(tmp_path, words):
    log = user_log().assign(click=CLICK_WORDS[words])
    loaded = [load_dataset(write(log, tmp_path / f"log{suffix}")) for suffix in SUFFIXES]
    numbers = load_dataset(write(user_log().assign(click=[1, 0, 1, 0, 1]), tmp_path / "n.csv"))
    assert [d.fingerprint() for d in loaded] == [numbers.fingerprint()] * 2


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_other_click_strings_are_refused_from_both_formats(tmp_path, suffix):
    log = user_log().assign(click=["yes", "no", "true", "false", "no"])
    with pytest.raises(LogValidationError, match="'true' / 'false'") as error:
        load_dataset(write(log, tmp_path / f"log{suffix}"))
    assert error.value.column == "click" and error.value.rows.index.tolist() == [0, 1, 4]


def test_masked_action_error_names_the_raw_item_id(tmp_path):
    dataset = load_dataset(write(user_log(), tmp_path / "log.parquet"))
    position = BASELINES["position"](LoggedLists.from_dataset(dataset))
    env = gym.make(
        "ListwiseFeed-v0",
        dataset=dataset,
        user_model=position,
        num_candidates=3,
        invalid_action="raise",
        user_split="all",
    )
    obs, _ = env.reset(seed=0)
    env.step(0)
    raw = dataset.vocabularies.items.decode(int(obs["candidates"][0]))
    with pytest.raises(ValueError, match=f"picks item_id {raw!r} .*already placed in slot 0"):
        env.step(0)


@pytest.mark.parametrize(("k", "warns"), [(3, False), (4, True)])
def test_recommend_warns_above_the_training_logs_longest_list(k, warns):
    agent = QAgent(tiny_network(), trained_slots=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        slate = agent.recommend(0, list(range(10)), k=k)
    messages = [str(w.message) for w in caught if w.category is UntrainedSlotsWarning]
    assert len(slate) == k
    expected = [f"k={k} exceeds the longest list of the training log (3 slots)"] if warns else []
    assert [m.split(":")[0] for m in messages] == expected


def test_report_command_takes_max_levels(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REC_ENV_DATA", str(tmp_path / "cache"))
    path = write(tagged_log(12), tmp_path / "log.csv")
    argv = ["report", path, "--max-levels", "3", "--epochs", "1", "--out", str(tmp_path / "out")]
    with pytest.warns(LogDataWarning, match="more than max_levels=3; the 10 rarest"):
        report_main(argv)
    assert "fitted LogClickConfig(dim=8, epochs=1," in capsys.readouterr().out
