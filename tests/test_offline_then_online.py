"""Offline-then-online (``TrainConfig.init_from``): an online run starts from a finished offline
run's selected networks, with a fresh optimiser, resumes exactly without reading the source
again, and refuses a source of other data or architecture naming the field."""

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from agents_testing import tensors_of, tiny_config

import distill  # noqa: F401  (registers the distillation methods as agents)
from agents.learners.ddqn import DDQNConfig
from agents.train import parse_args
from agents.training.checkpoint import load_checkpoint
from agents.training.config import Run, load_config
from agents.training.loop import CHECKPOINT_NAME
from agents.training.runner import build_trainable, load_agent, load_scenario, read_init_from, run
from distill.options import DistillOptions
from rec_env.checks import InputError
from rec_env.data import SyntheticConfig

OFFLINE_LEARNER = DDQNConfig(
    batch_size=16, n_recall=4, learning_rate=0.05, factor_learning_rate=0.1
)
"""a learning rate high enough that this seed's validation AUC peaks before the last step"""
OFFLINE_SEED = 2
UNTIMED = {"run_seconds", "resumed_from"}
"""metrics.json keys that differ between a resumed and an uninterrupted run"""


def online_config(tmp_path, source, **changes):
    """A 30-step online run of ``source``'s agent, warm-started from it."""
    fields = {"mode": "online", "steps": 30, "eval_every": 20, "checkpoint_every": 10}
    fields |= {"log_every": 5, "learner": DDQNConfig(batch_size=8), "init_from": str(source)}
    return tiny_config(tmp_path, **fields | {"agent": load_config(source).agent} | changes)


@pytest.fixture(scope="module")
def offline_runs(tmp_path_factory):
    """{agent: finished offline run folder} whose selected step is before its last."""
    out = tmp_path_factory.mktemp("offline")
    folders = {}
    for agent in ("teacher", "supervised"):
        config = tiny_config(out, agent=agent, steps=9, seed=OFFLINE_SEED, learner=OFFLINE_LEARNER)
        folders[agent] = run(config).dir
    return folders


def _warm_trainable(config):
    scenario = load_scenario(config)
    warm = read_init_from(config, scenario)
    return build_trainable(Run(config, Path(config.out), scenario, logger=None, warm_start=warm))


@pytest.mark.parametrize(
    ("agent", "selected_before_last"), [("teacher", True), ("supervised", False)]
)
def test_the_first_network_is_the_offline_runs_selected_network(
    tmp_path, offline_runs, agent, selected_before_last
):
    source = offline_runs[agent]
    metrics = json.loads((source / "metrics.json").read_text())
    assert (metrics["selected_step"] < metrics["stopped_step"]) == selected_before_last
    trainable = _warm_trainable(online_config(tmp_path, source))
    selected = load_agent(source).network.state_dict()
    last = load_checkpoint(source / CHECKPOINT_NAME)["trainable"]["network"]
    ours = trainable.network.state_dict()
    assert all(torch.equal(ours[k], selected[k]) for k in selected)
    assert all(torch.equal(ours[k], last[k]) for k in last) != selected_before_last
    if agent == "teacher":  # the target starts as a copy of the online network
        target = trainable.target_network.state_dict()
        assert all(torch.equal(target[k], selected[k]) for k in selected)
    assert trainable.optimizer.state_dict()["state"] == {} and trainable.n_updates == 0


def test_a_warm_start_differs_from_a_cold_start_and_is_in_the_config(tmp_path, offline_runs):
    config = online_config(tmp_path, offline_runs["teacher"])
    warm, cold = run(config), run(replace(config, init_from=None))
    assert load_config(warm.dir).init_from == str(offline_runs["teacher"])
    assert warm.metrics["test"]["auc"] != cold.metrics["test"]["auc"]


def test_resume_equals_an_uninterrupted_run_without_the_source(tmp_path, offline_runs):
    source = tmp_path / "source"
    shutil.copytree(offline_runs["teacher"], source)
    config = online_config(tmp_path, source)
    straight = run(config)
    first_leg = run(replace(config, steps=15))
    shutil.rmtree(source)  # a resume reads its own checkpoint only
    resumed = run(config, resume_dir=first_leg.dir)
    a, b = (tensors_of(load_checkpoint(r.dir / CHECKPOINT_NAME)) for r in (straight, resumed))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    untimed = [
        {k: v for k, v in r.metrics.items() if k not in UNTIMED} for r in (straight, resumed)
    ]
    assert untimed[0] == untimed[1]  # online, valid and test scores
    assert (straight.dir / "scalars.csv").read_text() == (resumed.dir / "scalars.csv").read_text()


TINY_WORLD = SyntheticConfig(n_users=100, n_items=150, n_requests=500, seed=1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"agent": "student"}, "its agent 'teacher' differs from this run's 'student'"),
        ({"width": 0.5}, "its width 0.25 differs from this run's 0.5"),
        ({"dataset": "synthetic"}, "its dataset 'synthetic-tiny' differs from this run's 'synt"),
        ({"split": "time"}, "its split 'request' differs from this run's 'time'"),
        ({"split_seed": 1}, "its split_seed 0 differs from this run's 1"),
        ({"synthetic": TINY_WORLD}, "its synthetic None differs from this run's Synthetic"),
    ],
)
def test_a_source_of_other_data_or_architecture_is_refused_naming_the_field(
    tmp_path, offline_runs, changes, message
):
    config = online_config(tmp_path / "runs", offline_runs["teacher"], **changes)
    with pytest.raises(InputError, match=rf"TrainConfig.init_from=.*: {message}"):
        run(config)
    assert not (tmp_path / "runs").exists()  # refused before the run folder


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mode": "offline"}, r"warm-starts an online run .* got mode='offline'"),
        ({"mf_warm_start": True}, "and TrainConfig.mf_warm_start both set the starting weights"),
        ({"agent": "mf"}, "agent 'mf' is fitted"),
        ({"init_from": ""}, "must name an offline run folder, got ''"),
    ],
)
def test_configs_that_cannot_warm_start_are_refused(tmp_path, offline_runs, changes, message):
    with pytest.raises(InputError, match=f"TrainConfig.init_from.*{message}"):
        online_config(tmp_path, offline_runs["teacher"], **changes)


def test_a_source_that_is_unfinished_online_or_of_other_items_is_refused(tmp_path, offline_runs):
    unfinished = tmp_path / "unfinished"
    shutil.copytree(offline_runs["teacher"], unfinished)
    (unfinished / "metrics.json").unlink()
    with pytest.raises(InputError, match="is not a finished run folder"):
        run(online_config(tmp_path, unfinished))
    online = run(online_config(tmp_path, offline_runs["teacher"])).dir
    with pytest.raises(InputError, match="is an online run; init_from starts from an offline"):
        run(online_config(tmp_path, online))
    other_items = tmp_path / "other_items"
    shutil.copytree(offline_runs["teacher"], other_items)
    vocabularies = json.loads((other_items / "vocabularies.json").read_text())
    vocabularies["items"] = {"field": "item_id", "size": 149}
    (other_items / "vocabularies.json").write_text(json.dumps(vocabularies))
    with pytest.raises(InputError, match=r"item_id vocabulary \(149 items\) differs .*150"):
        run(online_config(tmp_path, other_items))


def test_a_distillation_run_is_refused_as_a_source(tmp_path):
    options = DistillOptions(pool_size=30)
    source = run(tiny_config(tmp_path, agent="drl-rec", steps=2, options=options)).dir
    with pytest.raises(InputError, match="warm-starts one learner .* not a DistillTrainer"):
        run(online_config(tmp_path, source, options=options))


def test_the_init_from_flag(offline_runs):
    folder = str(offline_runs["teacher"])
    config, _ = parse_args(["--mode", "online", "--init-from", folder])
    assert (config.init_from, config.mode) == (folder, "online")
    assert parse_args([])[0].init_from is None
