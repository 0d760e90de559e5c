"""``python -m rec_env.data info``: prints the statistics of a dataset."""

import json
import subprocess
import sys

import pandas as pd

from rec_env.data.__main__ import main


def test_info_on_a_log_file(tmp_path, capsys):
    path = tmp_path / "mine.csv"
    pd.DataFrame(
        {"user_id": [0, 0, 1], "request_id": [0, 0, 1], "position": [0, 1, 0],
         "item_id": [5, 6, 5], "click": [1, 0, 0]}
    ).to_csv(path, index=False)  # fmt: skip
    main(["info", str(path)])
    out = capsys.readouterr().out
    for expected in ["users                 2", "items                 2", "requests              2",
                     "slots (rows)          3", "click rate            0.3333"]:  # fmt: skip
        assert expected in out
    assert "          1  1\n          2  1" in out  # list-length histogram


def test_info_json_in_a_subprocess():
    done = subprocess.run(
        [sys.executable, "-m", "rec_env.data", "info", "synthetic", "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    stats = json.loads(done.stdout)
    assert stats["slots"] == stats["requests"] * 10 == 500_000
    assert abs(stats["click_rate"] - 0.15) < 0.01
    assert stats["click_rate_by_position"][0] > stats["click_rate_by_position"][-1]
