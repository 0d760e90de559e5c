"""benchmarks.demo: statistics, the teacher / student / DRL-Rec table, curves, an honest summary."""

import subprocess
import sys

import pandas as pd
import pytest

from benchmarks import main_table
from benchmarks.demo import cells_config, main, parse_args, results_table
from rec_env.checks import InputError

WRITTEN = ("table.csv", "summary.md", "config.json", "command.txt", "datasets.csv")
PLOTS = ("curves.png", "click_rate_by_position.png")


def test_cells_are_main_table_cells_cut_short():
    config = parse_args([])
    cells = cells_config(config)
    assert cells.methods == ("drl-rec", "teacher", "student")  # the slowest run starts first
    assert (cells.steps, cells.seeds, cells.datasets) == (80, (0,), ("synthetic-gap",))
    table = main_table.Config()
    assert cells.learner_by_dataset == table.learner_by_dataset and cells.mf_warm_start == (
        "synthetic-gap",
    )
    assert not cells_config(parse_args(["--no-mf-warm-start"])).mf_warm_start


@pytest.mark.parametrize(
    ("argv", "field"),
    [(["--methods", "teacher", "nope"], "Config.methods"), (["--steps", "0"], "steps")],
)
def test_bad_flags_name_the_field(argv, field):
    with pytest.raises(InputError, match=field):
        parse_args(argv)


def test_results_table_against_the_student_alone():
    rows = pd.DataFrame(
        {
            "dataset": "d",
            "method": ["teacher", "student", "drl-rec"],
            "seed": 0,
            "auc": [0.76, 0.74, 0.745],
            "auc_items_only": [0.75, 0.73, 0.735],
            "expected_clicks_per_list": [2.7, 2.4, 2.5],
            "params": [1000.0, 400.0, 400.0],
            "train_s": [10.0, 8.0, 30.0],
        }
    )
    shown = results_table(rows).set_index("method")
    assert shown.loc["drl-rec", "vs student"] == "+0.0050"
    assert shown.loc["drl-rec", "gap closed"] == "25%"
    assert shown.loc["student", "vs student"] == "" and shown.loc["teacher", "params"] == "1,000"


def test_smoke_run_writes_table_curves_and_summary(tmp_path):
    out = tmp_path / "out"
    table = main(parse_args(["--smoke", "--out-dir", str(out), "--runs-dir", str(tmp_path / "r")]))
    assert list(table["method"]) == ["teacher", "student", "drl-rec"]
    scores = ["auc", "auc_items_only", "expected_clicks_per_list", "params", "train_s"]
    assert table[scores].notna().all().all()
    for name in WRITTEN + PLOTS:
        assert (out / name).stat().st_size > 0
    assert pd.read_csv(out / "datasets.csv")["dataset"].tolist() == ["synthetic-tiny"]
    summary = (out / "summary.md").read_text()
    assert "Short runs: 4 gradient steps each" in summary
    assert "results/main_table/summary.md" in summary and "| drl-rec |" in summary


@pytest.mark.slow  # over 5 s: a fresh interpreter imports torch and trains three runs
def test_script_smoke(tmp_path):
    out, runs = str(tmp_path / "out"), str(tmp_path / "runs")
    command = [sys.executable, "-m", "benchmarks.demo", "--smoke", "--out-dir", out]
    subprocess.run([*command, "--runs-dir", runs], check=True, capture_output=True)
    assert len(pd.read_csv(tmp_path / "out" / "table.csv")) == 3
