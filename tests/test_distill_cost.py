"""The exploration cost benchmark at smoke size: both step times, their ratio, the memory."""

import pytest

from benchmarks.distill_cost import Config, main, parse_args
from rec_env.checks import InputError


@pytest.mark.parametrize("field", ["batch_size", "pool_size", "batches", "catalogue_items"])
def test_config_refuses_a_count_below_one_naming_the_field(field):
    with pytest.raises(InputError, match=f"Config.{field}"):
        Config(**{field: 0})


def test_smoke_run_measures_time_and_memory(tmp_path):
    table = main(parse_args(["--smoke", "--out-dir", str(tmp_path)])).set_index("measure")
    times = table.loc["step_s"].set_index("method")["value"]
    assert set(times.index) == {"teacher + student DDQN", "drl-rec"} and (times > 0).all()
    ratio = table.loc["step_ratio", "value"]
    assert ratio == pytest.approx(times["drl-rec"] / times["teacher + student DDQN"])
    spread = table.loc[["step_ratio_p10", "step_ratio_p90"], "value"]
    assert 0 < spread.iloc[0] <= spread.iloc[1]
    assert table.loc["explorer_extra_peak_mib", "value"] >= 0
    assert 0 < table.loc["pool_distinct_items", "value"] <= 50
    assert (tmp_path / "summary.md").read_text().startswith("# Cost of DRL-Rec")
