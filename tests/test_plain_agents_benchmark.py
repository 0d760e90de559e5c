"""benchmarks.plain_agents: the relative table and a smoke run of the script."""

import subprocess
import sys

import pandas as pd
import pytest

from benchmarks.plain_agents import Config, relative
from rec_env.checks import InputError

LAYOUT = ("table.csv", "summary.md", "config.json", "command.txt")


def test_relative_table_against_hand_computed_shares():
    table = pd.DataFrame(
        {
            "dataset": ["d"] * 5,
            "method": ["random", "maskable_ppo", "ddqn_student", "plain_ppo", "plain_ppo"],
            "seed": [0, 0, 0, 0, 1],
            "expected_clicks_per_list": [1.0, 2.0, 3.0, 1.4, 1.6],
        }
    )
    rows = relative(table).set_index("method")
    assert rows.loc["plain_ppo", "x_random"] == pytest.approx(1.5)
    assert rows.loc["plain_ppo", "share_of_maskable_ppo_gain"] == pytest.approx(0.5)
    assert rows.loc["plain_ppo", "share_of_ddqn_student_gain"] == pytest.approx(0.25)
    assert rows.loc["plain_ppo", "expected_clicks"] == "1.500 +- 0.141"
    assert rows.loc["plain_ppo", "n_seeds"] == 2


@pytest.mark.parametrize(("field", "value"), [("ppo_batch_size", 1), ("ppo_learning_rate", 0.0)])
def test_config_refuses_bad_ppo_settings_naming_the_field(field, value):
    with pytest.raises(InputError, match=f"Config.{field}"):
        Config(**{field: value})


@pytest.mark.parametrize(("given", "minibatch"), [(None, 64), (512, 512)])
def test_ppo_minibatch_defaults_to_the_learners_batch(given, minibatch):
    assert Config(ppo_batch_size=given).ppo_minibatch == minibatch


@pytest.mark.slow  # trains five tiny agents: about 15 s
def test_script_smoke(tmp_path):
    script = [sys.executable, "-m", "benchmarks.plain_agents", "--smoke"]
    runs = ["--out-dir", str(tmp_path / "out"), "--runs-dir", str(tmp_path / "runs")]
    subprocess.run([*script, *runs], check=True)
    for name in LAYOUT:
        assert (tmp_path / "out" / name).stat().st_size > 0
    table = pd.read_csv(tmp_path / "out" / "table.csv")
    assert {"plain_ppo", "plain_dqn", "maskable_ppo", "random"} <= set(table["method"])
