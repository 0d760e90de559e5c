"""The data-limited positive control: its runs (share of the train lists, the teacher's
architecture, a frozen teacher per seed), bad settings, and the script at smoke size."""

import math

import pandas as pd
import pytest

from agents.nn.qnetwork import STUDENT, TEACHER
from agents.training.config import load_config
from benchmarks import positive_control
from benchmarks.harness import sweep
from benchmarks.harness.cells import run_key
from rec_env.checks import InputError

TEACHERS = {0: "runs/t0", 1: "runs/t1"}


def limited_runs(config, seed=0):
    """``{label: TrainConfig}`` of the data-limited lines of ``config`` at ``seed``."""
    lines = positive_control.limited_variants(config, TEACHERS)
    return {v.label: sweep.train_config(config, v, seed) for v in lines}


@pytest.mark.parametrize("seed", [0, 1])
def test_limited_runs_keep_a_share_and_learn_from_their_seeds_teacher(seed):
    config = positive_control.Config(train_share=0.1)
    runs = limited_runs(config, seed)
    assert list(runs) == ["student", "kd", "drl-rec", "q-regression", "drl-rec + q-regression"]
    assert {train.train_share for train in runs.values()} == {0.1}
    assert all(run.options.teacher_from == TEACHERS[seed] for run in list(runs.values())[1:])
    assert runs["drl-rec + q-regression"].options.q_regression_weight == 0.3
    assert (runs["drl-rec"].options.q_regression_weight, runs["kd"].options.kl_over) == (
        0.0,
        "positions",
    )
    teacher = sweep.train_config(config, sweep.TEACHER, seed)
    assert teacher.train_share == 1.0
    assert run_key(teacher) == run_key(sweep.train_config(sweep.Config(), sweep.TEACHER, seed))


@pytest.mark.parametrize("width", [1.0, 0.5])
def test_student_alone_and_distillers_serve_the_same_network(width):
    runs = limited_runs(positive_control.Config(student_width=width))
    alone = STUDENT.scaled(runs["student"].width)
    assert {run.options.student_width for run in list(runs.values())[1:]} == {width}
    assert alone == TEACHER.scaled(width)  # width 1: the teacher's architecture


def test_a_seed_without_a_teacher_run_is_named():
    config = positive_control.Config()
    with pytest.raises(InputError, match="teachers has no run for seed 7"):
        limited_runs(config, seed=7)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"train_share": 0.0}, "Config.train_share"),
        ({"train_share": 1.5}, "Config.train_share"),
        ({"student_width": 0.0}, "Config.student_width"),
        ({"q_regression_weight": 0.0}, "Config.q_regression_weight"),
        ({"seeds": ()}, "Config.seeds"),
    ],
)
def test_bad_settings_name_their_field(changes, field):
    with pytest.raises(InputError, match=field):
        positive_control.Config(**changes)


def test_smoke_run_writes_the_table_and_its_distillers_use_the_teacher_runs(tmp_path):
    args = ["--smoke", "--out-dir", str(tmp_path / "out"), "--runs-dir", str(tmp_path / "runs")]
    table = positive_control.main(positive_control.parse_args(args))
    assert len(table) == 6 * 2 and set(table["seed"]) == {0, 1}
    teachers = table[table["variant"] == "teacher"].set_index("seed")["run_dir"]
    for row in table[table["method"].isin(["kd", "drl-rec", "q-regression"])].itertuples():
        assert load_config(row.run_dir).options.teacher_from == teachers[row.seed]
    limited = table[table["variant"] != "teacher"]
    assert limited["train_auc"].map(math.isfinite).all() and table["steps_used"].eq(2).all()
    assert table.loc[table["variant"] == "teacher", "train_auc"].isna().all()
    assert pd.read_csv(tmp_path / "out" / "table.csv").shape == table.shape
    assert all((tmp_path / "out" / name).is_file() for name in ("config.json", "command.txt"))
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "| drl-rec + q-regression |" in summary and "expected_clicks_per_list: vs" in summary
