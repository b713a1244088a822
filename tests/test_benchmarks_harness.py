"""The benchmark harness (``benchmarks.harness``) and the benchmark commands, without measuring anything real."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.harness import Case, Row, Run, Runner, Target, markdown_table, measure, measure_cases, verdict

ROOT = Path(__file__).resolve().parents[1]


class FakeRunner(Runner):
    """Each step takes 1 ms of 'environment time', with two agents acting; records the sizes it was asked for."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def run(self, n: int) -> Run:
        self.calls.append(n)
        return Run(seconds=n * 1e-3, agent_steps=2 * n, env_steps=n)


def test_measure_warms_up_by_doubling_then_times_repeats_of_the_budget():
    runner = FakeRunner()
    runs = measure(runner, budget=0.1, repeats=3, warmup=0.01)
    # Warm-up: 1, 2, 4, 8 steps (15 ms >= 10 ms); then 3 repeats of 0.1 s / 1 ms = 100 steps.
    assert runner.calls == [1, 2, 4, 8, 100, 100, 100]
    assert len(runs) == 3 and all(run.env_steps == 100 for run in runs)
    # No warm-up asked: one step all the same, and at least one step per repeat.
    runner = FakeRunner()
    measure(runner, budget=0.0, repeats=2, warmup=0.0)
    assert runner.calls == [1, 1, 1]


def test_row_reports_median_range_and_agents_acting():
    row = Row("k", "API", "env", False, 4, 3,
              runs=[Run(1.0, 300, 100), Run(2.0, 300, 100), Run(0.5, 300, 100)])
    assert row.rates == [300.0, 150.0, 600.0]
    assert row.rate == 300.0  # the median, not the mean
    assert row.env_rate == 100.0
    assert row.acting_per_env_step == 3.0
    assert row.label == "env (peer)"
    assert math.isnan(Row("k", "API", "env", True, 1, 2).rate)


def test_measure_cases_skips_rows_with_a_status_and_says_why():
    logged = []
    measured = Case(Row("a", "API", "env", True, 1, 2), FakeRunner)
    skipped = Case(Row("b", "API", "peer", False, 1, 2, status="not installed"), FakeRunner)
    rows = measure_cases([measured, skipped], budget=0.01, repeats=2, warmup=0.0, log=logged.append)
    assert [row.key for row in rows] == ["a", "b"]
    assert len(rows[0].runs) == 2 and rows[1].runs == []
    assert "not installed" in logged[1]


@pytest.mark.parametrize(
    ("value", "threshold", "at_most", "expected"),
    [(5.0, 5.0, False, "PASS"), (4.9, 5.0, False, "FAIL"), (0.1, 0.1, True, "PASS"), (0.11, 0.1, True, "FAIL"),
     (math.nan, 5.0, False, "N/A"), (math.nan, 0.1, True, "N/A")],
)
def test_verdict_follows_from_the_value_alone(value, threshold, at_most, expected):
    assert verdict(value, threshold, at_most) == expected
    target = Target("t", threshold, "x", at_most=at_most, value=value)
    assert target.result == expected
    assert target.as_dict()["result"] == expected


def test_target_requirement_text():
    assert Target("core", 1e6, "1,000,000").required == ">= 1,000,000"
    assert Target("share", 0.1, "10%", at_most=True).required == "<= 10%"
    assert Target("core", 1e6, "1,000,000").measured == "not measured"


def test_markdown_table_is_a_padded_pipe_table_with_text_cells_kept():
    frame = pd.DataFrame([["sd-env", "1", "1,000"], ["peer", "16384", "-"]], columns=["environment", "envs", "rate"])
    assert markdown_table(frame, "llr").splitlines() == [
        "| environment   | envs   |   rate |",
        "|:--------------|:-------|-------:|",
        "| sd-env        | 1      |  1,000 |",
        "| peer          | 16384  |      - |",
    ]


@pytest.mark.parametrize("command", [["benchmarks/peers.py"], ["-m", "benchmarks.peers"],
                                     ["benchmarks/vec_env_speed.py"], ["-m", "benchmarks.vec_env_speed"]])
def test_the_benchmarks_run_as_scripts_and_as_modules(command):
    completed = subprocess.run([sys.executable, *command, "--help"], cwd=ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage:")


def test_markdown_without_markers_is_refused_before_measuring(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("hand-written notes\n")
    completed = subprocess.run([sys.executable, "benchmarks/peers.py", "--smoke", "--markdown", str(page)],
                               cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert "lacks the marker lines <!-- benchmarks/peers.py:start -->" in completed.stderr
    assert "measuring" not in completed.stderr
    assert page.read_text() == "hand-written notes\n"
