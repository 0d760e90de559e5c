"""Online agents: policies, the episode collector and replay, online evaluation, online runs."""

import csv
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
import torch
from agents_testing import TINY, tiny_config, tiny_lists
from agents_testing import make_vec as make_vec_of

import rec_env  # noqa: F401  (registers ListwiseFeed-v0)
from agents.baselines import PopularityAgent, RandomAgent
from agents.data.batch import ListBatch
from agents.data.replay import EpisodeCollector, EpisodeReplay, Episodes
from agents.evaluation import evaluate_online
from agents.learners.ddqn import DDQN, DDQNConfig
from agents.metrics import mean_normal_ci95
from agents.nn.qnetwork import QNetwork
from agents.policies import OracleAgent, epsilon_greedy, masked_argmax, random_valid_actions
from agents.serving import QAgent
from agents.train import parse_args, run
from agents.training.checkpoint import load_checkpoint
from agents.training.config import OnlineConfig, TrainConfig, load_config
from agents.training.loop import CHECKPOINT_NAME
from rec_env.data import PAD_ITEM
from rec_env.envs import FlatFeatures, flat_features
from rec_env.simulator import GroundTruthModel

N_ENVS, C = 6, 20


def make_vec(dataset, num_envs=N_ENVS, **kwargs):
    return make_vec_of(dataset, num_envs, C, **kwargs)


def q_agent(seed=0) -> QAgent:
    lists = tiny_lists()
    torch.manual_seed(seed)
    return QAgent(QNetwork(TINY, lists.item_features, lists.user_features))


def test_masked_argmax_and_random_actions_respect_masks():
    scores = np.array([[3.0, 9.0, 1.0], [5.0, 5.0, 7.0]])
    valid = np.array([[True, False, True], [True, True, False]])
    assert masked_argmax(scores, valid).tolist() == [0, 0]  # ties: the first
    with pytest.raises(ValueError, match="at least one valid"):
        masked_argmax(scores, np.zeros_like(valid))
    generator = torch.Generator().manual_seed(0)
    valid = np.random.default_rng(0).random((500, 8)) < 0.3
    valid[:, 0] = True
    actions = random_valid_actions(valid, generator)
    assert valid[np.arange(500), actions].all() and len(np.unique(actions)) > 4


@pytest.mark.parametrize("epsilon", [0.0, 0.5, 1.0])
def test_epsilon_greedy_explores_at_rate_epsilon(epsilon):
    n = 4000
    valid = np.ones((n, 10), dtype=bool)
    valid[:, 3] = False
    greedy = np.zeros(n, dtype=np.int64)
    actions = epsilon_greedy(greedy, valid, epsilon, torch.Generator().manual_seed(1))
    assert valid[np.arange(n), actions].all()
    changed = np.mean(actions != greedy)  # a random action equals the greedy one 1/9 of times
    assert changed == pytest.approx(epsilon * 8 / 9, abs=0.03)


def test_list_batch_from_observation_masks_empty_slots(tiny_dataset):
    env = make_vec(tiny_dataset)
    observation, _ = env.reset(seed=0)
    observation, *_ = env.step(np.arange(N_ENVS))
    batch = ListBatch.from_observation(observation)
    assert batch.items.shape == (N_ENVS, 10) and batch.clicks.dtype == torch.float32
    assert batch.mask[:, 0].all() and not batch.mask[:, 1:].any()
    assert (batch.items[:, 1:] == 0).all()
    assert (
        batch.items[:, 0].tolist()
        == observation["candidates"][np.arange(N_ENVS), np.arange(N_ENVS)].tolist()
    )


def test_q_agent_acts_greedily_over_valid_candidates(tiny_dataset):
    agent = q_agent()
    env = make_vec(tiny_dataset)
    observation, _ = env.reset(seed=0)
    for _ in range(3):
        q = agent.q_values(observation).numpy()
        actions = agent.act(observation)
        valid = observation["action_mask"].astype(bool)
        assert q.shape == (N_ENVS, C) and valid[np.arange(N_ENVS), actions].all()
        np.testing.assert_array_equal(
            q[np.arange(N_ENVS), actions], np.where(valid, q, -np.inf).max(1)
        )
        observation, *_ = env.step(actions)


def test_collector_keeps_whole_episodes_and_drops_autoreset_steps(tiny_dataset):
    env = make_vec(tiny_dataset)
    collector = EpisodeCollector(N_ENVS, 10)
    agent, generator = RandomAgent(seed=0), torch.Generator().manual_seed(0)
    observation, _ = env.reset(seed=0)
    collector.start()
    finished, logged_items, logged_clicks = [], [], []
    for _ in range(3 * 11 + 4):  # three episodes plus autoreset steps, then a partial one
        actions = epsilon_greedy(
            agent.act(observation), observation["action_mask"].astype(bool), 0.0, generator
        )
        next_observation, rewards, terminated, truncated, info = env.step(actions)
        finished.append(
            collector.step(observation, actions, rewards, terminated, truncated, next_observation)
        )
        if "list_items" in info:
            logged_items.append(info["list_items"][info["_list_items"]])
            logged_clicks.append(info["list_clicks"][info["_list_clicks"]])
        observation = next_observation
    episodes = [e for e in finished if len(e)]
    assert [len(e) for e in episodes] == [N_ENVS] * 3
    for got, items, clicks in zip(episodes, logged_items, logged_clicks, strict=True):
        np.testing.assert_array_equal(got.items, items)
        np.testing.assert_array_equal(got.clicks, clicks)
        np.testing.assert_array_equal(got.rewards, clicks)  # reward_mode="click"
        np.testing.assert_array_equal(np.take_along_axis(got.candidates, got.actions, 1), items)


def _episode(actions, rewards, candidates=(10, 11, 12, 13)) -> Episodes:
    candidates = np.array([candidates])
    actions = np.array([actions])
    items = np.take_along_axis(candidates, actions, 1)
    return Episodes(
        users=np.array([4]),
        items=items,
        clicks=np.array([rewards], dtype=np.int8),
        rewards=np.array([rewards], dtype=np.float32),
        candidates=candidates,
        actions=actions,
    )


def test_replay_batch_by_hand():
    replay = EpisodeReplay(capacity=5, slate_size=2, n_candidates=4)
    replay.add(_episode([2, 0], [1, 0]))
    batch = replay.batch(torch.tensor([0]))
    assert batch.lists.items.tolist() == [[12, 10]] and batch.rewards.tolist() == [[1.0, 0.0]]
    assert batch.done.tolist() == [[False, True]] and batch.shared_candidates
    assert batch.next_items.tolist() == [[10, 11, 12, 13]]
    # after slot 0 candidate 2 is gone; after slot 1 candidates 2 and 0 are
    assert batch.next_valid.tolist() == [[[True, True, False, True], [False, True, False, True]]]


def test_replay_ring_buffer_state_and_sampling():
    replay = EpisodeReplay(capacity=3, slate_size=2, n_candidates=4)
    with pytest.raises(ValueError, match="empty"):
        replay.sample(2, torch.Generator())
    for first in range(5):
        replay.add(_episode([first % 4, (first + 1) % 4], [1, 1]))
    assert len(replay) == 3 and sorted(replay.items[:, 0].tolist()) == [10, 12, 13]  # lists 2, 3, 4
    copy = EpisodeReplay(capacity=3, slate_size=2, n_candidates=4)
    copy.load_state_dict(replay.state_dict())
    draws = [r.sample(8, torch.Generator().manual_seed(3)) for r in (replay, copy)]
    assert torch.equal(draws[0].lists.items, draws[1].lists.items)
    assert torch.equal(draws[0].next_valid, draws[1].next_valid)


def test_shared_candidates_give_the_same_target_as_per_slot_candidates():
    replay = EpisodeReplay(capacity=4, slate_size=10, n_candidates=C)
    rng = np.random.default_rng(0)
    for _ in range(4):
        candidates = np.sort(rng.choice(150, C, replace=False))
        replay.add(_episode(rng.permutation(C)[:10], rng.integers(0, 2, 10), candidates))
    shared = replay.batch(torch.arange(4))
    per_slot = type(shared)(
        **{**shared.__dict__, "next_items": shared.next_items[:, None].expand(-1, 10, -1)}
    )
    torch.manual_seed(0)
    learner = DDQN(QNetwork(TINY, tiny_lists().item_features, tiny_lists().user_features))
    rows, slots = shared.transitions()
    with torch.no_grad():
        torch.testing.assert_close(
            learner.td_target(shared, rows, slots), learner.td_target(per_slot, rows, slots)
        )


def test_mean_ci95_by_hand():
    mean, half = mean_normal_ci95(np.array([1.0, 2.0, 3.0, 4.0]))
    assert mean == 2.5 and half == pytest.approx(1.96 * np.std([1, 2, 3, 4], ddof=1) / 2)
    assert np.isnan(mean_normal_ci95(np.array([3.0]))[1])
    with pytest.raises(ValueError, match="non-empty"):
        mean_normal_ci95(np.array([]))


class RecordingPolicy:
    """Random valid actions; remembers the users of the lists it filled."""

    def __init__(self, seed):
        self.inner, self.users = RandomAgent(seed), []

    def act(self, observation):
        self.users.append(observation["user"][observation["position"] == 0])
        return self.inner.act(observation)


def test_online_evaluation_uses_the_same_lists_for_every_policy(tiny_dataset):
    env = make_vec(tiny_dataset, num_envs=5)
    first, second = RecordingPolicy(0), RecordingPolicy(1)
    a = evaluate_online(first, env, n_lists=12, seed=7).summary()
    b = evaluate_online(second, env, n_lists=12, seed=7).summary()
    np.testing.assert_array_equal(np.concatenate(first.users), np.concatenate(second.users))
    assert a["n_lists"] == 12 and a != b
    assert evaluate_online(RecordingPolicy(0), env, n_lists=12, seed=7).summary() == a


def test_oracle_beats_popularity_beats_random(tiny_dataset):
    env = make_vec(tiny_dataset, num_envs=50)
    lists = tiny_lists()
    popularity = np.bincount(
        lists.items[lists.mask], weights=lists.clicks[lists.mask], minlength=150
    )
    scores = {
        name: evaluate_online(agent, env, n_lists=400, seed=0).summary()["expected_clicks_per_list"]
        for name, agent in {
            "oracle": OracleAgent(GroundTruthModel(tiny_dataset.extras["world"])),
            "popularity": PopularityAgent(popularity),
            "random": RandomAgent(0),
        }.items()
    }
    assert scores["oracle"] > scores["popularity"] > scores["random"], scores


def test_paired_evaluations_give_a_tighter_interval_than_separate_ones(tiny_dataset):
    env = make_vec(tiny_dataset, num_envs=50)
    oracle = evaluate_online(OracleAgent(GroundTruthModel(tiny_dataset.extras["world"])), env, 400, 0)
    noisy = evaluate_online(RandomAgent(0), env, 400, 0)
    paired = mean_normal_ci95(oracle.clicks - noisy.clicks)
    separate = np.hypot(
        oracle.summary()["clicks_per_list_ci95"], noisy.summary()["clicks_per_list_ci95"]
    )
    assert paired[0] == pytest.approx(oracle.clicks.mean() - noisy.clicks.mean())
    assert paired[1] < separate  # common random numbers: the same click uniforms for both
    assert oracle.summary()["ctr"] == pytest.approx(oracle.clicks.mean() / 10)


def test_oracle_pads_a_shorter_slate_to_the_models_width(tiny_dataset):
    env = make_vec(tiny_dataset, slate_size=4)
    observation, _ = env.reset(seed=0)
    assert observation["slate_items"].shape == (N_ENVS, 4)
    actions = OracleAgent(GroundTruthModel(tiny_dataset.extras["world"])).act(observation)
    assert observation["action_mask"][np.arange(N_ENVS), actions].all()


def test_flat_features_of_a_batch_match_the_wrapper(tiny_dataset):
    single = FlatFeatures(gym.make("ListwiseFeed-v0", dataset=tiny_dataset, num_candidates=C))
    env = make_vec(tiny_dataset, num_envs=3)
    observation, _ = env.reset(seed=5)
    observation, *_ = env.step(np.array([1, 2, 3]))
    batch = flat_features(observation, env.unwrapped.item_features)
    rows = [single.observation({k: v[i] for k, v in observation.items()}) for i in range(3)]
    np.testing.assert_array_equal(batch, np.stack(rows))
    assert batch.shape == (3, single.observation_space.shape[0])
    assert (observation["slate_items"][:, 1:] == PAD_ITEM).all()


def online_config(tmp_path, **changes) -> TrainConfig:
    online = {"agent": "student", "mode": "online", "steps": 30, "eval_every": 20}
    logging = {"checkpoint_every": 10, "log_every": 5, "learner": DDQNConfig(batch_size=8)}
    return tiny_config(tmp_path, **{**online, **logging, **changes})


def _state(folder) -> dict[str, torch.Tensor]:
    state = load_checkpoint(folder / CHECKPOINT_NAME)
    tensors = {f"network.{k}": v for k, v in state["trainable"]["network"].items()}
    replay = state["sampler"]["replay"]
    tensors.update({f"replay.{k}": v for k, v in replay.items() if torch.is_tensor(v)})
    return tensors


def _same_state(first, second) -> bool:
    a, b = _state(first), _state(second)
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _tags(folder) -> set[str]:
    with open(folder / "scalars.csv", newline="") as handle:
        return {row[1] for row in list(csv.reader(handle))[1:]}


def test_online_run_is_seeded_and_logs_curves(tmp_path):
    config = online_config(tmp_path)
    first, second = run(config), run(config)
    assert _same_state(first.dir, second.dir)
    assert first.metrics["online"] == second.metrics["online"]
    assert not _same_state(first.dir, run(replace(config, seed=1)).dir)
    checkpoint = load_checkpoint(first.dir / CHECKPOINT_NAME)
    # 5 rounds of 4 lists: updates start at the end of round 2 (8 lists), 10 per round after
    assert checkpoint["step"] == 31 and checkpoint["sampler"]["replay"]["users"].shape == (20,)
    expected_tags = {"charts/epsilon", "charts/clicks_per_list", "eval/valid_clicks_per_list"}
    assert expected_tags | {"losses/loss"} <= _tags(first.dir)
    assert {"clicks_per_list", "clicks_per_list_ci95", "ctr"} <= set(first.metrics["online"])
    assert 0.0 <= first.metrics["test"]["auc"] <= 1.0  # an online agent also scores logs


def test_online_resume_with_a_larger_budget_equals_uninterrupted_run(tmp_path):
    config = online_config(tmp_path)
    straight = run(config)
    first_leg = run(replace(config, steps=15))
    assert load_checkpoint(first_leg.dir / CHECKPOINT_NAME)["step"] < 30
    assert load_config(first_leg.dir) == replace(config, steps=15)  # what --resume reads
    resumed = run(config, resume_dir=first_leg.dir)
    assert _same_state(straight.dir, resumed.dir)
    assert resumed.metrics["online"] == straight.metrics["online"]


@pytest.mark.parametrize("agent", ["popularity", "random", "oracle"])
def test_online_baselines_need_no_training(tmp_path, agent):
    result = run(online_config(tmp_path, agent=agent))
    assert 0.0 <= result.metrics["online"]["ctr"] <= 1.0
    assert not (result.dir / CHECKPOINT_NAME).exists()
    assert ("test" in result.metrics) == (agent != "oracle")


def test_maskable_ppo_run_saves_its_model_and_acts_in_the_vector_env(tmp_path):
    pytest.importorskip("sb3_contrib")
    result = run(online_config(tmp_path, agent="ppo", steps=64))
    assert (result.dir / "ppo_model.zip").exists() and "test" not in result.metrics
    assert result.metrics["online"]["n_lists"] == 20
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        run(online_config(tmp_path, agent="ppo"), resume_dir=result.dir)


def test_online_only_agents_refuse_offline_mode():
    with pytest.raises(ValueError, match=r"exists in mode\(s\) \('online',\), not 'offline'"):
        TrainConfig(agent="oracle", mode="offline")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"num_envs": 0}, "num_envs must be >= 1"),
        ({"exploration_end": 1.5}, r"exploration_end must be in \[0, 1\]"),
        ({"learning_starts": 30_000}, "training would never start"),
        ({"eval_lists": -1}, "must be >= 0"),
    ],
)
def test_bad_online_settings_are_clear_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        OnlineConfig(**changes)


def test_cli_online_flags():
    config, _ = parse_args(
        [
            "--mode",
            "online",
            "--agent",
            "ppo",
            "--num-envs",
            "8",
            "--num-candidates",
            "30",
        ]
    )
    assert (config.mode, config.agent, config.online.num_envs) == ("online", "ppo", 8)
    assert config.online.env.num_candidates == 30


def test_online_run_without_evaluation_lists_trains_and_skips_online_scores(tmp_path):
    config = online_config(tmp_path)
    result = run(replace(config, online=replace(config.online, eval_lists=0)))
    assert "online" not in result.metrics and 0.0 <= result.metrics["test"]["auc"] <= 1.0
    assert "eval/valid_clicks_per_list" not in _tags(result.dir)
