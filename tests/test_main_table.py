"""The main table: paired tests against the student alone, the gap closed, confidence intervals
of the online-only datasets, the script at smoke size with both AUCs and the online score of
every method."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from benchmarks.harness.paired import compare, gap_closed, paired_test
from benchmarks.harness.report import t_half_width
from benchmarks.harness.sections import summary_tables
from benchmarks.main_table import Config, main, parse_args
from rec_env.checks import InputError


def test_paired_test_by_hand():
    baseline = np.array([0.70, 0.70, 0.71, 0.69, 0.72])
    method = baseline + np.array([0.01, 0.02, 0.03, 0.02, 0.02])
    result = paired_test(method, baseline)
    # mean 0.02, sd sqrt(0.0002 / 4), t = 0.02 / (sd / sqrt 5) = 6.325 with 4 degrees of freedom
    assert result["diff"] == pytest.approx(0.02)
    assert result["p_ttest"] == pytest.approx(2 * stats.t.sf(6.3246, 4), rel=1e-3)
    assert result["p_wilcoxon"] == pytest.approx(0.0625) and result["verdict"] == "beats"
    assert paired_test(baseline, method)["verdict"] == "loses"
    assert paired_test(method[:2], baseline[:2])["verdict"] == "untested"  # 1 degree of freedom
    same = paired_test(baseline, baseline)
    assert same["verdict"] == "on par" and math.isnan(same["p_ttest"])
    with pytest.raises(ValueError, match="differ in shape"):
        paired_test(method, baseline[:2])


def test_gap_closed():
    assert gap_closed(0.75, 0.70, 0.80) == pytest.approx(0.5)
    assert gap_closed(0.65, 0.70, 0.80) == pytest.approx(-0.5)
    assert math.isnan(gap_closed(0.75, 0.80, 0.70))


def test_compare_pairs_rows_by_seed():
    table = pd.DataFrame(
        {
            "dataset": ["d"] * 6,
            "method": ["student", "teacher", "x"] * 2,
            "seed": [1, 1, 1, 0, 0, 0],
            "auc": [0.70, 0.81, 0.72, 0.60, 0.69, 0.64],
        }
    )
    result = compare(table, "auc").set_index("method")
    assert result.loc["x", "diff"] == pytest.approx(0.03)  # (0.02 + 0.04) / 2, paired by seed
    assert result.loc["x", "gap_closed"] == pytest.approx(0.3)
    assert math.isnan(result.loc["student", "diff"])


def test_t_half_width_by_hand():
    # mean 0.012, sd 0.002, t_{0.975, 2} = 4.3027: 4.3027 * 0.002 / sqrt 3
    assert t_half_width(np.array([0.010, 0.012, 0.014])) == pytest.approx(0.0049683, rel=1e-4)
    assert math.isnan(t_half_width(np.array([0.01])))


def test_online_only_datasets_get_intervals_and_no_auc():
    clicks = {"student": [0.010, 0.012, 0.014], "teacher": [0.011, 0.012, 0.016], "mf": [0.02] * 3}
    rows = [
        {"dataset": d, "method": m, "seed": s, "auc": 0.6 + s / 100, "auc_items_only": 0.6}
        | {"expected_clicks_per_list": v + (d == "syn"), "expected_clicks_per_list_ci95": 1e-4}
        for d in ("obd", "syn")
        for m, values in clicks.items()
        for s, v in enumerate(values)
    ]
    text = summary_tables(pd.DataFrame(rows), online_only=("obd",))
    online = text[text.index("## obd, 95% CIs: expected_clicks_per_list") :]
    assert "| obd | student | 0.01200 [0.00703, 0.01697] | 0.00010 |" in online
    assert "| obd | teacher | 0.01300 [0.00643, 0.01957] | 0.00010 | +0.00100 |" in online
    assert "## obd, 95% CIs: expected_clicks_per_list: teacher vs logistic MF" in online
    offline = text[: text.index("## obd")]
    assert "## auc\n" in offline and "| syn | student |" in offline and "obd" not in offline


def test_help_shows_percent_signs(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--help"])
    assert exit_info.value.code == 0 and "95% confidence" in capsys.readouterr().out


def test_smoke_run_scores_every_method(tmp_path):
    # supervised trains through the teacher's code path; left out to keep the default run short
    methods = [m for m in Config().methods if m != "supervised"]
    argv = ["--smoke", "--methods", *methods]
    argv += ["--out-dir", str(tmp_path / "out"), "--runs-dir", str(tmp_path / "runs")]
    table = main(parse_args(argv))
    config = parse_args(argv)
    assert len(table) == len(config.methods) * len(config.seeds)
    metrics = ["auc", "auc_items_only", "gauc", "ndcg_at_10", "expected_clicks_per_list"]
    assert table[[*metrics, "expected_clicks_per_list_ci95"]].notna().all().all()
    params = table.groupby("method")["params"].first()
    fitted = ["mf", "popularity"]  # rankers without a network
    assert params.drop(fitted).gt(0).all() and params[fitted].isna().all()
    distilled = params.drop(["teacher", *fitted])
    assert (distilled < 0.5 * params["teacher"]).all()  # every other method serves a student
    rankers = table[table["method"].isin(fitted)]
    assert (rankers["auc_items_only"] == rankers["auc"]).all()  # they never read the prefix
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "## auc_items_only" in summary and "gap closed" in summary
    assert "## expected_clicks_per_list: teacher vs logistic MF" in summary


def test_a_stopped_table_resumes_from_its_finished_runs(tmp_path, capsys):
    argv = ["--smoke", "--seeds", "0", "--out-dir", str(tmp_path / "out")]
    argv += ["--runs-dir", str(tmp_path / "runs"), "--reuse"]
    first = main(parse_args([*argv, "--methods", "popularity"]))
    table = main(parse_args([*argv, "--methods", "popularity", "mf"]))
    assert "1 of 2 runs finished before, 1 to train" in capsys.readouterr().out
    assert len(list((tmp_path / "runs").iterdir())) == 2  # popularity was not fitted again
    resumed = table[table["method"] == "popularity"].reset_index(drop=True)
    pd.testing.assert_frame_equal(resumed, first.reset_index(drop=True))


@pytest.mark.parametrize("field", ["steps", "eval_every", "eval_lists", "jobs"])
def test_a_count_below_one_is_refused_naming_it(field):
    with pytest.raises(InputError, match=rf"Config\.{field} must be >= 1, got 0"):
        Config(**{field: 0})
