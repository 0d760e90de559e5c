"""benchmarks.ppo_throughput: its config checks and a smoke run of the script."""

import pandas as pd
import pytest

from benchmarks.ppo_throughput import Config, main, parse_args
from rec_env.checks import InputError


@pytest.mark.parametrize(
    ("field", "value"),
    [("num_envs", 0), ("rollouts", 0), ("repeats", 0), ("torch_threads", 0), ("batch_sizes", (1,))],
)
def test_config_refuses_bad_values_naming_the_field(field, value):
    with pytest.raises(InputError, match=f"Config.{field}"):
        Config(**{field: value})


@pytest.mark.slow  # trains two tiny PPO models: about 10 s on a busy 2-core CPU
def test_script_smoke(tmp_path):
    main(parse_args(["--smoke", "--out-dir", str(tmp_path)]))
    for name in ("table.csv", "summary.md", "config.json", "command.txt"):
        assert (tmp_path / name).stat().st_size > 0
    table = pd.read_csv(tmp_path / "table.csv")
    assert set(zip(table["path"], table["measure"], strict=True)) == {
        (path, measure) for path in ("dummy", "native") for measure in ("env", "ppo")
    }
    assert (table["slots_per_s"] > 0).all()
    assert table.set_index(["path", "measure"]).loc[("dummy", "ppo"), "x_dummy_same_measure"] == 1
