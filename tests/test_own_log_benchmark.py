"""benchmarks.own_log: the rewritten log carries what real logs do, and the script's smoke run."""

import json

import numpy as np
import pandas as pd
import pytest

from benchmarks.own_log import SMOKE, Config, main, own_log


def test_own_log_has_sparse_and_string_ids_datetimes_categories_and_missing_values():
    config = Config(**{k: v for k, v in SMOKE.items() if k != "out_dir"})
    log = own_log(config)
    assert log["user_id"].nunique() <= config.users and log["item_id"].nunique() <= config.items
    assert log["user_id"].max() > 1_000_000 and log["item_id"].max() < config.item_id_space
    assert log["request_id"].str.startswith("req-").all()
    assert log["timestamp"].dtype.kind == "M"
    assert pd.api.types.is_string_dtype(log["u_segment"])
    prices = log.drop_duplicates("item_id")["i_price"]
    assert prices.isna().any() and prices.notna().any()
    assert np.array_equal(log["position"].unique(), np.arange(10))


@pytest.mark.slow  # two fresh interpreters import torch and fit a simulator
def test_smoke_run_loads_and_fits_every_format(tmp_path):
    config = Config(**{**SMOKE, "out_dir": str(tmp_path)})
    table = main(config)
    assert list(table["format"]) == ["csv", "parquet"]
    assert (table[["n_users", "n_items"]].nunique() == 1).all()  # same log, same vocabularies
    assert (table["fit_s"] > 0).all() and (table["peak_mib"] > 0).all()
    assert json.loads((tmp_path / "config.json").read_text())["users"] == SMOKE["users"]
    assert "| fitted |" in (tmp_path / "summary.md").read_text()
