"""Power shifts from unequal growth: the rising share, the window of opportunity, the preventive motive.

The acceptance of the per-state growth rate: in ``thucydides`` the rising power's share of wealth grows over an
episode of restraint; at equal burdens the declining state's chance of winning an attack falls over the years
while the rising state's grows; and the preventive motive is measured on each side. Controls with equal growth
show that these come from the growth gap, not from anything else in the scenario.
"""

from __future__ import annotations

import numpy as np
import pytest

from sd_env.experiments.lab.power_shift import (
    established_and_rising,
    power_shift_section,
    preventive_motive,
    wealth_shares,
    window_of_opportunity,
)
from sd_env.experiments.lab.rollout import rollout
from sd_env.scenarios import get_scenario, make_params
from sd_env.stances import StrikerPolicy, make_policy

SPARTA, ATHENS = 0, 1


@pytest.fixture(scope="module")
def thucydides():
    return make_params("thucydides")


@pytest.fixture(scope="module")
def window(thucydides):
    return window_of_opportunity(thucydides, episodes=64, seed=0)


def test_the_rising_power_and_the_established_one_are_found_from_growth_and_size(thucydides):
    assert established_and_rising(thucydides) == (SPARTA, ATHENS)
    assert established_and_rising(make_params("thaad-2016")) == (0, 3)  # the United States and China
    assert established_and_rising(make_params("bilateral")) is None


def test_the_rising_powers_share_of_wealth_grows_every_year_of_restraint(thucydides, window):
    share = window.wealth_share[:, ATHENS]
    assert np.all(np.diff(share) > 0)
    assert share[0] < 0.5 < share[-1]  # a power transition within the episode
    # In every single episode, not only on average.
    result = rollout(thucydides, [StrikerPolicy(thucydides)] * 2, 16, seed=3)
    shares = wealth_shares(result)[:, :, ATHENS]
    assert np.all(shares[-1] > shares[0])
    # Control: equal growth keeps shares where they started.
    equal = window_of_opportunity(thucydides.replace(growth_rate=0.03), episodes=16, seed=0)
    np.testing.assert_allclose(equal.wealth_share[-1], equal.wealth_share[0], atol=1e-9)


def test_the_window_of_opportunity_closes_on_the_declining_state(thucydides, window):
    declining_attacks = window.win_probability[:, SPARTA, ATHENS]
    rising_attacks = window.win_probability[:, ATHENS, SPARTA]
    assert np.all(np.diff(rising_attacks) > 0), "the rising state's chance grows every year"
    assert window.trend(SPARTA, ATHENS) < 0 < window.trend(ATHENS, SPARTA)
    assert declining_attacks[-1] < declining_attacks[0] / 2
    # After the first years, while arms settle from their initial level to what the burden sustains, the
    # declining state's chance falls every year.
    settled = int(np.argmax(declining_attacks))
    assert settled < 10
    assert np.all(np.diff(declining_attacks[settled:]) < 0)
    # Control: with equal growth both chances rise while arms settle, then stay: no window closes on anyone,
    # so the closing window is the growth gap's doing.
    equal = window_of_opportunity(thucydides.replace(growth_rate=0.03), episodes=64, seed=0).win_probability
    for attacker, defender in ((SPARTA, ATHENS), (ATHENS, SPARTA)):
        odds = equal[:, attacker, defender]
        assert np.all(np.diff(odds) >= -1e-9)
        assert odds[-1] - odds[20] < 0.01


def test_the_preventive_motive_is_the_declining_states_and_not_the_rising_states(thucydides):
    declining = preventive_motive(thucydides, SPARTA, ATHENS, early_year=5, late_year=30, episodes=200, seed=0)
    rising = preventive_motive(thucydides, ATHENS, SPARTA, early_year=5, late_year=30, episodes=200, seed=0)
    # Early strikes succeed more often for the declining state, late ones for the rising state.
    assert declining.early.win_probability > declining.late.win_probability
    assert rising.early.win_probability < rising.late.win_probability
    # What a strike does to the striker's share of power: better now for the declining state, later for the other.
    assert declining.motive("share") > 0 > rising.motive("share")
    # A greedy striker (one that values conquest) likewise.
    assert declining.motive("greedy") > rising.motive("greedy")
    assert rising.motive("greedy") < 0
    # A security seeker values only its home economy, and a rival that never strikes is no threat to remove:
    # every strike costs it, whichever side it is on, and an early one more (its destruction compounds longer).
    for motive in (declining, rising):
        assert motive.early.return_gain["security_seeker"] < motive.late.return_gain["security_seeker"] < 0
    # Control: swap the growth rates and sizes, and the motive changes sides with the growth gap.
    reversed_gap = thucydides.replace(growth_rate=(0.04, 0.01), initial_wealth=(0.6, 1.0))
    flipped = preventive_motive(reversed_gap, ATHENS, SPARTA, early_year=5, late_year=30, episodes=200, seed=0)
    assert flipped.motive("share") > 0  # now state_1 is the declining one


def test_preventive_motive_rejects_impossible_years_and_states(thucydides):
    with pytest.raises(ValueError, match="early_year < late_year"):
        preventive_motive(thucydides, 0, 1, early_year=30, late_year=5)
    with pytest.raises(ValueError, match="max_cycles"):
        preventive_motive(thucydides, 0, 1, early_year=5, late_year=50)
    with pytest.raises(ValueError, match="two different states"):
        preventive_motive(thucydides, 1, 1, early_year=5, late_year=30)


def test_the_striker_attacks_its_target_in_its_year_only():
    params = make_params("russia-ukraine")
    seats = [StrikerPolicy(params, burden=0.2, year=4, target=2), StrikerPolicy(params), StrikerPolicy(params)]
    result = rollout(params, seats, 8, seed=1)
    attacks = result.attacks  # (T, B, N, N)
    assert attacks[4, :, 0, 2].all()  # state_0 attacks state (0 + 2) % 3 in year 4
    assert attacks.sum() == attacks[4, :, 0, 2].sum()
    np.testing.assert_allclose(result.burden[:, :, 1:], 0.1)
    with pytest.raises(ValueError, match=r"target must be an integer in \[1, 2\] \(the rival it attacks"):
        make_policy("striker:target=3", params)
    with pytest.raises(ValueError, match=r"year must be an integer in \[-1, \d+\]"):
        make_policy("striker:year=2.5", params)


def test_power_shift_section_reports_both_sides_and_only_where_growth_differs():
    scenario = get_scenario("thucydides")
    lines = power_shift_section(scenario.params(), episodes=16, seed=0, seat_names=scenario.states)
    text = "\n".join(lines)
    assert "Sparta" in text and "Athens" in text
    assert "Window of opportunity" in text and "Preventive motive" in text
    assert text == "\n".join(power_shift_section(scenario.params(), episodes=16, seed=0, seat_names=scenario.states))
    assert power_shift_section(make_params("russia-ukraine"), episodes=4) is None
