"""benchmarks.plot: curves of real run folders, a band over seeds, clear errors."""

import pytest
from agents_testing import tiny_config

from agents.train import run
from benchmarks.harness.report import curves, read_scalar
from benchmarks.plot import main
from rec_env.checks import InputError


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    """Two seeds of the student and one teacher, offline, validation every 2 steps."""
    out = tmp_path_factory.mktemp("runs")
    configs = [("student", 0), ("student", 1), ("teacher", 0)]
    return [
        str(run(tiny_config(out, agent=a, seed=s, steps=4, eval_every=2)).dir) for a, s in configs
    ]


def test_read_scalar_by_step(tmp_path):
    (tmp_path / "scalars.csv").write_text(
        "step,tag,value\n2,eval/valid_auc,0.6\n2,losses/loss,1.0\n4,eval/valid_auc,0.7\n"
    )
    series = read_scalar(tmp_path, "eval/valid_auc")
    assert series.to_dict() == {2: 0.6, 4: 0.7}
    with pytest.raises(InputError, match="no 'eval/valid_gauc' values"):
        read_scalar(tmp_path, "eval/valid_gauc")
    with pytest.raises(InputError, match="not a run folder"):
        read_scalar(tmp_path / "missing", "eval/valid_auc")


def test_curves_label_runs_by_method_and_dataset(run_dirs):
    table = curves(run_dirs, "eval/valid_auc")
    assert table.groupby("method")["run"].nunique().to_dict() == {"student": 2, "teacher": 1}
    assert set(table["dataset"]) == {"synthetic-tiny"} and set(table["step"]) == {2, 4}


def test_cli_writes_the_figure_and_its_command(run_dirs, tmp_path):
    path = main([*run_dirs, "--metric", "auc", "--out", str(tmp_path / "fig" / "curves.png")])
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "fig" / "command.txt").read_text().count("\n") == 1  # this process's
    with pytest.raises(InputError, match="no 'eval/valid_expected_clicks_per_list' values"):
        main([run_dirs[0], "--metric", "clicks", "--out", str(tmp_path / "c.png")])
