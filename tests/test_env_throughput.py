"""benchmarks/env_throughput.py: its config checks and a subprocess smoke run that writes its
four files."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from benchmarks.env_throughput import Config
from rec_env.checks import InputError


@pytest.mark.parametrize(
    ("field", "value"),
    [("num_envs", ()), ("num_envs", (0,)), ("seconds", 0.0), ("repeats", 0), ("num_candidates", 0)],
)
def test_config_refuses_bad_values_naming_the_field(field, value):
    with pytest.raises(InputError, match=f"Config.{field}"):
        Config(**{field: value})


def test_smoke_run_writes_table_summary_config_command(tmp_path):
    out = tmp_path / "env_throughput"
    command = [
        sys.executable,
        "-m",
        "benchmarks.env_throughput",
        "--smoke",
        "--seed",
        "1",
        "--out-dir",
        str(out),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    table = pd.read_csv(out / "table.csv")
    assert list(table.columns) == [
        "env",
        "num_envs",
        "slots_per_s",
        "us_per_slot",
        "ratio_vs_sardine",
    ]
    ours = table[table["env"] == "ListwiseFeed-v0"]
    assert ours["num_envs"].tolist() == [1, 8, 64] and (ours["slots_per_s"] > 0).all()
    assert (ours["us_per_slot"] * ours["slots_per_s"]).round(6).eq(1e6).all()
    sardine = table[table["env"] == "sardine/SlateTopK-Bored-v0"]
    assert len(sardine) == 1
    summary = (out / "summary.md").read_text()
    assert "| target |" in summary
    if sardine["slots_per_s"].isna().all():  # not installed here: the summary must say so
        assert "not measured" in summary
    else:
        assert sardine["ratio_vs_sardine"].iloc[0] == 1.0
    config = json.loads((out / "config.json").read_text())
    assert config["smoke"] is True and config["seed"] == 1 and config["num_envs"] == [8, 64]
    assert "--smoke" in (out / "command.txt").read_text()
