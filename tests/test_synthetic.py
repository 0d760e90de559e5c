"""The synthetic generator: reproducible by seed, and its logs match its configuration."""

import numpy as np
import pandas as pd
import pytest

from rec_env.data import SyntheticConfig, generate_synthetic, load_log, validate_log
from rec_env.simulator import GroundTruthModel

SMALL = dict(n_users=300, n_items=400, n_requests=3_000)


def generate(**overrides):
    return generate_synthetic(SyntheticConfig(**{**SMALL, **overrides}), progress=False)


def test_same_seed_same_log_other_seed_other_log():
    first, second, other = generate(seed=3), generate(seed=3), generate(seed=4)
    pd.testing.assert_frame_equal(first.log, second.log)
    assert not first.log["item_id"].equals(other.log["item_id"])


@pytest.mark.parametrize("click_rate", [0.05, 0.2, 0.4])
def test_click_rate_matches_config(click_rate):
    log = generate(n_requests=20_000, click_rate=click_rate).log
    assert log["click"].mean() == pytest.approx(click_rate, abs=0.01)
    assert log["proba"].mean() == pytest.approx(click_rate, abs=0.005)


@pytest.mark.parametrize("decay", [0.3, 1.0])
def test_position_bias_curve_matches_examination(decay):
    # No in-list effects and a near-random logging order: CTR(k) / CTR(0) = examination[k].
    dataset = generate(
        n_requests=40_000, position_decay=decay, fatigue=0.0, click_shift=0.0,
        logging_temperature=100.0, click_rate=0.1,
    )  # fmt: skip
    ctr = dataset.log.groupby("position")["click"].mean().to_numpy()
    expected = (1.0 + np.arange(10)) ** -decay
    np.testing.assert_allclose(ctr / ctr[0], expected, rtol=0.08)


def test_in_list_effects_change_click_probabilities():
    plain = generate(fatigue=0.0, click_shift=0.0, seed=1)
    tired = generate(fatigue=3.0, click_shift=-1.0, seed=1)
    world = tired.extras["world"]
    users = np.array([0, 0])
    slate = np.array([[5, 0, 0], [5, 0, 0]])
    clicks = np.array([[1, 0, 0], [0, 0, 0]])
    # same candidate at slot 1: after a click the appetite drops by click_shift
    p = GroundTruthModel(world).click_proba(
        users, slate, clicks, np.array([5, 5]), np.array([1, 1])
    )
    assert p[0] < p[1]
    assert plain.log["proba"].to_numpy().std() != tired.log["proba"].to_numpy().std()


def test_the_environments_ground_truth_gives_the_logged_probabilities_bit_for_bit():
    dataset = generate(n_requests=500)
    log = dataset.log.sort_values(["request_id", "position"])
    users = log["user_id"].to_numpy()[::10]
    items, clicks, logged = (
        log[c].to_numpy().reshape(-1, 10) for c in ("item_id", "click", "proba")
    )
    model = GroundTruthModel(dataset.extras["world"])
    for slot in range(10):
        position = np.full(len(users), slot)
        proba = model.click_proba(users, items, clicks, items[:, slot], position)
        np.testing.assert_array_equal(proba, logged[:, slot])


def test_lists_hold_distinct_items_even_with_a_skewed_small_catalogue():
    log = generate(n_items=25, popularity_exponent=2.0, n_requests=500).log
    assert not log.duplicated(["request_id", "item_id"]).any()
    validate_log(log, slate_size=10)


def test_popularity_skew():
    counts = generate(n_requests=10_000).log["item_id"].value_counts().to_numpy()
    assert counts[: len(counts) // 10].sum() > 0.3 * counts.sum()  # top 10% items get > 30%


def test_feature_tables_cover_every_id():
    dataset = generate()
    assert dataset.items.shape == (SMALL["n_items"], 8)
    assert dataset.users.shape == (SMALL["n_users"], 8)
    assert (dataset.items.sum(axis=1) == 1).all()  # one-hot groups


@pytest.mark.parametrize("bad", [dict(n_items=5), dict(click_rate=1.5), dict(n_users=0)])
def test_bad_config_raises(bad):
    with pytest.raises(ValueError, match="SyntheticConfig"):
        SyntheticConfig(**bad)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_round_trip_through_a_file(tmp_path, suffix):
    dataset = generate(n_requests=200)
    loaded = load_log(dataset.save(tmp_path / f"synthetic{suffix}"), slate_size=10)
    # the file speaks the dataset's ids; the reloaded dataset indexes only the ids in the log
    pd.testing.assert_frame_equal(loaded.to_frame(), dataset.to_frame(), check_dtype=False)
    seen_items = loaded.vocabularies.items.decode(loaded.items.index.to_numpy())
    np.testing.assert_array_equal(seen_items, np.unique(dataset.log["item_id"]))
    np.testing.assert_array_equal(loaded.items.to_numpy(), dataset.items.loc[seen_items])
    seen_users = loaded.vocabularies.users.decode(loaded.users.index.to_numpy())
    np.testing.assert_array_equal(loaded.users.to_numpy(), dataset.users.loc[seen_users])
