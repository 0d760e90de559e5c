"""The harness: the results layout (write_results, merged tables keep every command,
merge_rows), the base settings' default folders and checks, mean +- std."""

import json
import re
import shlex
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from benchmarks import (
    distill_cost,
    efficiency,
    env_throughput,
    main_table,
    plain_agents,
    ppo_throughput,
    scale,
)
from benchmarks.harness.report import mean_std, spread
from benchmarks.harness.results import (
    learner_changes,
    merge_rows,
    merged,
    process_seconds,
    write_results,
)
from rec_env.checks import InputError


@dataclass
class Settings:
    seeds: tuple[int, ...] = (0,)


def test_write_results_layout_and_merged_commands(tmp_path):
    table = pd.DataFrame({"method": ["a"], "seed": [0], "auc": [0.7]})
    write_results(tmp_path, table, "# first\n", Settings())
    write_results(tmp_path, table, "# second\n", Settings((1,)), merged=True)
    assert pd.read_csv(tmp_path / "table.csv").equals(table)
    assert (tmp_path / "summary.md").read_text() == "# second\n"
    assert json.loads((tmp_path / "config.json").read_text()) == {"seeds": [1]}
    assert len((tmp_path / "command.txt").read_text().splitlines()) == 2
    write_results(tmp_path, table, "# third\n", Settings())
    assert len((tmp_path / "command.txt").read_text().splitlines()) == 1


def test_command_txt_stays_runnable_and_says_how_long_it_ran(tmp_path):
    write_results(tmp_path, pd.DataFrame({"a": [1]}), "", Settings())
    line = (tmp_path / "command.txt").read_text().strip()
    argv = shlex.split(line, comments=True)
    assert argv[1] == "-m" and not any("#" in a or "wall" in a for a in argv)
    assert re.search(r"# \d+ s wall, \d+ CPUs, finished \d{4}-\d\d-\d\dT\d\d:\d\dZ$", line)
    assert 0 < process_seconds() < 24 * 3600


def test_merge_rows_replaces_redone_rows_and_keeps_the_order(tmp_path):
    old = pd.DataFrame({"method": ["b", "a"], "seed": [0, 0], "auc": [0.1, 0.2]})
    old.to_csv(tmp_path / "table.csv", index=False)
    new = pd.DataFrame({"method": ["a", "a"], "seed": [0, 1], "auc": [0.3, 0.4]})
    merged = merge_rows(new, tmp_path / "table.csv", ["method", "seed"], order=["a", "b"])
    assert merged[["method", "seed", "auc"]].values.tolist() == [
        ["a", 0, 0.3],
        ["a", 1, 0.4],
        ["b", 0, 0.1],
    ]


def test_learner_changes_lists_only_the_differing_fields():
    from agents.learners.ddqn import DDQNConfig

    changes = learner_changes(
        DDQNConfig(), {"x": DDQNConfig(learning_rate=1e-3), "y": DDQNConfig()}
    )
    assert changes == {"x": {"learning_rate": 1e-3}, "y": {}}


@pytest.mark.parametrize("smoke", [False, True])
@pytest.mark.parametrize(
    "script",
    [main_table, scale, plain_agents, env_throughput, ppo_throughput, distill_cost, efficiency],
)
def test_default_folders_follow_the_script_name_and_smoke(script, smoke):
    config = script.Config(smoke=smoke)
    suffix = "_smoke" if smoke else ""
    assert config.out_dir == f"results/{script.Config.name}{suffix}"
    if hasattr(config, "runs_dir"):
        assert config.runs_dir == f"runs/{script.Config.name}{suffix}"
    assert script.Config(out_dir="elsewhere", smoke=smoke).out_dir == "elsewhere"


@pytest.mark.parametrize(("changes", "field"), [({"seeds": ()}, "seeds"), ({"jobs": 0}, "jobs")])
def test_table_settings_name_a_bad_field(changes, field):
    with pytest.raises(InputError, match=rf"Config\.{field}"):
        main_table.Config(**changes)


@pytest.mark.parametrize("merge", [False, True])
def test_merged_adds_the_earlier_rows_only_with_merge(tmp_path, merge):
    pd.DataFrame({"method": ["b"], "seed": [0], "auc": [0.1]}).to_csv(
        tmp_path / "table.csv", index=False
    )
    new = pd.DataFrame({"method": ["a"], "seed": [0], "auc": [0.3]})
    settings = main_table.Config(out_dir=str(tmp_path), merge=merge)
    table = merged(settings, new, ["method", "seed"], order=["a", "b"])
    assert table["method"].tolist() == (["a", "b"] if merge else ["a"])


@pytest.mark.parametrize(
    ("values", "digits", "text"),
    [([0.7, 0.72], 3, "0.710 +- 0.014"), ([0.7], 4, "0.7000"), ([1.0, 1.0, 1.0], 1, "1.0 +- 0.0")],
)
def test_spread_is_mean_plus_minus_sample_std(values, digits, text):
    assert spread(pd.Series(values), digits) == text
    assert mean_std(np.mean(values), np.nan, digits) == text.split(" +- ")[0]
