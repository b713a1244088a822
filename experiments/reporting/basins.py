"""Basins of learning: where the training runs of a sweep land (peace, war, or in between), and from which
starts.

Each training row of a sweep (one cell, one seed) is one run of learning; its final evaluation (the last row
of its ``drift.csv``, as ``results.csv`` holds it) says where that run landed:

- **peace**: war in at most :data:`PEACE_WAR_YEARS` of the years and an elimination in at most
  :data:`PEACE_ELIMINATIONS` of the episodes;
- **war**: war in at least :data:`WAR_WAR_YEARS` of the years, or an elimination in at least
  :data:`WAR_ELIMINATIONS` of the episodes (a war ended by an early elimination leaves few war years);
- **mixed**: anything between (wars in some episodes and not in others, or intermittent war).

A cell's basin is the share of its seeds in each outcome, with a 95% Wilson score interval (Wilson 1927;
the interval for a binomial share that stays inside [0, 1] and is not empty at 0 or 1 of n). Seeds are the
independent units: each is one run of learning from its own draw of the initial network and of the games.
With a ``train.start`` grid parameter the basins compare starts (random play against a cloned stance,
``sd_env.experiments.training.start``) in each cell of the other parameters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Outcomes, in the order tables and figures show them.
OUTCOMES = ("peace", "mixed", "war")
#: Peace: war in at most this share of the years (about one year in twenty) ...
PEACE_WAR_YEARS = 0.05
#: ... and an elimination in at most this share of the episodes.
PEACE_ELIMINATIONS = 0.05
#: War: war in at least this share of the years ...
WAR_WAR_YEARS = 0.5
#: ... or an elimination in at least this share of the episodes.
WAR_ELIMINATIONS = 0.5
#: The measures the outcome is read from (``sd_env.experiments.lab.measures``).
OUTCOME_MEASURES = ("war_years", "eliminations_per_episode")


def classify_outcome(war_years: float, eliminations_per_episode: float) -> str:
    """Where one run landed: ``peace``, ``war`` or ``mixed`` (see the module docstring).

    :param war_years: share of years with war in its final evaluation, in [0, 1].
    :param eliminations_per_episode: states eliminated per episode, >= 0.
    :returns: one of :data:`OUTCOMES`.
    """
    if war_years >= WAR_WAR_YEARS or eliminations_per_episode >= WAR_ELIMINATIONS:
        return "war"
    if war_years <= PEACE_WAR_YEARS and eliminations_per_episode <= PEACE_ELIMINATIONS:
        return "peace"
    return "mixed"


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a binomial share (95% by default); (nan, nan) for no trials.

    :param successes: count in [0, trials].
    :param trials: count >= 0.
    :param z: the normal quantile of the confidence (1.96 for 95%).
    """
    if trials <= 0:
        return math.nan, math.nan
    share = successes / trials
    denominator = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / denominator
    # At 0 of n (n of n) the bound is 0 (1) exactly; the formula gives it up to rounding.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def basin_table(table: pd.DataFrame, cells: Sequence[dict], parameters: Sequence[str]) -> pd.DataFrame:
    """Each cell's count and share of runs in each outcome, with 95% Wilson intervals.

    :param table: a sweep's results (columns ``cell``, ``seed`` and the :data:`OUTCOME_MEASURES`).
    :param cells: the sweep's cells (parameter values by cell number).
    :param parameters: the grid parameters, in the order of the table's columns.
    :returns: one row per cell: ``cell``, the parameters, ``runs``, then per outcome ``O_runs``, ``O_share``,
        ``O_low``, ``O_high``; cells without rows have 0 runs and NaN shares.
    """
    outcomes = [classify_outcome(float(row.war_years), float(row.eliminations_per_episode))
                for row in table.itertuples()]
    labelled = table.assign(outcome=outcomes)
    rows = []
    for index, cell in enumerate(cells):
        mine = labelled[labelled["cell"] == index]
        row = {"cell": index, **{name: cell.get(name) for name in parameters}, "runs": len(mine)}
        for outcome in OUTCOMES:
            count = int((mine["outcome"] == outcome).sum())
            low, high = wilson_interval(count, len(mine))
            row.update({f"{outcome}_runs": count, f"{outcome}_share": count / len(mine) if len(mine) else np.nan,
                        f"{outcome}_low": low, f"{outcome}_high": high})
        rows.append(row)
    return pd.DataFrame(rows)
