"""Every config dataclass checks its fields at construction: wrong types, out-of-range numbers
and unknown names raise InputError (a ValueError) naming the field and what is valid."""

import json
from dataclasses import dataclass, replace

import gymnasium as gym
import pytest

import distill  # noqa: F401  (registers the distillation methods as agents)
from agents.learners.base import LearnerConfig
from agents.learners.ddqn import DDQNConfig
from agents.nn.qnetwork import QNetworkConfig
from agents.train import parse_args
from agents.training import AgentSpec, register, registry
from agents.training.builtin import popularity
from agents.training.config import CONFIG_NAME, OnlineConfig, TrainConfig, load_config, save_config
from benchmarks.harness.cells import run_key
from distill.options import METHODS, DistillOptions
from rec_env.checks import InputError, check_choice, check_range, check_types
from rec_env.data import load_dataset
from rec_env.envs import FeedConfig

CASES = [
    # TrainConfig: names, types, ranges
    (TrainConfig, {"agent": "studnet"}, r"agent must be one of .*'student'.*got 'studnet'"),
    (TrainConfig, {"mode": "onlin"}, r"TrainConfig.mode must be one of 'offline', 'online'"),
    (TrainConfig, {"split": "random"}, r"TrainConfig.split must be one of 'request', 'time'"),
    (TrainConfig, {"dataset": "synthtic"}, r"TrainConfig.dataset must be one of synthetic, "),
    (TrainConfig, {"dataset": 3}, r"TrainConfig.dataset must be a str, got 3 \(int\)"),
    (TrainConfig, {"steps": "3"}, r"TrainConfig.steps must be an int, got '3' \(str\)"),
    (TrainConfig, {"steps": 0}, r"TrainConfig.steps must be >= 1, got 0"),
    (TrainConfig, {"seed": 1.5}, r"TrainConfig.seed must be an int, got 1.5"),
    (TrainConfig, {"threads": True}, r"TrainConfig.threads must be an int, got True"),
    (TrainConfig, {"width": 0.0}, r"TrainConfig.width must be > 0"),
    (TrainConfig, {"width": float("nan")}, r"TrainConfig.width must be > 0, got nan"),
    (TrainConfig, {"select_best": "yes"}, r"TrainConfig.select_best must be a bool"),
    (TrainConfig, {"learner": {"gamma": 0.5}}, r"TrainConfig.learner must be a DDQNConfig"),
    (TrainConfig, {"options": DistillOptions()}, r"agent 'teacher' takes no options"),
    (TrainConfig, {"agent": "kd", "options": 3}, r"options of agent 'kd' must be a KDOptions"),
    (TrainConfig, {"init_from": "runs/a"}, r"TrainConfig.init_from=runs/a .* mode='online' only"),
    (TrainConfig, {"init_from": 3}, r"TrainConfig.init_from must be a str or None, got 3"),
    # the learner and the network
    (LearnerConfig, {"learning_rate": 0.0}, r"LearnerConfig.learning_rate must be > 0"),
    (LearnerConfig, {"batch_size": 0}, r"LearnerConfig.batch_size must be >= 1"),
    (DDQNConfig, {"target": "dueling"}, r"DDQNConfig.target must be one of 'double', 'logged'"),
    (DDQNConfig, {"gamma": 1.5}, r"DDQNConfig.gamma must be in \[0, 1\], got 1.5"),
    (DDQNConfig, {"tau": 0.0}, r"DDQNConfig.tau must be in \(0, 1\]"),
    (DDQNConfig, {"n_recall": -1}, r"DDQNConfig.n_recall must be >= 0"),
    (QNetworkConfig, {"embed_dim": 5}, r"embed_dim must be a positive multiple of n_heads=2"),
    (QNetworkConfig, {"head_dims": ()}, r"head_dims must be widths >= 1"),
    (QNetworkConfig, {"head_dims": (8, "4")}, r"head_dims must be a tuple, each item an int"),
    (QNetworkConfig, {"dropout": 1.5}, r"QNetworkConfig.dropout must be in \[0, 1\]"),
    # online training and the environment
    (OnlineConfig, {"num_envs": 0}, r"OnlineConfig.num_envs must be >= 1"),
    (OnlineConfig, {"exploration_end": 1.5}, r"exploration_end must be in \[0, 1\]"),
    (FeedConfig, {"recall": "nearest"}, r"FeedConfig.recall must be one of 'popular', .* or a"),
    (FeedConfig, {"num_candidates": 0}, r"FeedConfig.num_candidates must be >= 1"),
    (FeedConfig, {"slate_size": 2.5}, r"FeedConfig.slate_size must be an int or None"),
    (FeedConfig, {"reward_mode": "clicks"}, r"reward_mode must be one of 'click', 'expected'"),
    (FeedConfig, {"slate_size": 0}, r"FeedConfig.slate_size must be >= 1, got 0"),
    (FeedConfig, {"num_candidates": -5}, r"FeedConfig.num_candidates must be >= 1, got -5"),
    (FeedConfig, {"slate_size": 5, "num_candidates": 4}, r"num_candidates \(4\) must be >= slate"),
    # distillation options
    (DistillOptions, {"filter": "tops"}, r"DistillOptions.filter must be one of 'dual_led'"),
    (DistillOptions, {"confidence": "tdd"}, r"DistillOptions.confidence must be one of 'td'"),
    (DistillOptions, {"pool_size": 0}, r"DistillOptions.pool_size must be >= 1"),
    (DistillOptions, {"kl_weight": -0.1}, r"DistillOptions.kl_weight must be >= 0"),
    (DistillOptions, {"explore": 1}, r"DistillOptions.explore must be a bool"),
    (DistillOptions, {"pool_size": -1}, r"DistillOptions.pool_size must be >= 1, got -1"),
    (
        DistillOptions,
        {"top_k": 5, "pool_size": 4},
        r"DistillOptions.top_k \(5\) must be <= pool_size",
    ),
]


@pytest.mark.parametrize(
    ("config", "fields", "message"),
    CASES,
    ids=[f"{cls.__name__}-{next(iter(fields))}" for cls, fields, _ in CASES],
)
def test_bad_fields_fail_at_construction_naming_the_field(config, fields, message):
    with pytest.raises(InputError, match=message):
        config(**fields)


@pytest.mark.parametrize(
    "config", [TrainConfig, OnlineConfig, DDQNConfig, QNetworkConfig, FeedConfig]
)
def test_defaults_are_valid(config):
    config()


@pytest.mark.parametrize("method", list(METHODS))
def test_every_distillation_method_is_a_valid_agent_with_its_options(method):
    config = TrainConfig(agent=method)
    assert isinstance(config.options, METHODS[method])


def test_init_from_unset_leaves_saved_configs_and_run_keys_as_they_were(tmp_path):
    """A config.json written before init_from existed loads to today's default config, with
    the same run key (finished cells are reused); setting it makes another run."""
    config = TrainConfig(mode="online")
    save_config(config, {}, tmp_path)
    payload = json.loads((tmp_path / CONFIG_NAME).read_text())
    assert payload["train"].pop("init_from") is None
    (tmp_path / CONFIG_NAME).write_text(json.dumps(payload))
    assert load_config(tmp_path) == config and config.init_from is None
    assert run_key(load_config(tmp_path)) == run_key(config)
    assert run_key(replace(config, init_from="runs/offline")) != run_key(config)


def test_a_bad_config_creates_no_run_folder(tmp_path):
    with pytest.raises(InputError):
        TrainConfig(agent="studnet", out=str(tmp_path / "runs"))
    assert not (tmp_path / "runs").exists()


def test_an_agent_registered_later_is_valid_once_registered(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # restored after
    name = "popularity-registered-by-a-test"
    with pytest.raises(InputError, match=f"agent must be one of .*got '{name}'"):
        TrainConfig(agent=name)
    register(name, AgentSpec(("offline",), make_agent=popularity), overwrite=True)
    assert TrainConfig(agent=name).spec.make_agent is popularity


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "0"], "TrainConfig.steps must be >= 1"),
        (["--gamma", "2"], r"DDQNConfig.gamma must be in \[0, 1\]"),
        (["--num-candidates", "0"], "FeedConfig.num_candidates must be >= 1"),
        (["--dataset", "nope"], "TrainConfig.dataset must be one of"),
    ],
)
def test_command_line_values_are_checked_by_the_configs(argv, message):
    with pytest.raises(InputError, match=message):
        parse_args(argv)


@dataclass(frozen=True)
class Example:
    count: int = 1
    rate: float = 0.5
    name: str | None = None


@pytest.mark.parametrize(
    ("fields", "valid"),
    [
        ({"count": 2, "rate": 1}, True),  # an int is a valid float
        ({"name": "x"}, True),
        ({"count": 2.0}, False),
        ({"count": False}, False),
        ({"rate": "0.5"}, False),
        ({"name": 3}, False),
    ],
)
def test_check_types(fields, valid):
    example = Example(**fields)
    if valid:
        check_types(example)
    else:
        with pytest.raises(InputError, match=f"Example.{next(iter(fields))} must be"):
            check_types(example)


def test_check_range_and_choice_messages():
    with pytest.raises(InputError, match=r"Example.rate must be in \(0.5, 1\], got 0.5"):
        check_range(Example(), ["rate"], low=0.5, high=1, low_open=True)
    check_range(Example(), ["count", "rate"], low=0)
    with pytest.raises(InputError, match=r"filter must be one of 'a', 'b', got 'c'"):
        check_choice("filter", "c", {"a": 1, "b": 2})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"num_candidates": 151}, r"num_candidates \(151\) exceeds the catalogue .* \(150 items\)"),
        ({"slate_size": 11, "num_candidates": 20}, r"slate_size \(11\) exceeds the 10 slots"),
        ({"num_candidates": 5}, r"num_candidates \(5\) must be >= slate_size \(10\)"),
        ({"num_candidates": 0}, r"FeedConfig.num_candidates must be >= 1"),
    ],
)
def test_env_sizes_are_checked_against_the_dataset_naming_the_field(settings, message):
    with pytest.raises(InputError, match=message):
        gym.make("ListwiseFeed-v0", dataset="synthetic-tiny", **settings)


def test_a_vector_env_of_no_sub_envs_is_refused():
    with pytest.raises(ValueError, match="num_envs must be >= 1, got 0"):
        gym.make_vec("ListwiseFeed-v0", num_envs=0, vectorization_mode="vector_entry_point")


@pytest.mark.parametrize("name", ["synthtic", "movielens", "logs/feed"])
def test_an_unknown_dataset_lists_the_known_names_and_the_log_suffixes(name):
    message = (
        f"unknown dataset '{name}': use one of synthetic, synthetic-tiny, .*ml-100k, obd "
        "or a path to a .csv/.parquet log"
    )
    with pytest.raises(InputError, match=message):
        load_dataset(name)
