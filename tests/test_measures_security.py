"""The arms-race, misperception and security-dilemma measures, each checked on a hand-made rollout."""

from __future__ import annotations

import numpy as np
import pytest

from sd_env.experiments.lab.measures import EPISODE_MEASURES, dyad_buildups, estimated_threat, summarize, threat
from sd_env.experiments.lab.rollout import Rollout
from sd_env.contest import success_probability
from sd_env.scenarios import make_params

# bilateral: three systems with offensive weights 0, 0.5, 1; territorial defence 0.5 of wealth; balance 1;
# decisiveness 2.
PARAMS = make_params("bilateral")
DEFENSIVE, OFFENSIVE = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])


def blank(years: int, n: int = 2, greedy=None) -> dict[str, np.ndarray]:
    """The fields of a one-episode rollout: everyone alive, wealth 1, no arms, no attacks."""
    k = PARAMS.n_systems
    return dict(
        rewards=np.zeros((years, 1, n)), welfare=np.zeros((years, 1, n)), burden=np.zeros((years, 1, n)),
        spending=np.zeros((years, 1, n)), stocks=np.zeros((years, 1, n, k)), wealth=np.ones((years, 1, n)),
        home_wealth=np.ones((years, 1, n)), attacks=np.zeros((years, 1, n, n), dtype=bool),
        victories=np.zeros((years, 1, n, n), dtype=bool), success_probability=np.zeros((years, 1, n, n)),
        eliminated=np.zeros((years, 1, n), dtype=bool), alive=np.ones((years, 1, n), dtype=bool),
        observed_stocks=np.zeros((years, 1, n, n, k)),
        greedy=np.array([greedy if greedy is not None else [False] * n]),
    )


def built(fields: dict[str, np.ndarray], see_truly: bool = True) -> Rollout:
    """The rollout; with ``see_truly`` every state sees every stock as it is."""
    if see_truly:
        n = fields["stocks"].shape[2]
        fields["observed_stocks"] = np.repeat(fields["stocks"][:, :, None], n, axis=2)
    return Rollout(params=PARAMS, **fields)


def value(result: Rollout, name: str, seats=None) -> float:
    return EPISODE_MEASURES[name].value(result, seats)


def contest(offense, defense):
    return float(success_probability(offense, defense, PARAMS.offense_defense_balance, PARAMS.contest_decisiveness))


def test_arms_growth_is_the_mean_yearly_growth_of_the_arms_stock():
    fields = blank(3)
    fields["stocks"][:, 0, 0] = np.outer([1.0, 1.1, 1.21], DEFENSIVE)
    fields["stocks"][:, 0, 1] = np.outer([1.0, 0.5, 0.25], DEFENSIVE)
    result = built(fields)
    assert value(result, "arms_growth", [0]) == pytest.approx(0.1)
    assert value(result, "arms_growth", [1]) == pytest.approx(-0.5)
    assert value(result, "arms_growth") == pytest.approx((0.1 + 0.1 - 0.5 - 0.5) / 4)


def test_war_onsets_and_first_strikes():
    fields = blank(5)
    fields["attacks"][0, 0, 0, 1] = True  # 0 strikes first: an onset
    fields["attacks"][1, 0, 1, 0] = True  # 1 strikes back: the same war goes on
    fields["attacks"][3, 0, 0, 1] = True  # after a year of peace, 0 strikes again: a new onset
    fields["attacks"][3, 0, 1, 0] = True  # and 1 strikes the same year: both are first strikes
    result = built(fields)
    assert value(result, "war_onsets_per_episode") == 2
    assert value(result, "first_strikes_per_episode", [0]) == 2
    assert value(result, "first_strikes_per_episode", [1]) == 1


def buildup_rollout(years: int = 10, offensive: bool = True) -> Rollout:
    """Both states spend 10% more each year in years 1..3 and buy arms of one kind; a war in year 7."""
    fields = blank(years)
    spending = np.array([1.0, 1.1, 1.21, 1.331] + [1.331] * (years - 4))
    fields["spending"][:, 0, :] = spending[:, None]
    kind = OFFENSIVE if offensive else DEFENSIVE
    # The stock of that kind grows with the spending (what depreciates is replaced), on top of some shields.
    fields["stocks"][:, 0, 0] = np.outer(spending, kind) + np.outer(np.ones(years), DEFENSIVE) * 0.5
    fields["stocks"][:, 0, 1] = fields["stocks"][:, 0, 0]
    fields["attacks"][7, 0, 0, 1] = True
    return built(fields)


def test_a_mutual_buildup_is_three_years_of_eight_percent_growth_on_both_sides():
    result = buildup_rollout()
    assert dyad_buildups(result) == [(0, 0, 1, 1, 3)]
    assert value(result, "buildups_per_episode") == 1
    assert value(result, "buildup_years") == pytest.approx(3 / 10)
    assert value(result, "wars_after_buildups") == 1.0  # war in year 7, within five years of year 3
    fields = blank(10)
    fields["spending"][:, 0, 0] = [1.0, 1.1, 1.21, 1.331] + [1.331] * 6  # one side alone: no mutual buildup
    fields["spending"][:, 0, 1] = 1.0
    assert value(built(fields), "buildups_per_episode") == 0


def test_a_state_arms_in_a_year_when_its_spending_or_its_stock_grew_as_in_the_historical_coding():
    fields = blank(6)
    # Both sides' spending grows 10% in years 1 and 2, their stocks 10% in year 3: three years of arming.
    fields["spending"][:, 0, :] = np.array([1.0, 1.1, 1.21, 1.21, 1.21, 1.21])[:, None]
    stock = np.array([1.0, 1.0, 1.0, 1.1, 1.1, 1.1])
    fields["stocks"][:, 0, 0] = np.outer(stock, DEFENSIVE)
    fields["stocks"][:, 0, 1] = np.outer(stock, DEFENSIVE)
    assert dyad_buildups(built(fields)) == [(0, 0, 1, 1, 3)]


def test_self_defeat_counts_buildups_that_left_both_sides_less_secure():
    # Offensive arms outgrow territorial defence: each side's chance of beating the other rises.
    assert value(buildup_rollout(offensive=True), "self_defeating_buildups") == 1.0
    # Defensive arms: neither side's offence grows, so neither becomes less secure.
    assert value(buildup_rollout(offensive=False), "self_defeating_buildups") == 0.0


def test_harm_to_rival_security_is_the_fall_in_the_rivals_survival_caused_by_own_arming():
    fields = blank(2)
    fields["stocks"][0, 0, 0] = 0.2 * OFFENSIVE
    fields["stocks"][1, 0, 0] = 0.6 * OFFENSIVE  # state 0 triples its offence
    fields["stocks"][:, 0, 1] = 0.3 * DEFENSIVE  # state 1 holds defence
    result = built(fields)
    rival_defense = 0.3 + PARAMS.territorial_defense * 1.0
    expected = contest(0.6, rival_defense) - contest(0.2, rival_defense)
    assert value(result, "harm_to_rival_security", [0]) == pytest.approx(expected)
    assert expected > 0.1
    assert value(result, "harm_to_rival_security", [1]) == pytest.approx(0.0)  # 1's arms did not change


def test_misperception_is_zero_for_a_clear_view_and_the_gap_for_a_blurred_one():
    fields = blank(2)
    fields["stocks"][:, 0, 0] = 0.4 * DEFENSIVE
    fields["stocks"][:, 0, 1] = 0.4 * OFFENSIVE
    clear = built({name: array.copy() for name, array in fields.items()})
    assert value(clear, "offense_share_error") == 0.0
    assert value(clear, "war_odds_error") == 0.0
    blurred = {name: array.copy() for name, array in fields.items()}
    blurred["observed_stocks"] = np.repeat(blurred["stocks"][:, :, None], 2, axis=2)
    blurred["observed_stocks"][:, 0, 1, 0] = 0.4 * OFFENSIVE  # 1 takes 0's shield for a sword
    result = built(blurred, see_truly=False)
    assert value(result, "offense_share_error", [1]) == pytest.approx(1.0)
    assert value(result, "offense_share_error", [0]) == 0.0
    own_defense = 0.0 + PARAMS.territorial_defense * 1.0  # state 1 holds only offensive arms
    assert value(result, "war_odds_error", [1]) == pytest.approx(contest(0.4, own_defense) - 0.0)
    np.testing.assert_allclose(estimated_threat(clear), threat(clear))


def test_a_seekers_arming_is_read_as_a_threat_where_the_rival_sees_offence_grow():
    fields = blank(3)
    fields["stocks"][:, 0, 0] = np.outer([0.2, 0.4, 0.6], DEFENSIVE)  # a security seeker buys shields
    fields["stocks"][:, 0, 1] = 0.3 * DEFENSIVE
    clear = built({name: array.copy() for name, array in fields.items()})
    assert value(clear, "seeker_arming_read_as_threat", [0]) == 0.0  # seen as shields: no threat
    blurred = built({name: array.copy() for name, array in fields.items()})
    blurred.observed_stocks[:, 0, 1, 0] = np.outer([0.2, 0.4, 0.6], OFFENSIVE)  # seen as swords
    assert value(blurred, "seeker_arming_read_as_threat", [0]) == 1.0
    fields["greedy"][:] = [[True, False]]
    assert np.isnan(value(built(fields), "seeker_arming_read_as_threat", [0]))  # no seeker among the seats


def test_every_measure_of_a_played_rollout_is_finite_or_nan_and_inside_its_range():
    from sd_env.experiments.lab.rollout import rollout
    from sd_env.stances import make_policy

    params = make_params("pre-1914", max_cycles=30)
    result = rollout(params, [make_policy("deterrer", params)] * params.n_states, episodes=6, seed=0)
    values = summarize(result)
    shares = [name for name, measure in EPISODE_MEASURES.items() if measure.unit.startswith("share")]
    for name in shares + ["offense_share_error", "war_odds_error"]:
        assert np.isnan(values[name]) or 0.0 <= values[name] <= 1.0, name
    assert -1.0 <= values["harm_to_rival_security"] <= 1.0
