"""The distillers' tuning: equal grids, defaults first, the best validation AUC chosen."""

import json
from pathlib import Path

import pandas as pd
import pytest

from benchmarks import main_table
from benchmarks.distill_tuning import GRIDS, chosen, main, parse_args
from distill.options import METHODS
from rec_env.checks import InputError


def test_every_distiller_gets_three_settings_its_default_first():
    assert set(GRIDS) == set(METHODS)
    for method, grid in GRIDS.items():
        assert len(grid) == 3 and len({json.dumps(s, sort_keys=True) for s in grid}) == 3
        default = METHODS[method]()
        assert all(getattr(default, name) == value for name, value in grid[0].items()), method
        METHODS[method](**grid[-1])  # every setting is a valid option


def test_chosen_keeps_the_best_validation_auc_and_the_default_on_ties():
    table = pd.DataFrame(
        {
            "method": ["a", "a", "b", "b"],
            "setting": ['{"x": 1}', '{"x": 2}', '{"y": 1}', '{"y": 2}'],
            "valid_auc": [0.70, 0.72, 0.60, 0.60],
        }
    )
    assert chosen(table) == {"a": {"x": 2}, "b": {"y": 1}}


@pytest.mark.slow
def test_smoke_run_tries_every_setting(tmp_path):
    argv = ["--smoke", "--out-dir", str(tmp_path / "out"), "--runs-dir", str(tmp_path / "runs")]
    table = main(parse_args(argv))
    assert len(table) == 3 * len(parse_args(argv).methods) and table["valid_auc"].notna().all()
    assert "--method-options" in (tmp_path / "out" / "summary.md").read_text()


def test_main_table_defaults_to_the_committed_tuning_choices():
    committed = pd.read_csv(Path(__file__).parents[1] / "results/distill_tuning/table.csv")
    assert main_table.Config().method_options == chosen(committed)


def test_jobs_below_one_is_refused_naming_the_field():
    with pytest.raises(InputError, match=r"Config\.jobs must be >= 1, got 0"):
        parse_args(["--jobs", "0"])
