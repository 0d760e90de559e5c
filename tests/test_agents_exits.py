"""Online agents in a world whose users leave a list early (exits): evaluation counts each
list up to its exit, the collector and replay store short lists with their masks, TD targets
end at the exit, and an online DDQN run trains on them."""

from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
import torch
from agents_testing import make_vec as make_vec_of
from agents_testing import tiny_config, tiny_network

import rec_env  # noqa: F401  (registers ListwiseFeed-v0)
from agents.baselines import PopularityAgent
from agents.data.replay import EpisodeCollector, EpisodeReplay, Episodes
from agents.evaluation import evaluate_online
from agents.learners.ddqn import DDQN, DDQNConfig
from agents.policies import OracleAgent, epsilon_greedy, valid_mask
from agents.train import run
from agents.training.checkpoint import load_checkpoint
from agents.training.loop import CHECKPOINT_NAME
from rec_env.data import PAD_ITEM, SyntheticConfig, load_dataset
from rec_env.simulator import GroundTruthModel

C, K = 20, 10
TINY_WORLD = dict(n_users=100, n_items=150, n_requests=500)
EXITS = SyntheticConfig(**TINY_WORLD, exit_after_skip=0.3)
"""the ``synthetic-tiny`` world where a user leaves after a slot without a click 30% of times"""


@pytest.fixture(scope="module", params=[0.0, 0.3], ids=["no exits", "exits"])
def world(request):
    """``(dataset, exit_after_skip)``: the tiny world without exits, and with them."""
    exits = request.param
    return load_dataset("synthetic", progress=False, **TINY_WORLD, exit_after_skip=exits), exits


@pytest.fixture(scope="module")
def exits_world():
    return load_dataset("synthetic", progress=False, **TINY_WORLD, exit_after_skip=0.3)


def make_vec(dataset, num_envs):
    return make_vec_of(dataset, num_envs, C, invalid_action="raise")


def single_env_lists(policy, dataset, seed: int, episodes: int) -> tuple[list, list, list]:
    """Clicks, expected clicks and length of a single env's first ``episodes`` lists."""
    env = gym.make("ListwiseFeed-v0", dataset=dataset, num_candidates=C, invalid_action="raise")
    clicks, expected, lengths = [], [], []
    for episode in range(episodes):
        observation, _ = env.reset(seed=seed if episode == 0 else None)
        totals, terminated, steps = np.zeros(2), False, 0
        while not terminated:
            batched = {key: np.asarray(value)[None] for key, value in observation.items()}
            observation, _, terminated, _, info = env.step(int(policy.act(batched)[0]))
            totals += [info["click"], info["click_proba"]]
            steps += 1
        clicks.append(totals[0]), expected.append(totals[1]), lengths.append(steps)
    return clicks, expected, lengths


@pytest.mark.parametrize("policy", ["oracle", "popularity"])
def test_online_evaluation_scores_each_list_up_to_its_end_like_single_envs(world, policy):
    world, exits = world
    agent = {
        "oracle": lambda: OracleAgent(GroundTruthModel(world.extras["world"])),
        "popularity": lambda: PopularityAgent(np.arange(150.0)),
    }[policy]()
    n_envs, n_lists, seed = 3, 8, 11
    got = evaluate_online(agent, make_vec(world, n_envs), n_lists, seed)
    streams = [single_env_lists(agent, world, seed + i, 3) for i in range(n_envs)]
    clicks, expected, lengths = (np.array([s[part] for s in streams]).T for part in range(3))
    np.testing.assert_array_equal(got.clicks, clicks.ravel()[:n_lists])  # episode-major order
    np.testing.assert_array_equal(got.expected_clicks, expected.ravel()[:n_lists])
    assert (lengths.min() < K) == (exits > 0)


def collect(dataset, steps: int) -> tuple[list[Episodes], list[np.ndarray], list[np.ndarray]]:
    """Epsilon-greedy (random) play: the collector's episodes, and the env's ``list_*`` infos."""
    env = make_vec(dataset, 6)
    collector, generator = EpisodeCollector(6, K), torch.Generator().manual_seed(0)
    observation, _ = env.reset(seed=0)
    collector.start()
    finished, items, clicks = [], [], []
    for _ in range(steps):
        valid = valid_mask(observation)
        actions = epsilon_greedy(valid.argmax(1), valid, 1.0, generator)
        next_observation, rewards, terminated, truncated, info = env.step(actions)
        episodes = collector.step(
            observation, actions, rewards, terminated, truncated, next_observation
        )
        if len(episodes):
            finished.append(episodes)
            items.append(info["list_items"][info["_list_items"]])
            clicks.append(info["list_clicks"][info["_list_clicks"]])
        observation = next_observation
    return finished, items, clicks


def test_collector_keeps_short_lists_with_nothing_after_the_exit(exits_world):
    finished, logged_items, logged_clicks = collect(exits_world, 60)
    for got, items, clicks in zip(finished, logged_items, logged_clicks, strict=True):
        placed = got.items != PAD_ITEM
        np.testing.assert_array_equal(got.items, items)
        np.testing.assert_array_equal(got.clicks, clicks)
        np.testing.assert_array_equal(got.rewards, clicks)  # reward_mode="click"; 0 after
        placed_actions = np.take_along_axis(got.candidates, got.actions, 1)
        np.testing.assert_array_equal(np.where(placed, placed_actions, PAD_ITEM), items)
        assert (got.actions[~placed] == 0).all()
    lengths = np.concatenate([(e.items != PAD_ITEM).sum(1) for e in finished])
    assert lengths.min() < K and lengths.max() == K and len(lengths) > 20


def test_replay_masks_a_short_list_and_its_td_target_ends_at_the_exit():
    replay = EpisodeReplay(capacity=4, slate_size=3, n_candidates=4)
    replay.add(
        Episodes(  # the same two first slots; the user leaves the first list after slot 1
            users=np.array([4, 4]),
            items=np.array([[12, 10, PAD_ITEM], [12, 10, 11]]),
            clicks=np.array([[0, 1, 0], [0, 1, 0]], dtype=np.int8),
            rewards=np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32),
            candidates=np.array([[10, 11, 12, 13]] * 2),
            actions=np.array([[2, 0, 0], [2, 0, 1]]),
        )
    )
    batch = replay.batch(torch.tensor([0, 1]))
    assert batch.lists.items[0].tolist() == [12, 10, 0]
    assert batch.lists.mask.tolist() == [[True, True, False], [True, True, True]]
    assert batch.weights.tolist() == [[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    assert batch.done.tolist() == [[False, True, False], [False, False, True]]
    # the empty slot's action 0 is no placement: after slot 1 candidates 2 and 0 are gone
    assert batch.next_valid[0, :2].tolist() == [
        [True, True, False, True],
        [False, True, False, True],
    ]
    learner = DDQN(tiny_network(), DDQNConfig(gamma=0.9))
    rows, slots = batch.transitions()
    assert rows.tolist() == [0, 0, 1, 1, 1] and slots.tolist() == [0, 1, 0, 1, 2]
    with torch.no_grad():
        target = learner.td_target(batch, rows, slots)
    assert target[1].item() == 1.0 and target[3].item() != 1.0  # y = r at the exit only


def test_online_ddqn_trains_in_a_world_with_exits_and_stores_only_whole_lists(tmp_path):
    config = tiny_config(
        tmp_path, agent="student", mode="online", steps=30, synthetic=EXITS,
        learner=DDQNConfig(batch_size=8),
    )  # fmt: skip
    result = run(config)
    assert np.isfinite(result.metrics["online"]["clicks_per_list"])
    replay = load_checkpoint(result.dir / CHECKPOINT_NAME)["sampler"]["replay"]
    items, candidates = replay["items"].numpy(), replay["candidates"].numpy()
    placed = items != PAD_ITEM
    lengths = placed.sum(1)
    assert lengths.min() < K and (lengths >= 1).all()
    np.testing.assert_array_equal(placed, np.arange(K) < lengths[:, None])  # a prefix each
    assert (replay["rewards"].numpy()[~placed] == 0).all()
    # every placed slot and nothing else (no ignored autoreset action) marks its candidate
    placed_slot = replay["placed_slot"].numpy()
    assert ((placed_slot < K).sum(1) == lengths).all()
    marked = np.where(placed_slot < K, candidates, PAD_ITEM)
    np.testing.assert_array_equal(np.sort(marked, 1)[:, -K:], np.sort(items, 1))
    again = run(replace(config, out=str(tmp_path / "again")))
    assert again.metrics["online"] == result.metrics["online"]
