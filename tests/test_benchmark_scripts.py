"""Each benchmark script runs end to end at smoke size and writes the results layout."""

import subprocess
import sys

import pandas as pd
import pytest

LAYOUT = ("table.csv", "summary.md", "config.json", "command.txt")


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("benchmarks.data_throughput", ["--smoke"]),
    ],
)
def test_script_writes_results(tmp_path, module, args):
    subprocess.run([sys.executable, "-m", module, *args, "--out-dir", str(tmp_path)], check=True)
    for name in LAYOUT:
        assert (tmp_path / name).stat().st_size > 0
    table = pd.read_csv(tmp_path / "table.csv")
    assert len(table) >= 1 and table.notna().all().all()
