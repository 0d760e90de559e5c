"""Training to convergence (``TrainConfig.early_stopping``): a run stops ``patience``
evaluations after its best validation AUC or at its cap in epochs, ends with its best network,
resumes to the same step, reports its steps in metrics.json; the benchmarks' ``--converged``."""

import csv
import json
import math
from dataclasses import replace

import pytest
import torch
import torch.multiprocessing as mp
from agents_testing import crash_at_sample, tensors_of, tiny_config

import distill  # noqa: F401  (registers the distillation methods)
from agents.learners.ddqn import DDQNConfig
from agents.train import run
from agents.training.checkpoint import load_checkpoint
from agents.training.config import EarlyStopping, load_config, save_config
from agents.training.loop import CHECKPOINT_NAME
from benchmarks import main_table
from benchmarks.harness import sweep
from benchmarks.harness.cells import run_key
from distill.options import DistillOptions
from rec_env.checks import InputError

TRAIN_LISTS = 400
"""train lists of synthetic-tiny (80% of 500)"""
FROZEN = DDQNConfig(batch_size=16, n_recall=4, learning_rate=1e-12, factor_learning_rate=1e-12)
"""a learner whose steps (~1e-12) vanish in float32 weights: a flat validation AUC"""
LEARNING = DDQNConfig(batch_size=16, n_recall=4)
STEP_KEYS = {"stopped_step", "selected_step", "step_cap", "stopped_epochs"}


def _config(tmp_path, agent="teacher", **changes):
    options = DistillOptions(pool_size=30) if agent == "drl-rec" else None
    return tiny_config(tmp_path, agent=agent, options=options, **changes)


def _valid_curve(folder) -> list[tuple[int, float]]:
    with open(folder / "scalars.csv", newline="") as handle:
        return [(int(r[0]), float(r[2])) for r in csv.reader(handle) if r[1] == "eval/valid_auc"]


def _stop_of(curve: list[tuple[int, float]], patience: int, every: int, cap: int) -> int:
    """The documented rule on a logged curve: the first evaluation ``patience * every`` steps
    after the best one so far (ties keep the earlier), else the cap."""
    best_step, best = 0, -math.inf
    for step, value in curve:
        if value > best:
            best_step, best = step, value
        if step - best_step >= patience * every:
            return step
    return cap


@pytest.mark.parametrize("agent", ["teacher", "student", "supervised", "drl-rec"])
@pytest.mark.parametrize(("patience", "every"), [(1, 2), (3, 2), (2, 5)])
def test_a_flat_validation_auc_stops_patience_evaluations_after_the_first(
    tmp_path, agent, patience, every
):
    rule = EarlyStopping(patience=patience, max_epochs=None)
    config = _config(tmp_path, agent, steps=100, eval_every=every, learner=FROZEN)
    result = run(replace(config, early_stopping=rule))
    stop = every * (1 + patience)  # the first evaluation is the best; a tie never beats it
    curve = _valid_curve(result.dir)
    assert [step for step, _ in curve] == list(range(every, stop + 1, every))
    assert len({auc for _, auc in curve}) == 1  # flat indeed
    assert result.metrics["stopped_step"] == stop and result.metrics["selected_step"] == every
    assert load_checkpoint(result.dir / CHECKPOINT_NAME)["step"] == stop


@pytest.mark.parametrize(
    ("patience", "max_epochs", "improving"), [(3, 2.0, True), (2, 10.0, False)]
)
def test_stops_where_the_rule_says_on_the_logged_curve(tmp_path, patience, max_epochs, improving):
    rule = EarlyStopping(patience=patience, max_epochs=max_epochs)
    config = _config(tmp_path, eval_every=2, learner=LEARNING, early_stopping=rule)
    result = run(config)
    assert load_config(result.dir) == config  # the rule is saved with the run
    cap = math.ceil(max_epochs * TRAIN_LISTS / LEARNING.batch_size)
    metrics = json.loads((result.dir / "metrics.json").read_text())
    assert STEP_KEYS <= set(metrics) and metrics["step_cap"] == cap
    stop = _stop_of(_valid_curve(result.dir), patience, 2, cap)
    assert (stop == cap) is improving  # the case is the one named: a rising curve or a plateau
    assert metrics["stopped_step"] == stop
    assert metrics["stopped_epochs"] == stop * LEARNING.batch_size / TRAIN_LISTS
    best_step, best = max(_valid_curve(result.dir), key=lambda row: (row[1], -row[0]))
    assert metrics["selected_step"] == best_step
    assert metrics["valid"]["auc"] == pytest.approx(best, abs=1e-6)


def _assert_same_run(first, second):
    keep = {"run_seconds", "resumed_from"}
    assert {k: v for k, v in first.metrics.items() if k not in keep} == {
        k: v for k, v in second.metrics.items() if k not in keep
    }
    states = [tensors_of(load_checkpoint(r.dir / CHECKPOINT_NAME)) for r in (first, second)]
    assert [name for name in states[0] if not torch.equal(states[0][name], states[1][name])] == []
    assert (first.dir / "scalars.csv").read_text() == (second.dir / "scalars.csv").read_text()


@pytest.mark.parametrize("agent", ["teacher", pytest.param("drl-rec", marks=pytest.mark.slow)])
def test_a_crashed_run_resumes_and_stops_at_the_same_step(tmp_path, monkeypatch, agent):
    rule = EarlyStopping(patience=2, max_epochs=None)
    config = _config(tmp_path, agent, steps=400, eval_every=2, learner=LEARNING)
    config = replace(config, checkpoint_every=8, early_stopping=rule)
    straight = run(config)
    assert 10 < straight.metrics["stopped_step"] < config.steps  # stopped early, after a crash
    crash_at_sample(monkeypatch, step=10)
    with pytest.raises(RuntimeError, match="crash"):
        run(config)  # checkpoint at step 8
    monkeypatch.undo()
    (crashed,) = set(tmp_path.iterdir()) - {straight.dir}
    resumed = run(config, resume_dir=crashed)
    assert resumed.metrics["resumed_from"] == 8
    _assert_same_run(straight, resumed)


def test_a_run_killed_after_its_last_checkpoint_resumes_to_the_same_stop(tmp_path):
    rule = EarlyStopping(patience=2, max_epochs=None)
    config = _config(tmp_path, steps=400, eval_every=2, learner=LEARNING, early_stopping=rule)
    straight = run(config)
    (straight.dir / "metrics.json").unlink()  # as if killed between checkpoint and metrics
    resumed = run(config, resume_dir=straight.dir)
    assert resumed.metrics["resumed_from"] == straight.metrics["stopped_step"]
    assert {k: resumed.metrics[k] for k in ("valid", "test", "stopped_step", "selected_step")} == {
        k: straight.metrics[k] for k in ("valid", "test", "stopped_step", "selected_step")
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"early_stopping": EarlyStopping(max_epochs=None), "steps": 2, "eval_every": 3},
         r"TrainConfig.steps \(2\) caps an early-stopped run below eval_every"),
        ({"early_stopping": EarlyStopping(), "select_best": False},
         "TrainConfig.early_stopping needs mode='offline' and select_best=True"),
        ({"early_stopping": EarlyStopping(), "mode": "online", "agent": "student"},
         "TrainConfig.early_stopping needs mode='offline'"),
    ],
)  # fmt: skip
def test_bad_train_configs_name_the_field(tmp_path, changes, message):
    with pytest.raises(InputError, match=message):
        _config(tmp_path, **changes)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"patience": 0}, "EarlyStopping.patience must be >= 1, got 0"),
        ({"max_epochs": 0.0}, r"EarlyStopping.max_epochs must be > 0, got 0.0"),
        ({"patience": 2.5}, "EarlyStopping.patience must be an int"),
    ],
)
def test_bad_rules_name_the_field(fields, message):
    with pytest.raises(InputError, match=message):
        EarlyStopping(**fields)


def test_a_cap_in_epochs_below_eval_every_names_max_epochs(tmp_path):
    rule = EarlyStopping(max_epochs=0.1)  # 3 steps of 16 of the 400 lists
    with pytest.raises(InputError, match=r"early_stopping.max_epochs \(0.1\) allows 3 steps"):
        run(_config(tmp_path, eval_every=5, early_stopping=rule))


def test_converged_sets_the_rule_of_trained_cells_only():
    config = main_table.parse_args(["--converged", "--patience", "4", "--max-epochs", "12"])
    rule = main_table.train_config(config, "synthetic-gap", "drl-rec", 0).early_stopping
    assert rule == EarlyStopping(patience=4, max_epochs=12.0)
    default = main_table.Config()
    assert main_table.train_config(default, "synthetic-gap", "teacher", 0).early_stopping is None
    for method in ("mf", "popularity"):  # fitted, not trained in steps: their runs are reused
        cells = [main_table.train_config(c, "synthetic-gap", method, 0) for c in (config, default)]
        assert run_key(cells[0]) == run_key(cells[1])
    cell = sweep.train_config(sweep.Config(converged=True, patience=3), sweep.DRL_REC, 0)
    assert cell.early_stopping == EarlyStopping(patience=3, max_epochs=10.0)
    with pytest.raises(InputError, match="EarlyStopping.patience must be >= 1"):
        main_table.Config(converged=True, patience=0)


def test_default_cells_keep_the_run_key_of_runs_saved_before_early_stopping(tmp_path):
    cell = main_table.train_config(main_table.Config(), "synthetic-gap", "teacher", 0)
    save_config(cell, {}, tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    del saved["train"]["early_stopping"]  # a run folder written before the field existed
    (tmp_path / "config.json").write_text(json.dumps(saved))
    assert run_key(load_config(tmp_path)) == run_key(cell)


@pytest.mark.slow
def test_every_rank_of_a_data_parallel_run_stops_at_rank_0s_step(tmp_path):
    from test_distributed import _free_port, _train_rank

    rule = EarlyStopping(patience=2, max_epochs=None)
    config = _config(tmp_path, steps=400, eval_every=2, learner=LEARNING, early_stopping=rule)
    mp.spawn(_train_rank, args=(2, _free_port(), config), nprocs=2, join=True)  # no deadlock
    (folder,) = tmp_path.iterdir()
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["stopped_step"] == _stop_of(_valid_curve(folder), 2, 2, config.steps) < 400
    assert load_checkpoint(folder / CHECKPOINT_NAME)["step"] == metrics["stopped_step"]
