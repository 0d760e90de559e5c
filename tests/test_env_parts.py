"""The environment's parts on their own: recall, the request sampler, the uniform streams."""

import numpy as np
import pytest
from gymnasium.utils import seeding

from rec_env.data import PAD_ITEM, LoggedLists, load_dataset, split_rows
from rec_env.envs import Catalogue, ListwiseFeedEnv, LoggedPopularRecall, RandomRecall
from rec_env.envs.rng import EpisodeUniforms

#  item:          0  1  2  3  4  5  6  7
IMPRESSIONS = [5, 9, 0, 7, 7, 1, 3, 2]  # most shown first: 1, 3, 4, 0, 6, 7, 5, 2


def catalogue():
    n = len(IMPRESSIONS)
    return Catalogue(
        np.zeros((n, 1), np.float32), np.zeros((3, 1), np.float32), np.array(IMPRESSIONS)
    )


def test_most_shown_breaks_ties_by_id():
    np.testing.assert_array_equal(catalogue().most_shown(), [1, 3, 4, 0, 6, 7, 5, 2])


def test_logged_popular_keeps_logged_items_then_fills_by_popularity():
    recall = LoggedPopularRecall(catalogue(), num_candidates=5, logged_width=3)
    logged = np.array([[2, 5, 2], [1, PAD_ITEM, 3], [PAD_ITEM, PAD_ITEM, PAD_ITEM]])
    candidates = recall(logged, np.empty((3, 0)))
    np.testing.assert_array_equal(candidates[0], [1, 2, 3, 4, 5])  # 2 and 5, then 1, 3, 4
    np.testing.assert_array_equal(candidates[1], [0, 1, 3, 4, 6])  # 1 and 3, then 4, 0, 6
    np.testing.assert_array_equal(candidates[2], [0, 1, 3, 4, 6])  # the five most shown


def test_logged_popular_needs_room_for_the_logged_list():
    with pytest.raises(ValueError, match="num_candidates >= the logged list length"):
        LoggedPopularRecall(catalogue(), num_candidates=2, logged_width=3)


def test_random_recall_is_uniform_over_items():
    recall = RandomRecall(catalogue(), num_candidates=3)
    uniforms = np.random.default_rng(0).random((4000, recall.num_uniforms))
    candidates = recall(np.empty((4000, 0), dtype=np.int64), uniforms)
    assert (np.diff(candidates, axis=1) > 0).all()
    counts = np.bincount(candidates.ravel(), minlength=8)
    np.testing.assert_allclose(counts / 4000, 3 / 8, atol=0.03)


def test_uniform_streams_do_not_depend_on_each_other():
    streams = EpisodeUniforms(n_envs=3, per_episode=200)  # block of 2 episodes: refills
    for env in range(3):
        streams.set_generator(env, np.random.default_rng(env))
    alone = EpisodeUniforms(n_envs=1, per_episode=200)
    alone.set_generator(0, np.random.default_rng(1))
    for _ in range(5):
        np.testing.assert_array_equal(
            streams.take(np.arange(3))[1], alone.take(np.zeros(1, int))[0]
        )
        streams.take(np.array([0]))  # sub-env 0 runs ahead: sub-env 1 must not notice


def test_episode_randomness_is_the_documented_stream():
    """Sub-env uniforms per episode: [request, click at slot 0..K-1, recall...], in blocks."""
    dataset = load_dataset("synthetic", n_users=50, n_items=60, n_requests=300, progress=False)
    env = ListwiseFeedEnv(dataset=dataset, num_candidates=20, reward_mode="expected")
    _, info = env.reset(seed=9)
    k, block = env.config.slate_size, env.core.uniforms.block
    uniforms = seeding.np_random(9)[0].random((block, 1 + k))[0]
    lists = LoggedLists.from_dataset(dataset)
    train = split_rows(lists, by="request", seed=0)[0]
    assert info["request_id"] == lists.request_ids[train[int(uniforms[0] * len(train))]]
    clicks, probas = [], []
    for action in range(k):
        _, _, _, _, step_info = env.step(action)
        clicks.append(step_info["click"])
        probas.append(step_info["click_proba"])
    np.testing.assert_array_equal(clicks, uniforms[1:] < np.array(probas))
