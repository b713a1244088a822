"""Basins of learning: each run's outcome from its final evaluation, and the shares of a cell's seeds with
Wilson intervals (``sd_env.experiments.reporting.basins``)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sd_env.experiments.reporting.basins import OUTCOMES, basin_table, classify_outcome, wilson_interval


@pytest.mark.parametrize(
    "war_years, eliminations, outcome",
    [
        (0.0, 0.0, "peace"),
        (0.05, 0.05, "peace"),
        (0.06, 0.0, "mixed"),
        (0.0, 0.06, "mixed"),
        (0.49, 0.49, "mixed"),
        (0.5, 0.0, "war"),
        # A war ended by an early elimination leaves few years of war: it is still war.
        (0.1, 1.0, "war"),
    ],
)
def test_a_run_lands_in_peace_war_or_between_by_its_declared_thresholds(war_years, eliminations, outcome):
    assert classify_outcome(war_years, eliminations) == outcome


def test_wilson_intervals_match_published_values_and_stay_inside_zero_one():
    # Values from Newcombe (1998), Table I (method 3, Wilson score without continuity correction): 81/263.
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    # 0 of 10 and 10 of 10 are not empty intervals, and stay in [0, 1].
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    assert wilson_interval(10, 10) == (pytest.approx(0.7225, abs=1e-4), 1.0)
    assert all(math.isnan(bound) for bound in wilson_interval(0, 0))


def test_the_basin_table_counts_each_cells_seeds_by_outcome():
    table = pd.DataFrame({
        "cell": [0, 0, 0, 1, 1],
        "seed": [0, 1, 2, 0, 1],
        "war_years": [0.0, 0.9, 0.2, 0.0, 0.01],
        "eliminations_per_episode": [0.0, 1.0, 0.0, 0.0, 0.0],
    })
    cells = [{"train.start": "random"}, {"train.start": "grim"}, {"train.start": "dove"}]
    basins = basin_table(table, cells, ["train.start"])
    assert basins["runs"].tolist() == [3, 2, 0]
    assert basins.loc[0, ["peace_runs", "mixed_runs", "war_runs"]].tolist() == [1, 1, 1]
    assert basins.loc[1, "peace_share"] == 1.0 and basins.loc[1, "peace_low"] == pytest.approx(0.3424, abs=1e-4)
    assert all(math.isnan(basins.loc[2, f"{outcome}_share"]) for outcome in OUTCOMES)
    assert basins["train.start"].tolist() == ["random", "grim", "dove"]
