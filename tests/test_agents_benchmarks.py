"""The agents' benchmark scripts run end to end at smoke size and write the results layout."""

import subprocess
import sys

import pandas as pd
import pytest

from agents.serving_onnx import missing_packages
from agents.training.config import load_config
from benchmarks import efficiency, online_agents
from rec_env.checks import InputError

LAYOUT = ("table.csv", "summary.md", "config.json", "command.txt")


def _run(module: str, tmp_path, *extra: str) -> pd.DataFrame:
    out = tmp_path / "results"
    command = [sys.executable, "-m", module, "--smoke", "--out-dir", str(out), *extra]
    subprocess.run(command, check=True, capture_output=True)
    for name in LAYOUT:
        assert (out / name).stat().st_size > 0
    return pd.read_csv(out / "table.csv")


def test_offline_agents_smoke(tmp_path):
    table = _run("benchmarks.offline_agents", tmp_path, "--runs-dir", str(tmp_path / "runs"))
    assert list(table["method"]) == [
        "oracle", "random", "popularity", "mf", "supervised", "student", "teacher"
    ]  # fmt: skip
    assert table.drop(columns="run_dir").notna().all().all()
    assert ((table["auc"] > 0) & (table["auc"] < 1)).all()
    assert table.loc[table["method"] == "student", "params"].item() > 0

    trained = table.loc[table["method"].isin(["student", "teacher"]), "run_dir"].tolist()
    out = tmp_path / "by_slot"
    command = [sys.executable, "-m", "benchmarks.auc_by_slot", "--out-dir", str(out), "--runs"]
    subprocess.run([*command, *trained], check=True, capture_output=True)
    by_slot = pd.read_csv(out / "table.csv")
    assert len(by_slot) == 2 * 10 and set(by_slot["method"]) == {"student", "teacher"}
    assert by_slot["auc"].between(0, 1).all()  # every slot of the tiny test split has clicks
    assert (out / "summary.md").stat().st_size > 0


@pytest.mark.slow
def test_efficiency_smoke(tmp_path):
    table = _run("benchmarks.efficiency", tmp_path)
    assert set(table["method"]) == {"teacher", "student", "minimal"}
    backends = {"eager", "exported"} | (set() if missing_packages() else {"onnxruntime"})
    assert set(table["backend"]) == backends and table.notna().all().all()
    assert (table["same_slate_as_eager"] == 1).all()
    params = table.groupby("method")["params"].first()
    assert params["minimal"] < params["student"] <= 0.5 * params["teacher"]
    assert (table["latency_ms"] > 0).all() and (table["train_lists_per_s"] > 0).all()


@pytest.mark.slow  # over 5 s: online training of every agent
def test_online_agents_smoke_and_merge(tmp_path):
    runs = ["--runs-dir", str(tmp_path / "runs")]
    table = _run("benchmarks.online_agents", tmp_path, *runs)
    assert list(table["method"]) == list(online_agents.Config().agents)  # a tiny feed world
    assert table[["clicks_per_list", "expected_clicks_per_list"]].notna().all().all()
    assert (table["ctr"].between(0, 1)).all()
    assert (tmp_path / "results" / "curves.png").stat().st_size > 0
    run_dir = table.set_index("method")["run_dir"]
    warm = load_config(run_dir["teacher-offline-online"])
    assert (warm.mode, warm.init_from) == ("online", run_dir["teacher-offline"])
    assert load_config(run_dir["supervised"]).mode == "offline"
    summary = (tmp_path / "results" / "summary.md").read_text()
    assert "Share of (planner - oracle)" in summary and "| teacher-offline-online | mf |" in summary
    merged = _run(
        "benchmarks.online_agents", tmp_path, *runs, "--agents", "random", "--seeds", "1", "--merge"
    )
    assert len(merged) == len(table) + 1
    assert merged.loc[merged["method"] == "random", "seed"].tolist() == [0, 1]
    n_runs = len(list((tmp_path / "runs").iterdir()))
    again = _run(
        "benchmarks.online_agents", tmp_path, *runs, "--reuse", "--agents", "teacher-offline-online"
    )  # the warm-started run and its source are found, not trained again
    assert len(list((tmp_path / "runs").iterdir())) == n_runs
    assert again["run_dir"].item() == run_dir["teacher-offline-online"]


def test_efficiency_skips_onnxruntime_aloud_and_checks_backends(monkeypatch, capsys):
    monkeypatch.setattr(efficiency, "missing_packages", lambda: ["onnxruntime"])
    config, note = efficiency.backend_note(efficiency.Config())
    assert config.backends == ("eager", "exported")
    assert "onnxruntime backend is skipped: onnxruntime not installed" in capsys.readouterr().out
    assert note.startswith("The onnxruntime backend is skipped")
    with pytest.raises(InputError, match="nothing to time without onnxruntime"):
        efficiency.backend_note(efficiency.Config(backends=("onnxruntime",)))
    with pytest.raises(InputError, match=r"Config.backends must be one of .* got 'gpu'"):
        efficiency.Config(backends=("eager", "gpu"))


def test_a_stopped_online_table_resumes_from_its_finished_runs(tmp_path, capsys):
    argv = ["--smoke", "--out-dir", str(tmp_path / "out"), "--runs-dir", str(tmp_path / "runs")]
    argv += ["--reuse"]
    first = online_agents.main(online_agents.parse_args([*argv, "--agents", "popularity"]))
    table = online_agents.main(
        online_agents.parse_args([*argv, "--agents", "popularity", "random"])
    )
    assert "1 of 2 runs finished before, 1 to train" in capsys.readouterr().out
    assert len(list((tmp_path / "runs").iterdir())) == 2  # popularity was not scored again
    resumed = table[table["method"] == "popularity"].reset_index(drop=True)
    pd.testing.assert_frame_equal(resumed, first.reset_index(drop=True))


@pytest.mark.parametrize("field", ["steps", "eval_every", "jobs"])
def test_online_table_refuses_a_count_below_one_naming_it(field):
    with pytest.raises(InputError, match=rf"Config\.{field} must be >= 1, got 0"):
        online_agents.Config(**{field: 0})
