"""Arms-race measures on yearly series (sd_env.experiments.lab.series), the history modules and ``sd-env history``.

Known answers on constructed series first; the check against the historical
record (COW data in ../shared/data, never shipped with the project) last,
skipped where the data are absent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sd_env.experiments.history import blocs, coding, data, scoring
from sd_env.experiments.history import report as history_report
from sd_env.experiments.lab import series
from sd_env.errors import SdEnvError
from sd_env.experiments.cli import main

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def grown(rates: list[float], start: float = 100.0) -> np.ndarray:
    """Levels that start at ``start`` and grow by each rate in turn."""
    return start * np.cumprod([1.0, *[1.0 + rate for rate in rates]])


# ---------------------------------------------------------------------------------------------------------------
# mutual_buildups: the GRH coding on two series
# ---------------------------------------------------------------------------------------------------------------

def test_three_years_of_eight_percent_is_a_buildup_and_two_is_not():
    three = grown([0.08, 0.08, 0.08])
    assert series.mutual_buildups(three, three) == [(1, 3)]
    two = grown([0.0, 0.08, 0.08, 0.0])
    assert series.mutual_buildups(two, two) == []
    assert series.mutual_buildups(two, two, years=2) == [(2, 3)]


def test_seven_point_nine_percent_is_not_arming():
    slow = grown([0.079] * 5)
    assert series.mutual_buildups(slow, slow) == []
    assert series.mutual_buildups(slow, slow, growth=0.079) == [(1, 5)]


def test_a_one_sided_buildup_is_not_mutual():
    assert series.mutual_buildups(grown([0.2] * 5), grown([0.0] * 5)) == []
    # Both must grow in the same years: alternating years are no mutual run.
    x, y = grown([0.1, 0.0, 0.1, 0.0, 0.1, 0.0]), grown([0.0, 0.1, 0.0, 0.1, 0.0, 0.1])
    assert series.mutual_buildups(x, y, years=1) == []


def test_runs_are_maximal_and_each_is_reported():
    x = grown([0.1, 0.1, 0.1, 0.1, 0.0, 0.1, 0.1, 0.1, 0.0])
    assert series.mutual_buildups(x, x) == [(1, 4), (6, 8)]


def test_nan_breaks_a_run():
    x = grown([0.1] * 6)
    x[3] = np.nan  # growth into year 3 and out of it is unknown
    assert series.mutual_buildups(x, grown([0.1] * 6)) == []
    assert series.mutual_buildups(x, grown([0.1] * 6), years=2) == [(1, 2), (5, 6)]


@pytest.mark.parametrize("bad_level", [0.0, -5.0])
def test_a_zero_or_negative_level_leaves_growth_undefined_and_breaks_a_run(bad_level):
    x = grown([0.1] * 6)
    x[3] = bad_level
    assert np.isnan(series.growth_rates(x)[[3, 4]]).all()
    assert series.mutual_buildups(x, grown([0.1] * 6)) == []


def test_growth_rates_of_known_levels():
    rates = series.growth_rates([100.0, 110.0, 99.0, np.nan, 50.0])
    assert np.isnan(rates[0]) and np.isnan(rates[3]) and np.isnan(rates[4])
    assert rates[1] == pytest.approx(0.1) and rates[2] == pytest.approx(-0.1)


@pytest.mark.parametrize("x, y, kwargs, message", [
    ([1.0, 2.0, 3.0], [1.0, 2.0], {}, "same length"),
    ([[1.0, 2.0]], [[1.0, 2.0]], {}, "1-D"),
    ([1.0, 2.0], [1.0, 2.0], {"growth": -1.0}, "growth must be"),
    ([1.0, 2.0], [1.0, 2.0], {"growth": float("nan")}, "growth must be"),
    ([1.0, 2.0], [1.0, 2.0], {"years": 0}, "years must be"),
    ([1.0, 2.0], [1.0, 2.0], {"years": 2.5}, "years must be"),
])
def test_mutual_buildups_rejects_bad_input_in_one_line(x, y, kwargs, message):
    with pytest.raises(ValueError, match=message) as caught:
        series.mutual_buildups(x, y, **kwargs)
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------------------------------------------------------
# Richardson's model
# ---------------------------------------------------------------------------------------------------------------

def simulate_richardson(k, a, g, l, b, h, years=400, noise=1.0, seed=0):  # noqa: E741
    rng = np.random.default_rng(seed)
    x, y = np.empty(years), np.empty(years)
    x[0], y[0] = 10.0, 30.0
    for t in range(years - 1):
        x[t + 1] = x[t] + k * y[t] - a * x[t] + g + noise * rng.normal()
        y[t + 1] = y[t] + l * x[t] - b * y[t] + h + noise * rng.normal()
    return x, y


def test_richardson_fit_recovers_a_constructed_system():
    truth = {"k": 0.2, "a": 0.4, "g": 5.0, "l": 0.3, "b": 0.5, "h": 3.0}
    x, y = simulate_richardson(**truth)
    fit = series.richardson_fit(x, y)
    assert fit.n_years == len(x) - 1
    for name, value in truth.items():
        estimate, error = getattr(fit, name), getattr(fit, f"{name}_se")
        assert 0 < error < 0.5 * abs(value)
        assert abs(estimate - value) < 4 * error, (name, estimate, value, error)
    assert fit.stable  # a*b = 0.2 > k*l = 0.06
    x_star, y_star = fit.equilibrium
    assert x_star == pytest.approx((0.5 * 5 + 0.2 * 3) / 0.14, rel=0.1)
    record = fit.to_dict()
    assert record["stable"] is True and set(truth) <= set(record)


def test_richardson_stability_is_a_b_against_k_l():
    values = dict(g=0.0, h=0.0, k_se=0.0, a_se=0.0, g_se=0.0, l_se=0.0, b_se=0.0, h_se=0.0, n_years=10)
    assert not series.RichardsonFit(k=0.9, a=0.1, l=0.9, b=0.1, **values).stable
    assert series.RichardsonFit(k=0.1, a=0.9, l=0.1, b=0.9, **values).stable
    # Negative fatigue: a*b > k*l, yet the equilibrium repels (trace -(a+b) > 0).
    assert not series.RichardsonFit(k=0.1, a=-0.9, l=0.1, b=-0.9, **values).stable


def test_richardson_fit_drops_years_with_nan_and_needs_four_changes():
    x, y = simulate_richardson(0.2, 0.4, 5.0, 0.3, 0.5, 3.0, years=30)
    x[10] = np.nan
    assert series.richardson_fit(x, y).n_years == 29 - 2
    with pytest.raises(ValueError, match="at least 4 yearly changes"):
        series.richardson_fit(x[:4], y[:4])
    with pytest.raises(ValueError, match="same length"):
        series.richardson_fit(x, y[:-1])


def test_richardson_combined_fit_recovers_rate_and_zero_point():
    rate, zero_point = 0.73, 194.0
    levels = [250.0]
    for _ in range(6):  # s[t+1] - s[t] = rate * ((s[t] + s[t+1]) / 2 - zero_point), solved for s[t+1]
        levels.append((levels[-1] * (1 + rate / 2) - rate * zero_point) / (1 - rate / 2))
    fit = series.richardson_combined_fit(levels)
    assert fit.rate == pytest.approx(rate) and fit.zero_point == pytest.approx(zero_point)
    assert fit.r_squared == pytest.approx(1.0) and fit.n_years == 6
    noisy = np.array(levels) + np.random.default_rng(1).normal(0, 0.5, len(levels))
    assert series.richardson_combined_fit(noisy).zero_point == pytest.approx(zero_point, rel=0.05)
    with pytest.raises(ValueError, match="at least 3 yearly changes"):
        series.richardson_combined_fit(levels[:3])


def test_reaction_test_sees_reaction_and_refuses_what_it_cannot_fit():
    x, y = simulate_richardson(0.2, 0.4, 5.0, 0.3, 0.5, 3.0, years=60)
    assert series.reaction_test(x, y) is True
    x, y = simulate_richardson(-0.2, 0.4, 50.0, -0.3, 0.5, 30.0, years=60)
    assert series.reaction_test(x, y) is False
    assert series.reaction_test([1.0, 2.0, np.nan, 4.0], [1.0, 2.0, 3.0, 4.0]) is None


# ---------------------------------------------------------------------------------------------------------------
# The other interdependence filters on constructed series: system, war, response
# ---------------------------------------------------------------------------------------------------------------

def test_outgrows_system_needs_the_threshold_and_more_than_the_system():
    rates = np.array([np.nan, 0.10, 0.10, 0.10, 0.05, 0.10])
    system = np.array([0.0, 0.05, 0.12, np.nan, 0.00, 0.10])
    # year 1: 10% > 5%; year 2: below the system; year 3: no system growth known; year 4: under 8%; year 5: equal
    assert series.outgrows_system(rates, system).tolist() == [False, True, False, True, False, False]
    with pytest.raises(ValueError, match="same years"):
        series.outgrows_system(rates, system[:3])


def test_buildups_beyond_system_drop_a_common_shock():
    x, y = grown([0.10] * 5), grown([0.15] * 5)
    calm = np.array([np.nan, 0.02, 0.02, 0.02, 0.02, 0.02])
    assert series.mutual_buildups(x, y) == series.buildups_beyond_system(x, y, calm) == [(1, 5)]
    # Every state grew 12% in year 3 (inflation, a world war): x's 10% is no evidence of a race that year.
    shock = calm.copy()
    shock[3] = 0.12
    assert series.buildups_beyond_system(x, y, shock) == []
    assert series.buildups_beyond_system(x, y, shock, years=2) == [(1, 2), (4, 5)]
    assert series.buildups_beyond_system(x, y, np.full(6, np.nan)) == [(1, 5)]  # nothing known of the system


def nmc_frame(levels: dict[int, list[float]], first_year: int = 1900, column: str = "milex") -> pd.DataFrame:
    """An NMC table (as load_nmc returns) of states' yearly levels of ``column`` (the other series all NaN)."""
    other = "milper" if column == "milex" else "milex"
    return pd.DataFrame([{"ccode": code, "year": first_year + i, column: float(value), other: np.nan,
                          "stateabb": f"S{code}"} for code, values in levels.items() for i, value in enumerate(values)])


def test_system_growth_is_the_median_state_growth():
    nmc = nmc_frame({1: [100, 110, 121], 2: [100, 100, 50], 3: [100, 130, 0], 4: [np.nan, 100, 200]})
    years = np.arange(1900, 1903)
    # 1901: growth 0.1, 0.0, 0.3 (state 4 has no level in 1900); 1902: 0.1, -0.5, 1.0 (state 3 falls to 0).
    assert np.isnan(data.system_growth(nmc, "milex", years)[0])
    assert data.system_growth(nmc, "milex", years)[1:].tolist() == pytest.approx([0.1, 0.1])
    assert data.system_growth(nmc, "milex", np.array([1902, 1950]))[0] == pytest.approx(0.1)
    assert np.isnan(data.system_growth(nmc, "milex", np.array([1902, 1950]))[1])
    across = nmc_frame({1: [100, 110, 121], 2: [100, 200, 400]}, first_year=1912)
    assert np.isnan(data.system_growth(across, "milex", np.arange(1912, 1915))[2])  # pounds to dollars
    assert data.system_growth(across, "milex", np.arange(1912, 1915))[1] == pytest.approx(0.55)
    with pytest.raises(ValueError, match="column must be"):
        data.system_growth(nmc, "cinc")


def test_mobilisation_years_are_wars_without_the_rival():
    # State 1 fights state 9 in 1901-1902; state 2 fights state 1 (its rival) and 9 in 1903.
    opponents = {(1, 1901): {9}, (9, 1901): {1}, (1, 1902): {9}, (9, 1902): {1},
                 (2, 1903): {1, 9}, (1, 1903): {2}, (9, 1903): {2}}
    assert coding.mobilisation_years(1, 2, 1900, 1904, opponents) == [1901, 1902]
    assert coding.mobilisation_years(2, 1, 1900, 1904, opponents) == [1901, 1902]  # either side
    assert coding.war_test(1, 2, 1900, 1904, opponents) is True   # 2 of 5 years
    assert coding.war_test(1, 2, 1901, 1904, opponents) is True   # 2 of 4: not more than half
    assert coding.war_test(1, 2, 1901, 1903, opponents) is False  # 2 of 3
    # 1903: states 1 and 2 fight each other (2 also fights 9): a war year against the rival is no mobilisation...
    assert coding.war_test(1, 2, 1903, 1903, opponents) is True
    # ...but for the dyad 1-3 state 2 is a third party.
    assert coding.mobilisation_years(1, 3, 1903, 1903, opponents) == [1903]
    wars = pd.DataFrame({"warnum": [7, 7], "ccode1": [1, 2], "ccode2": [9, 9], "year": [1901, 1901]})
    assert data.war_opponents(wars) == {(1, 1901): {9}, (9, 1901): {1, 2}, (2, 1901): {9}}


def simulate_responses(on_rival: float, years: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Growth beyond the system of two sides, each answering the other's of the year before by ``on_rival``."""
    rng = np.random.default_rng(seed)
    dx, dy = np.zeros(years), np.zeros(years)
    for t in range(1, years):
        dx[t] = 0.2 * dx[t - 1] + on_rival * dy[t - 1] + rng.normal(0, 0.05)
        dy[t] = 0.2 * dy[t - 1] + on_rival * dx[t - 1] + rng.normal(0, 0.05)
    return dx, dy


def test_response_test_sees_growth_that_answers_the_rival():
    assert series.response_test(*simulate_responses(0.5)) is True
    assert series.response_test(*simulate_responses(-0.5)) is False
    dx, dy = simulate_responses(0.5)
    dy = np.where(np.arange(dy.size) % 2 == 0, np.nan, dy)  # no two consecutive years: nothing to fit
    assert series.response_test(dx, dy) is None
    assert series.response_test(*(values[:8] for values in simulate_responses(0.5))) is None  # 7 usable years
    assert series.response_test(np.zeros(20), np.arange(20.0)) is None  # own growth never varies
    rates, system = np.array([np.nan, 0.1, 0.2]), np.array([np.nan, 0.1, 0.0])
    assert np.isnan(series.growth_beyond_system(rates, system)[0])
    assert series.growth_beyond_system(rates, system)[1:].tolist() == pytest.approx([0.0, np.log(1.2)])


def test_split_races_is_seeded_disjoint_and_covers_the_list():
    ids = list(range(1, 72, 2))
    selection, check = scoring.split_races(ids)
    assert sorted(selection + check) == ids and len(selection) == len(check) == 18
    assert scoring.split_races(reversed(ids)) == (selection, check)  # the order of the list does not matter
    assert scoring.split_races(ids, seed=scoring.SPLIT_SEED + 1) != (selection, check)
    assert [len(half) for half in scoring.split_races([5, 1, 3])] == [2, 1]


def test_filter_succeeds_is_higher_precision_keeping_nine_in_ten_races():
    plain = {"recall": 1.0, "precision": 0.2}
    assert scoring.filter_succeeds({"recall": 0.9, "precision": 0.21}, plain)
    assert not scoring.filter_succeeds({"recall": 0.89, "precision": 0.5}, plain)
    assert not scoring.filter_succeeds({"recall": 1.0, "precision": 0.2}, plain)
    assert not scoring.filter_succeeds({"recall": 1.0, "precision": None}, plain)


# ---------------------------------------------------------------------------------------------------------------
# Synthetic COW files: loaders, the coding of rivalry dyads, scoring, the command
# ---------------------------------------------------------------------------------------------------------------

YEARS = np.arange(1900, 1931)


def flat_with_growth(growth_years: dict[int, float], start: float = 100.0) -> np.ndarray:
    """A level that stays flat except in ``growth_years`` (year: rate)."""
    return start * np.cumprod([1.0 + growth_years.get(int(year), 0.0) for year in YEARS])


@pytest.fixture
def cow_files(tmp_path: Path) -> dict[str, Path]:
    """NMC, rivalries, races and wars for three states (2 AAA, 20 BBB, 40 CCC), 1900-1930.

    AAA and BBB: a milex buildup 1905-1907; milex growth 1912-1913 and 1915-1916 broken by the change of
    currency in 1914, bridged by milper growth in 1914 (a buildup only under the "either" rule); CCC arms
    1920-1925 alone.
    """
    levels = {
        (2, "milex"): flat_with_growth({1905: 0.1, 1906: 0.1, 1907: 0.1, 1912: 0.1, 1913: 0.1, 1915: 0.1, 1916: 0.1,
                                        1914: 5.0}),
        (20, "milex"): flat_with_growth({1905: 0.2, 1906: 0.2, 1907: 0.2, 1912: 0.1, 1913: 0.1, 1915: 0.1, 1916: 0.1,
                                         1914: -0.5}),
        (2, "milper"): flat_with_growth({1914: 0.5}),
        (20, "milper"): flat_with_growth({1914: 0.3}),
        (40, "milex"): flat_with_growth({year: 0.1 for year in range(1920, 1926)}),
        (40, "milper"): flat_with_growth({}),
    }
    rows = [{"stateabb": abb, "ccode": code, "year": int(year), "milex": round(levels[(code, "milex")][i]),
             "milper": round(levels[(code, "milper")][i]), "irst": -9, "pec": -9, "tpop": 1.0, "upop": 1.0,
             "cinc": 0.1, "version": 7}
            for code, abb in ((2, "AAA"), (20, "BBB"), (40, "CCC")) for i, year in enumerate(YEARS)]
    nmc = pd.DataFrame(rows)
    nmc.loc[(nmc.ccode == 40) & (nmc.year == 1900), "milex"] = -9
    paths = {name: tmp_path / f"{name}.csv" for name in ("nmc", "rivalries", "races", "wars")}
    nmc.to_csv(paths["nmc"], index=False)
    pd.DataFrame([
        {"rivalryno": 1, "rivalryname": "AAA-BBB", "ccode1": 20, "ccode2": 2, "styear": 1906, "endyear": 1930},
        {"rivalryno": 2, "rivalryname": "AAA-CCC", "ccode1": 2, "ccode2": 40, "styear": 1900, "endyear": 1930},
        {"rivalryno": 3, "rivalryname": "Venice-AAA", "ccode1": 2, "ccode2": 324, "styear": 1500, "endyear": 1700},
    ]).to_csv(paths["rivalries"], index=False)
    pd.DataFrame([
        {"race_id": 1, "ccode1": 2, "ccode2": 20, "styear": 1903, "endyear": 1904},
        {"race_id": 3, "ccode1": 2, "ccode2": 40, "styear": 1921, "endyear": 1923},
    ]).to_csv(paths["races"], index=False)
    pd.DataFrame([
        {"warnum": 1, "ccode1": 2, "ccode2": 20, "year": 1910, "cowinteronset": 1},
        {"warnum": 1, "ccode1": 20, "ccode2": 2, "year": 1910, "cowinteronset": 1},
        {"warnum": 1, "ccode1": 2, "ccode2": 20, "year": 1911, "cowinteronset": 0},
        {"warnum": 2, "ccode1": 2, "ccode2": 40, "year": 1928, "cowinteronset": -9},
    ]).to_csv(paths["wars"], index=False)
    return paths


def test_loaders_read_the_standard_formats(cow_files):
    nmc = data.load_nmc(cow_files["nmc"])
    assert list(nmc.columns) == ["ccode", "year", "milex", "milper", "stateabb"]
    assert np.isnan(nmc.loc[(nmc.ccode == 40) & (nmc.year == 1900), "milex"]).all()  # -9 is missing
    rivalries = data.load_rivalries(cow_files["rivalries"], nmc)  # Venice (324) predates the NMC years: kept
    assert (rivalries.ccode1 < rivalries.ccode2).all() and len(rivalries) == 3
    races = data.load_races(cow_files["races"], nmc)
    assert races.race_id.tolist() == [1, 3]
    wars = data.load_wars(cow_files["wars"], nmc)
    assert wars.to_dict("records") == [{"ccode1": 2, "ccode2": 20, "year": 1910}]  # one onset, unordered, -9 dropped


def test_rivalries_recode_north_yemen_to_cow(tmp_path):
    path = tmp_path / "rivalries.csv"
    pd.DataFrame([
        {"ccode1": 679, "ccode2": 680, "styear": 1967, "endyear": 1990},
        {"ccode1": 670, "ccode2": 679, "styear": 1990, "endyear": 2000},
    ]).to_csv(path, index=False)
    rivalries = data.load_rivalries(path)
    assert rivalries[["ccode1", "ccode2"]].values.tolist() == [[678, 680], [670, 679]]


def one_line_error(call) -> str:
    with pytest.raises(ValueError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_loaders_say_what_is_wrong_in_one_line(cow_files, tmp_path):
    nmc = data.load_nmc(cow_files["nmc"])
    message = one_line_error(lambda: data.load_nmc(tmp_path / "absent.csv"))
    assert "absent.csv" in message and "no such file" in message and "NMC" in message
    message = one_line_error(lambda: data.load_rivalries(tmp_path))
    assert "folder" in message
    pd.DataFrame({"ccode1": [2], "ccode2": [20], "styear": [1900]}).to_csv(tmp_path / "short.csv", index=False)
    message = one_line_error(lambda: data.load_rivalries(tmp_path / "short.csv"))
    assert "short.csv" in message and "missing column endyear" in message
    pd.DataFrame({"ccode1": [2], "ccode2": ["France"], "styear": [1900], "endyear": [1901]}).to_csv(
        tmp_path / "names.csv", index=False)
    message = one_line_error(lambda: data.load_races(tmp_path / "names.csv"))
    assert "names.csv" in message and "ccode2" in message and "'France'" in message
    (tmp_path / "binary.csv").write_bytes(b"\x00\xff\xfe\x00garbage\x00")
    assert "binary.csv" in one_line_error(lambda: data.load_nmc(tmp_path / "binary.csv"))
    (tmp_path / "empty.csv").write_text("")
    assert "not a CSV table" in one_line_error(lambda: data.load_wars(tmp_path / "empty.csv"))
    pd.DataFrame({"ccode1": [2], "ccode2": [999], "styear": [1900], "endyear": [1901]}).to_csv(
        tmp_path / "unknown.csv", index=False)
    message = one_line_error(lambda: data.load_races(tmp_path / "unknown.csv", nmc))
    assert "unknown.csv" in message and "999" in message and "no state in the NMC data" in message
    pd.DataFrame({"ccode1": [2], "ccode2": [20], "styear": [1910], "endyear": [1901]}).to_csv(
        tmp_path / "backwards.csv", index=False)
    assert "styear must be <= endyear" in one_line_error(lambda: data.load_rivalries(tmp_path / "backwards.csv"))


def test_code_rivalry_buildups_either_and_same_series(cow_files):
    nmc = data.load_nmc(cow_files["nmc"])
    rivalries = data.load_rivalries(cow_files["rivalries"], nmc)
    either = coding.code_rivalry_buildups(nmc, rivalries)
    # AAA-BBB: 1905-1907 in milex (kept: it overlaps the rivalry from 1906 on); 1912-1916 only with milper's 1914;
    # the milex jump into 1914 (pounds to dollars) is no growth. CCC arms alone.
    assert [(b.ccode1, b.ccode2, b.first, b.last, b.series) for b in either] == [
        (2, 20, 1905, 1907, "milex"), (2, 20, 1912, 1916, "mixed")]
    assert either[0].rivalries == ("AAA-BBB",) and either[0].interdependent in (True, False, None)
    same = coding.code_rivalry_buildups(nmc, rivalries, rule="same")
    assert [(b.first, b.last) for b in same] == [(1905, 1907)]
    assert coding.code_rivalry_buildups(nmc, rivalries, series=("milper",)) == []
    assert [(b.first, b.last) for b in coding.code_rivalry_buildups(nmc, rivalries, years=4)] == [(1912, 1916)]
    with pytest.raises(ValueError, match="rule must be"):
        coding.code_rivalry_buildups(nmc, rivalries, rule="any")
    late = rivalries.assign(styear=lambda frame: frame.styear.where(frame.rivalryname != "AAA-BBB", 1908))
    assert [(b.first, b.last) for b in coding.code_rivalry_buildups(nmc, late)] == [(1912, 1916)]


def test_code_rivalry_buildups_applies_every_filter():
    """Rivals 1 and 2 arm by 10% a year in 1903-1905; three other states are flat, or all grow 12% in 1904."""
    def coded(shock: float, wars: pd.DataFrame | None = None) -> coding.Buildup:
        rival = [100 * 1.1 ** min(max(year - 1902, 0), 3) for year in range(1900, 1916)]
        other = [100 * (1 + shock) ** (year >= 1904) for year in range(1900, 1916)]
        nmc = nmc_frame({1: rival, 2: rival, 3: other, 4: other, 5: other})
        rivalries = pd.DataFrame({"rivalryno": [1], "rivalryname": ["one-two"], "ccode1": [1], "ccode2": [2],
                                  "styear": [1900], "endyear": [1915]})
        (found,) = coding.code_rivalry_buildups(nmc, rivalries, war_years=wars)
        assert (found.first, found.last, found.series) == (1903, 1905, "milex")
        return found

    calm = coded(0.0)
    assert calm.passes("system") is True and calm.passes("war") is None  # no war data: not computed
    assert calm.passes("response") is None  # the two sides' growth is identical: no regression to fit
    assert calm.passes("reaction") is calm.interdependent
    assert calm.to_dict()["filters"] == {"reaction": calm.interdependent, "system": True, "war": None,
                                         "response": None}
    assert coded(0.12).passes("system") is False  # every other state grew faster in 1904
    third = pd.DataFrame({"warnum": 1, "ccode1": [1, 1], "ccode2": [3, 3], "year": [1903, 1904]})
    assert coded(0.0, third).passes("war") is False  # 2 of 3 years state 1 fights a third state
    rival_war = pd.DataFrame({"warnum": 1, "ccode1": [1, 1], "ccode2": [2, 2], "year": [1903, 1904]})
    assert coded(0.0, rival_war).passes("war") is True  # war against the rival is no mobilisation


def buildup(first: int, last: int, ccode1: int = 2, ccode2: int = 20, interdependent: bool = True) -> coding.Buildup:
    return coding.Buildup(ccode1, ccode2, first, last, ("AAA-BBB",), "milex", interdependent, "milex")


def test_score_races_recall_precision_and_tolerance():
    races = pd.DataFrame({"race_id": [1, 2, 3], "ccode1": [2, 2, 2], "ccode2": [20, 20, 40],
                          "styear": [1910, 1950, 1920], "endyear": [1912, 1952, 1922]})
    found = [buildup(1914, 1916), buildup(1930, 1933), buildup(1960, 1962), buildup(1921, 1923, 2, 40)]
    score = scoring.score_races(found, races, tolerance=2)
    assert (score.races_listed, score.races_found) == (3, 2)
    assert score.recall == pytest.approx(2 / 3)
    assert (score.buildups_detected, score.buildups_matched) == (4, 2) and score.precision == pytest.approx(0.5)
    assert [record["found"] for record in score.races] == [True, False, True]
    assert score.races[0]["detected"] == [[1914, 1916, "milex"]]
    assert [(b["first"], b["last"]) for b in score.unlisted_buildups] == [(1930, 1933), (1960, 1962)]
    strict = scoring.score_races(found, races, tolerance=1)
    assert strict.races_found == 1 and strict.precision == pytest.approx(0.25)
    covered = scoring.score_races(found, races, tolerance=2, list_years=(1900, 1955))
    assert covered.buildups_detected == 3 and covered.buildups_outside_list_years == 1
    rivalries = pd.DataFrame({"ccode1": [2], "ccode2": [20]})
    assert scoring.score_races(found, races, 2, rivalries).races_without_rivalry == [3]
    with pytest.raises(ValueError, match="tolerance"):
        scoring.score_races(found, races, tolerance=-1)
    assert json.loads(json.dumps(scoring.score_races([], races).to_dict()))["precision"] is None


def test_war_onsets_after_buildups_against_other_rivalry_years():
    rivalries = pd.DataFrame({"ccode1": [2], "ccode2": [20], "styear": [1900], "endyear": [1919]})
    wars = pd.DataFrame({"ccode1": [2], "ccode2": [20], "year": [1910]})
    # State 20 enters the data in 1901: 1900 is no rivalry-year that could have been coded.
    nmc = pd.DataFrame([{"ccode": code, "year": year} for code in (2, 20) for year in range(1900 + (code == 20), 1950)])
    result = scoring.war_onsets_after_buildups([buildup(1903, 1905), buildup(1912, 1914)], rivalries, wars, nmc,
                                               within=5)
    assert (result.buildups, result.buildups_with_war) == (2, 1)  # 1903-1905 + 5 years reaches 1910
    assert result.rivalry_years == 20 - 1 - 6
    assert result.years_with_war == 5  # 1906-1910 see the 1910 onset within 5 years; 1905 is a buildup year
    assert result.share_after_buildups == pytest.approx(0.5)


def test_bloc_spec_syntax_and_the_currency_change():
    spec = blocs.parse_bloc_spec("220+365:255+300@1909-1913")
    assert (spec.bloc1, spec.bloc2, spec.first, spec.last, spec.series) == ((220, 365), (255, 300), 1909, 1913, "milex")
    assert str(spec) == "220+365:255+300@1909-1913"
    assert blocs.parse_bloc_spec(" 2 : 365 @ 1950-1960 / milper ").series == "milper"
    assert "expected BLOC:BLOC@FIRST-LAST" in one_line_error(lambda: blocs.parse_bloc_spec("220,365 vs 255"))
    assert "in both blocs" in one_line_error(lambda: blocs.parse_bloc_spec("220+255:255@1909-1913"))
    assert "before the last" in one_line_error(lambda: blocs.parse_bloc_spec("220:255@1913-1909"))
    message = one_line_error(lambda: blocs.parse_bloc_spec("220:255@1910-1916"))
    assert "pounds" in message and "dollars" in message
    assert blocs.parse_bloc_spec("220:255@1910-1916/milper").series == "milper"


def test_fit_blocs_sums_members_and_names_unknown_states(cow_files):
    nmc = data.load_nmc(cow_files["nmc"])
    fit = blocs.fit_blocs(nmc, "2+40:20@1901-1911")
    expected = (data.state_series(nmc, 2, np.arange(1901, 1912), "milex")
                + data.state_series(nmc, 40, np.arange(1901, 1912), "milex"))
    assert np.allclose(fit.bloc1_levels, expected)
    assert json.loads(json.dumps(fit.to_dict()))["combined"]["n_years"] == 10
    assert "state 77 is not in the NMC data" in one_line_error(lambda: blocs.fit_blocs(nmc, "2+77:20@1901-1911"))


def test_history_command_prints_and_writes_the_json_contract(cow_files, tmp_path, capsys):
    out = tmp_path / "history.json"
    argv = ["history", "--nmc", str(cow_files["nmc"]), "--rivalries", str(cow_files["rivalries"]),
            "--races", str(cow_files["races"]), "--wars", str(cow_files["wars"]), "--json", str(out),
            "--richardson", "2+40:20@1901-1911", "--richardson", "20:2+40@1915-1930"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "recall" in printed and "precision" in printed and "Richardson fit 2+40:20@1901-1911" in printed
    report = json.loads(out.read_text())
    for key in ("races_listed", "races_found", "recall", "precision", "races", "unlisted_buildups", "filtered",
                "parameters", "buildups", "wars", "richardson"):
        assert key in report
    assert (report["races_listed"], report["races_found"]) == (2, 1)  # 1903-1904 widened by 2 meets 1905-1907
    assert report["parameters"]["growth"] == 0.08 and report["parameters"]["tolerance"] == 2
    assert set(report["filtered"]) >= {"races_found", "recall", "precision", "races", "unlisted_buildups"}
    assert [fit["spec"] for fit in report["richardson"]] == ["2+40:20@1901-1911", "20:2+40@1915-1930"]
    assert report["wars"]["plain"]["buildups"] == 2


def test_history_command_filter_option_and_its_json(cow_files, tmp_path, capsys):
    out = tmp_path / "history.json"
    argv = ["history", "--nmc", str(cow_files["nmc"]), "--rivalries", str(cow_files["rivalries"]),
            "--races", str(cow_files["races"]), "--json", str(out)]
    assert main(argv) == 0
    default = json.loads(out.read_text())
    assert default["parameters"]["filter_name"] == "reaction"
    assert default["parameters"]["filter"] == coding.FILTER_DESCRIPTION  # the default and its description as before
    assert default["filtered"] == default["filters"]["reaction"] and "war" not in default["filters"]  # no --wars
    capsys.readouterr()
    assert main([*argv, "--wars", str(cow_files["wars"]), "--filter", "system"]) == 0
    printed = capsys.readouterr().out
    assert "interdependence filter system" in printed and "selection half: races" in printed
    report = json.loads(out.read_text())
    assert report["parameters"]["filter_name"] == "system" and report["filtered"] == report["filters"]["system"]
    assert set(report["filters"]) == {"reaction", "system", "war", "response"}
    split = report["split"]
    assert sorted(split["selection"] + split["check"]) == [1, 3] and split["seed"] == scoring.SPLIT_SEED
    assert split["recommended"] in coding.FILTERS and split["primary"] == coding.PRIMARY_FILTER
    for half in ("whole", "selection", "check"):
        scores = split["scores"][half]
        assert set(scores) == {"plain", *coding.FILTERS}
        assert all(isinstance(scores[name]["succeeds"], bool) for name in coding.FILTERS)
    assert split["scores"]["whole"]["plain"]["recall"] == report["recall"]
    assert all(set(b["filters"]) == set(coding.FILTERS) for b in report["buildups"])
    from sd_env.experiments.cli import build_parser

    for name in coding.FILTERS:  # the command offers every filter the module defines
        assert build_parser().parse_args([*argv, "--filter", name]).filter == name
    assert main([*argv, "--filter", "war"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "war needs the COW war dyad-years" in error and "--wars" in error


def test_history_doc_names_the_filter_of_its_headline_run():
    from sd_env.experiments.history import doc as history_doc

    line = history_doc.command_line("DATA", **history_doc.HEADLINE)
    assert f"--filter {history_doc.HEADLINE['filter_name']}" in line and "--list-years 1816-1993" in line
    assert "--filter" not in history_doc.command_line("DATA", filter_name="reaction")


def test_history_command_without_races_reports_buildups_only(cow_files, tmp_path, capsys):
    out = tmp_path / "history.json"
    assert main(["history", "--nmc", str(cow_files["nmc"]), "--rivalries", str(cow_files["rivalries"]),
                 "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["races_listed"] is None and report["recall"] is None and report["buildups_detected"] == 2
    assert "buildups: 2 dyad-episodes" in capsys.readouterr().out


@pytest.mark.parametrize("extra, expected", [
    (["--richardson", "220:255@1909-1916"], "pounds"),
    (["--richardson", "nonsense"], "expected BLOC:BLOC@FIRST-LAST"),
    (["--growth", "-2"], "growth must be"),
    (["--tolerance", "-1"], "--tolerance"),
    (["--list-years", "1990-1816"], "--list-years"),
    (["--races", "absent.csv"], "absent.csv: no such file"),
    (["--show", "-1"], "--show"),
    (["--war-years", "-1"], "--war-years"),
])
def test_history_command_bad_input_is_one_line_and_exit_2(cow_files, capsys, extra, expected):
    argv = ["history", "--nmc", str(cow_files["nmc"]), "--rivalries", str(cow_files["rivalries"]), *extra]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("sd-env history: error:") and expected in error


def test_library_errors_name_the_parameter_never_a_flag(cow_files, tmp_path):
    """The modules' errors are SdEnvErrors that name the function's parameter (the command line adds its flag)."""
    nmc, rivalries = cow_files["nmc"], cow_files["rivalries"]
    cases = [
        (lambda: history_report.parse_years("1990-1816", parameter="list_years"), "list_years", "list_years"),
        (lambda: history_report.parse_years("1816", parameter="years"), "years", "years"),
        (lambda: history_report.run_history(nmc, rivalries, tolerance=-1), "tolerance", "tolerance"),
        (lambda: history_report.run_history(nmc, rivalries, war_years=-1), "war_years", "war_years"),
        (lambda: history_report.run_history(nmc, rivalries, filter_name="any"), "filter_name", "filter_name"),
        (lambda: history_report.run_history(nmc, rivalries, filter_name="war"), "wars_path", "filter_name war"),
        (lambda: history_report.run_history(nmc, rivalries, richardson=["nonsense"]), "richardson", "richardson"),
        (lambda: blocs.fit_blocs(data.load_nmc(nmc), "2+77:20@1901-1911"), "richardson", "richardson"),
        (lambda: series.mutual_buildups([1.0, 2.0], [1.0, 2.0], growth=-1.0), "growth", "growth"),
        (lambda: series.mutual_buildups([1.0, 2.0], [1.0, 2.0], years=0), "years", "years"),
        (lambda: series.richardson_combined_fit([1.0, 2.0]), "levels", "the combined fit"),
        (lambda: scoring.score_races([], data.load_races(cow_files["races"]), tolerance=-1), "tolerance", "tolerance"),
        (lambda: coding.code_rivalry_buildups(data.load_nmc(nmc), data.load_rivalries(rivalries), rule="any"), "rule",
         "rule"),
    ]
    for call, parameter, start in cases:
        with pytest.raises(SdEnvError) as caught:
            call()
        message = str(caught.value)
        assert caught.value.parameter == parameter and message.startswith(start), message
        assert "--" not in message and "\n" not in message
    with pytest.raises(series.SeriesError) as caught:
        series.richardson_fit([1.0, 2.0, 3.0], [1.0, 2.0])
    assert caught.value.parameter is None and "same length" in str(caught.value)
    with pytest.raises(data.HistoryDataError, match="no such file"):
        data.load_nmc(tmp_path / "absent.csv")
    assert issubclass(series.SeriesError, SdEnvError) and issubclass(data.HistoryDataError, SdEnvError)


def test_history_command_with_an_empty_race_list_and_an_empty_nmc(cow_files, tmp_path, capsys):
    (tmp_path / "no_races.csv").write_text("race_id,ccode1,ccode2,styear,endyear\n")
    argv = ["history", "--nmc", str(cow_files["nmc"]), "--rivalries", str(cow_files["rivalries"])]
    assert main([*argv, "--races", str(tmp_path / "no_races.csv")]) == 0
    assert "n/a" in capsys.readouterr().out  # recall of an empty list
    (tmp_path / "no_states.csv").write_text("ccode,year,milex,milper\n")
    argv[2] = str(tmp_path / "no_states.csv")
    assert main(argv) == 2 and "no state-years" in capsys.readouterr().err


def test_history_command_exit_code_from_a_shell(tmp_path):
    result = subprocess.run([sys.executable, "-m", "sd_env.experiments.cli", "history", "--nmc", str(tmp_path / "x.csv"),
                             "--rivalries", str(tmp_path / "y.csv")], capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().count("\n") == 0 and "x.csv: no such file" in result.stderr


# ---------------------------------------------------------------------------------------------------------------
# The historical record (COW data outside the project)
# ---------------------------------------------------------------------------------------------------------------

needs_data = pytest.mark.skipif(
    not (DATA / "NMC-70-abridged.csv").is_file(),
    reason=f"historical COW data not found in {DATA} (the project never ships it; see docs/history.md)",
)


@needs_data
def test_grh_rule_finds_nine_in_ten_listed_races_within_two_years():
    report = history_report.run_history(DATA / "NMC-70-abridged.csv", DATA / "td_rivalries.csv",
                            DATA / "grh_arms_races_sample.csv", tolerance=2)
    assert report["races_listed"] >= 30
    assert report["recall"] >= 0.9, [race for race in report["races"] if not race["found"]]
    assert 0 < report["precision"] < 1 and report["filtered"]["buildups_detected"] <= len(report["buildups"])


@needs_data
def test_filters_on_the_historical_sample_keep_subsets_and_score_every_half():
    report = history_report.run_history(DATA / "NMC-70-abridged.csv", DATA / "td_rivalries.csv",
                            DATA / "grh_arms_races_sample.csv", DATA / "cow_interstate_war_dyad_years.csv",
                            tolerance=2, list_years=(1816, 1993), filter_name=coding.PRIMARY_FILTER)
    assert set(report["filters"]) == set(coding.FILTERS)
    for name, scored in report["filters"].items():
        # A filter keeps a subset of the buildups: it finds no race the plain rule misses.
        assert scored["buildups_detected"] <= report["buildups_detected"]
        assert scored["races_found"] <= report["races_found"]
        assert {r["race_id"] for r in scored["races"] if r["found"]} <= {r["race_id"] for r in report["races"]
                                                                            if r["found"]}
    split = report["split"]
    assert sorted(split["selection"] + split["check"]) == sorted(r["race_id"] for r in report["races"])
    assert abs(len(split["selection"]) - len(split["check"])) <= 1
    for name in ("plain", *coding.FILTERS):
        halves = split["scores"]
        assert halves["selection"][name]["races_found"] + halves["check"][name]["races_found"] == \
            halves["whole"][name]["races_found"]


@needs_data
def test_richardson_combined_fit_of_the_pre_1914_blocs():
    nmc = data.load_nmc(DATA / "NMC-70-abridged.csv")
    fit = blocs.fit_blocs(nmc, "220+365:255+300@1909-1913")
    # Richardson (1960) found the blocs' summed spending rising along a line, with a positive rate and a zero
    # point of about 194 million pounds; COW's series (thousands of pounds) give the same shape.
    assert fit.combined.rate > 0 and fit.combined.r_squared > 0.9
    assert 150_000 < fit.combined.zero_point < 240_000


@needs_data
def test_docs_history_numbers_are_current():
    from sd_env.experiments.history import doc as history_doc

    assert history_doc.main(["--check", "--data", str(DATA)]) == 0, "run python -m sd_env.experiments.history.doc"
