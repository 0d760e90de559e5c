"""Every CLI ends a user error with one ``error: ...`` line on stderr and exit status 2, no
traceback; a bug keeps its traceback (rec_env.cli.run_cli)."""

import subprocess
import sys

import pandas as pd
import pytest

from rec_env.checks import InputError
from rec_env.cli import USAGE_ERROR, run_cli
from rec_env.data import LogValidationError
from rec_env.data.registry import NAMES


def _run(module: str, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", module, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def _assert_one_line_error(done: subprocess.CompletedProcess, message: str) -> None:
    assert done.returncode == USAGE_ERROR
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [f"error: {message}"]


def test_data_cli_user_error_exits_2_with_one_line():
    done = _run("rec_env.data", "info", "synthtic")
    names = ", ".join(NAMES)
    message = f"NAME must be one of {names} or a .csv/.parquet/.pq log path, got 'synthtic'"
    _assert_one_line_error(done, message)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "args", "message"),
    [
        ("agents.train", ["--steps", "0"], "TrainConfig.steps must be >= 1, got 0"),
        ("distill.train", ["--pool-size", "0"], "DistillOptions.pool_size must be >= 1, got 0"),
        ("agents.train", ["--dataset", "missing.csv"], "log file not found: missing.csv"),
        ("benchmarks.offline_agents", ["--steps", "0"], "TrainConfig.steps must be >= 1, got 0"),
    ],
)
def test_every_cli_user_error_exits_2_with_one_line(tmp_path, module, args, message):
    out = ["--out-dir", str(tmp_path), "--runs-dir"] if module.startswith("bench") else ["--out"]
    _assert_one_line_error(_run(module, *args, *out, str(tmp_path)), message)
    assert not list(tmp_path.iterdir())  # no run folder, no results


@pytest.mark.parametrize(
    "error",
    [
        InputError("k must be an int >= 1, got 0"),
        LogValidationError("must be integer", column="item_id"),
        FileNotFoundError("log file not found: x.csv"),
    ],
)
def test_run_cli_turns_user_errors_into_exit_2(capsys, error):
    def main():
        raise error

    with pytest.raises(SystemExit) as exit_info:
        run_cli(main)
    assert exit_info.value.code == USAGE_ERROR
    assert capsys.readouterr().err == f"error: {error}\n"


@pytest.mark.parametrize("bug", [ValueError("shapes do not broadcast"), KeyError("agent")])
def test_run_cli_lets_bugs_raise(bug):
    def main():
        raise bug

    with pytest.raises(type(bug)):
        run_cli(main)


def test_run_cli_returns_what_main_returns():
    assert run_cli(pd.DataFrame.from_dict, {"a": [1]}).shape == (1, 1)
