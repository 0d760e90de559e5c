"""benchmarks.scale and its report: config checks, growth ratios, (slow) the script end to end."""

import subprocess
import sys

import pandas as pd
import pytest

from benchmarks.harness.scale_report import growth
from benchmarks.scale import STAGES, Config
from rec_env.checks import InputError

LAYOUT = ("table.csv", "summary.md", "config.json", "command.txt", "growth.png")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slots": 0}, "Config.slots must be >= 1"),
        ({"chunk_rows": -5}, "Config.chunk_rows must be >= 1"),
        ({"valid_fraction": 1.5}, "Config.valid_fraction"),
        ({"env_seconds": 0.0}, "Config.env_seconds"),
        ({"n_items": (500,)}, "Config.n_items"),
        ({"n_items": ()}, "Config.n_items"),
        ({"group_rows": 100}, "Config.group_rows"),
        ({"fit_epochs": "2"}, "Config.fit_epochs must be an int"),
    ],
)
def test_bad_config_names_the_field(change, message):
    with pytest.raises(InputError, match=message):
        Config(**change)


def test_growth_is_the_largest_catalogue_over_the_smallest():
    rows = [
        {"n_items": n, "stage": stage, "seconds_per_unit": s, "peak_rss_mib": m, "slots_per_s": r}
        for stage in STAGES
        for n, s, m, r in ((10, 1.0, 100.0, 50.0), (1000, 3.0, 150.0, 10.0), (100, 2.0, 1.0, 1.0))
    ]
    table = growth(pd.DataFrame(rows).sample(frac=1.0, random_state=0))
    assert table["stage"].tolist() == list(STAGES)
    assert (table["seconds_per_unit_ratio"] == 3.0).all()
    assert (table["peak_rss_mib_ratio"] == 1.5).all() and (table["slots_per_s_ratio"] == 0.2).all()


@pytest.mark.slow  # 8 worker processes, each importing torch: about 30 s on 2 cores
def test_smoke_run_writes_results(tmp_path):
    out, data = tmp_path / "out", tmp_path / "data"
    command = [sys.executable, "-m", "benchmarks.scale", "--smoke"]
    subprocess.run([*command, "--out-dir", str(out), "--data-dir", str(data)], check=True)
    for name in LAYOUT:
        assert (out / name).stat().st_size > 0
    table = pd.read_csv(out / "table.csv")
    assert sorted(table["stage"].unique()) == sorted(STAGES) and len(table) == 2 * len(STAGES)
    assert (table[["seconds_per_unit", "slots_per_s", "peak_rss_mib"]] > 0).all().all()
    assert "Memory limit" in (out / "summary.md").read_text()
