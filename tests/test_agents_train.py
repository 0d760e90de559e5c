"""Training runs: reproducibility, bit-identical resume, checkpoints, configs and the CLI."""

import csv
import json
import subprocess
import sys
from dataclasses import replace

import pytest
import torch
from agents_testing import crash_at_sample, tensors_of, tiny_config

from agents.learners.ddqn import DDQNConfig
from agents.metrics import evaluate_offline
from agents.train import load_agent, main, parse_args, run
from agents.training.checkpoint import load_checkpoint
from agents.training.config import load_config, load_scenario
from agents.training.flags import field_docs
from agents.training.loop import CHECKPOINT_NAME


def _assert_same_state(first, second):
    a, b = (tensors_of(load_checkpoint(folder / CHECKPOINT_NAME)) for folder in (first, second))
    assert a.keys() == b.keys() and len(a) > 10
    different = [name for name in a if not torch.equal(a[name], b[name])]
    assert not different


def _scalars(folder):
    with open(folder / "scalars.csv", newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("agent", ["teacher", "supervised"])
def test_same_seed_same_result_and_other_seed_differs(tmp_path, agent):
    config = tiny_config(tmp_path, agent=agent)
    first, second = run(config), run(config)
    _assert_same_state(first.dir, second.dir)
    assert first.metrics["test"] == second.metrics["test"]
    other = run(replace(config, seed=1))
    with pytest.raises(AssertionError):
        _assert_same_state(first.dir, other.dir)


def test_resume_with_a_larger_budget_equals_uninterrupted_run(tmp_path):
    config = tiny_config(tmp_path, learner=DDQNConfig(batch_size=16, n_recall=4, target="logged"))
    straight = run(config)
    first_leg = run(replace(config, steps=3))  # checkpoint at 2 and at the end, 3
    checkpoint = load_checkpoint(first_leg.dir / CHECKPOINT_NAME)
    assert checkpoint["step"] == 3
    assert {"trainable", "sampler", "torch_rng", "hooks"} <= set(checkpoint)
    assert set(checkpoint["sampler"]) == {"generator"}
    resumed = run(replace(config, steps=6), resume_dir=first_leg.dir)
    assert resumed.metrics["resumed_from"] == 3
    _assert_same_state(straight.dir, resumed.dir)
    assert resumed.metrics["test"] == straight.metrics["test"]
    assert _scalars(resumed.dir) == _scalars(straight.dir)


def test_resume_after_a_crash_equals_uninterrupted_run(tmp_path, monkeypatch):
    config = tiny_config(tmp_path)
    straight = run(config)
    crash_at_sample(monkeypatch, step=6)
    with pytest.raises(RuntimeError, match="crash"):
        run(config)  # checkpoint at step 4, scalars logged up to step 5
    monkeypatch.undo()
    (crashed,) = set(tmp_path.iterdir()) - {straight.dir}
    assert load_checkpoint(crashed / CHECKPOINT_NAME)["step"] == 4
    assert _scalars(crashed)[-1][0] == "5"
    resumed = run(config, resume_dir=crashed)
    _assert_same_state(straight.dir, resumed.dir)
    assert _scalars(resumed.dir) == _scalars(straight.dir)  # step 5's rows logged once


def test_checkpoint_is_weights_only_and_atomic(tmp_path):
    result = run(tiny_config(tmp_path, steps=2))
    state = load_checkpoint(result.dir / CHECKPOINT_NAME)
    assert {"network", "target_network", "optimizer", "n_updates"} <= set(state["trainable"])
    assert sorted(p.name for p in result.dir.iterdir() if p.name.startswith(CHECKPOINT_NAME)) == [
        CHECKPOINT_NAME
    ]  # no temporary file left behind


def test_run_folder_layout_and_config_round_trip(tmp_path):
    config = tiny_config(tmp_path, agent="student", seed=2)
    result = run(config)
    assert result.dir.name.startswith("synthetic-tiny__student__2__")
    assert load_config(result.dir) == config
    saved = json.loads((result.dir / "config.json").read_text())
    assert saved["networks"]["network"]["embed_dim"] == 2
    assert saved["train"]["learner"]["gamma"] == 0.4
    metrics = json.loads((result.dir / "metrics.json").read_text())
    assert set(metrics["test"]) == {"auc", "gauc", "ndcg_at_10", "n_users_skipped"}
    tags = {row[1] for row in _scalars(result.dir)[1:]}
    assert {"losses/loss", "losses/grad_norm", "eval/valid_auc", "eval/valid_gauc"} <= tags
    assert any(p.name.startswith("events.out.tfevents") for p in result.dir.iterdir())


@pytest.mark.parametrize("agent", ["mf", "popularity", "random"])
def test_baselines_evaluate_without_training(tmp_path, agent):
    result = run(tiny_config(tmp_path, agent=agent))
    assert 0.0 <= result.metrics["test"]["auc"] <= 1.0 and "params" not in result.metrics
    assert not (result.dir / CHECKPOINT_NAME).exists()


def test_cli_flags_and_help():
    config, resume = parse_args(["--agent", "student", "--steps", "7", "--target", "logged"])
    assert (config.agent, config.steps, config.learner.target, resume) == (
        "student",
        7,
        "logged",
        None,
    )
    assert config.learner.gamma == 0.4 and config.split == "request"
    docs = field_docs(DDQNConfig)
    assert docs["gamma"] == "discount per slot" and docs["learning_rate"] == "Adam learning rate"


@pytest.mark.slow  # test_kill_resume runs the CLI in a subprocess and resumes it by default
def test_cli_subprocess_smoke_and_resume(tmp_path, capsys):
    tiny = ["--dataset", "synthetic-tiny", "--width", "0.25", "--num-candidates", "20"]
    command = [sys.executable, "-m", "agents.train", *tiny, "--agent", "student", "--steps", "2"]
    options = ["--batch-size", "8", "--eval-every", "1", "--seed", "0", "--out", str(tmp_path)]
    first = subprocess.run([*command, *options], check=True, capture_output=True, text=True)
    folder = json.loads(first.stdout)["run_dir"]
    main(["--resume", folder, "--steps", "4"])
    result = json.loads(capsys.readouterr().out)
    assert result["resumed_from"] == 2 and result["steps"] == 4 and result["run_dir"] == folder
    assert load_checkpoint(f"{folder}/{CHECKPOINT_NAME}")["step"] == 4


def test_select_best_ends_with_the_network_of_the_best_validation_auc(tmp_path):
    config = tiny_config(tmp_path, steps=6, eval_every=1, learner=DDQNConfig(batch_size=4))
    result = run(config)
    logged = [(int(r[0]), float(r[2])) for r in _scalars(result.dir) if r[1] == "eval/valid_auc"]
    best_step, best_auc = max(logged, key=lambda row: (row[1], -row[0]))
    assert len({auc for _, auc in logged}) > 1  # the choice matters
    assert result.metrics["selected_step"] == best_step
    assert result.metrics["valid"]["auc"] == pytest.approx(best_auc, abs=1e-6)
    last = run(replace(config, select_best=False))
    assert "selected_step" not in last.metrics
    assert last.metrics["valid"]["auc"] == pytest.approx(logged[-1][1], abs=1e-6)


@pytest.mark.parametrize("select_best", [True, False])
def test_load_agent_gives_back_the_network_the_run_was_scored_with(tmp_path, select_best):
    config = tiny_config(tmp_path, eval_every=1, select_best=select_best)
    result = run(config)
    agent = load_agent(result.dir)
    test = load_scenario(config).splits.test
    assert evaluate_offline(agent, test) == result.metrics["test"]
    with pytest.raises(ValueError, match="no network"):
        load_agent(run(replace(config, agent="popularity")).dir)
