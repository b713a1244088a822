"""One focused test (or more) per model parameter: each shows that the parameter changes what it
should in the dynamics, the observations or the rewards, by driving ``sd_env.core`` directly with
hand-built states and fixed actions. Then bad input: every invalid value raises ``ValueError``
naming the parameter and the value, and nothing is silently clipped.

Conventions used below (``sd_env.spaces``): an action row is
``[burden level, procurement system (K = spread evenly), attack rival r (0 = none), commit flags...]``
and rival r of state i is state ``(i + r) % N``. The default weapon systems are
fortifications (offensive weight 0), dual_use (0.5) and armour (1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import sd_env
from sd_env import core
from sd_env.contest import success_probability
from sd_env.params import PARAMETER_NAMES, EnvParams
from sd_env.scenarios import SCENARIOS, get_scenario, make_params
from sd_env.spaces import ObservationLayout, action_space, observation_layout, observation_space

FORTIFICATIONS, DUAL_USE, ARMOUR = 0, 1, 2


# ---------------------------------------------------------------------------
# Helpers


def calm_params(**changes) -> EnvParams:
    """Parameters with every side effect switched off (no jitter, noise, growth, decay, war losses,
    elimination, greedy types), so a test sees only the mechanism it switches back on."""
    values = dict(
        initial_wealth_jitter=0.0,
        observation_noise=0.0,
        growth_rate=0.0,
        depreciation=0.0,
        war_cost=0.0,
        war_attrition=0.0,
        elimination_threshold=0.0,
        greedy_prior=0.0,
    )
    values.update(changes)
    return EnvParams(**values)


def make_state(
    params: EnvParams,
    wealth,
    stocks,
    *,
    alive=None,
    greedy=None,
    commitments=None,
    attacks=None,
    initial_wealth=None,
    year=0,
    home_wealth=None,
) -> core.CoreState:
    """A batch-of-one CoreState from per-state lists (a leading batch axis is added)."""
    n = params.n_states
    wealth = np.asarray(wealth, dtype=np.float64)[None, :]
    stocks = np.asarray(stocks, dtype=np.float64)[None, :, :]
    assert wealth.shape == (1, n) and stocks.shape == (1, n, params.n_systems)

    def flags(value, shape):
        return np.zeros(shape, dtype=bool) if value is None else np.asarray(value, dtype=bool)[None]

    return core.CoreState(
        wealth=wealth,
        stocks=stocks,
        alive=np.ones((1, n), dtype=bool) if alive is None else np.asarray(alive, dtype=bool)[None],
        greedy=flags(greedy, (1, n)),
        commitments=flags(commitments, (1, n, n)),
        attacks=flags(attacks, (1, n, n)),
        initial_wealth=wealth.copy() if initial_wealth is None else np.asarray(initial_wealth, float)[None],
        year=np.array([year], dtype=np.int64),
        home_wealth=wealth.copy() if home_wealth is None else np.asarray(home_wealth, float)[None],
    )


def actions(params: EnvParams, rows: dict | None = None, batch: int = 1) -> np.ndarray:
    """Actions of shape (batch, N, A): every state idle (burden 0, no attack, no commitment)
    except the rows given as ``{state: (burden level, system, attack, *commit flags)}``."""
    result = np.zeros((batch, params.n_states, params.action_length), dtype=np.int64)
    result[:, :, 1] = params.n_systems
    for state, row in (rows or {}).items():
        result[:, state, : len(row)] = row
    return result


def step_once(params, state, rows=None, seed=0):
    return core.step(params, state, actions(params, rows), np.random.default_rng(seed))


def rival_view(params: EnvParams, observations: np.ndarray, observer: int, rival: int) -> np.ndarray:
    """Apparent stocks (float64) that ``observer`` sees of rival number ``rival`` (1 .. N-1)."""
    layout = observation_layout(params)
    return layout.rival_stocks(observations)[0, observer, rival - 1].astype(np.float64)


def offence_share(params: EnvParams, stocks: np.ndarray) -> np.ndarray:
    return core.offense(params, stocks) / stocks.sum(axis=-1)


# A certain war: the attacker has armour only (positive offence); the victim has no arms and,
# with territorial_defense=0, no defence at all, so the attack succeeds with probability one.
ATTACKER_STOCKS = [0.0, 0.0, 1.0]
DEFENCELESS = [0.0, 0.0, 0.0]
# A hopeless war: fortifications only give no offence, so the attack fails with certainty.
HARMLESS = [1.0, 0.0, 0.0]


# ---------------------------------------------------------------------------
# Every parameter has a mechanism test.

MECHANISM_TESTS = {
    "n_states": ["test_n_states_sets_agents_spaces_and_ego_centric_targets"],
    "max_cycles": ["test_max_cycles_truncates_the_episode", "test_max_cycles_scales_the_elapsed_time_observation"],
    "offense_defense_balance": [
        "test_offense_defense_balance_raises_contest_success_probability",
        "test_offense_defense_balance_raises_success_probability_in_core_step",
    ],
    "distinguishability": [
        "test_full_distinguishability_without_noise_reveals_the_true_offence_share",
        "test_zero_distinguishability_hides_the_offence_defence_mix_without_noise",
        "test_zero_distinguishability_hides_the_mix_under_noise_for_the_same_seed",
        "test_partial_distinguishability_blurs_the_mix_towards_the_average",
    ],
    "observation_noise": [
        "test_zero_observation_noise_gives_exact_magnitudes",
        "test_larger_observation_noise_gives_larger_dispersion_with_mean_one",
    ],
    "weapon_names": ["test_weapon_names_set_the_number_of_weapon_systems"],
    "weapon_offense_weights": ["test_weapon_offense_weights_split_stocks_into_offence_and_defence"],
    "weapon_costs": ["test_weapon_costs_divide_spending_into_units"],
    "weapon_visibility": ["test_weapon_visibility_hides_stock_from_rivals_only"],
    "depreciation": ["test_depreciation_shrinks_stocks_each_year"],
    "growth_rate": ["test_growth_rate_scales_wealth_each_year", "test_growth_rate_per_state_shifts_power"],
    "initial_wealth": ["test_initial_wealth_sets_starting_wealth_per_state"],
    "initial_wealth_jitter": ["test_initial_wealth_jitter_spreads_starting_wealth"],
    "initial_arms": ["test_initial_arms_are_a_multiple_of_wealth_spread_evenly"],
    "max_burden": ["test_max_burden_is_the_top_burden_level"],
    "burden_levels": ["test_burden_levels_are_evenly_spaced_up_to_max_burden"],
    "contest_decisiveness": [
        "test_contest_decisiveness_makes_the_stronger_side_win_more_surely",
        "test_contest_decisiveness_in_core_step",
    ],
    "territorial_defense": ["test_territorial_defense_protects_the_homeland"],
    "conquest_share": ["test_conquest_share_moves_wealth_to_the_victor", "test_conquest_share_with_two_victors"],
    "war_cost": ["test_war_cost_destroys_wealth_of_every_party_only"],
    "war_attrition": ["test_war_attrition_destroys_arms_of_every_party_only"],
    "elimination_threshold": [
        "test_elimination_threshold_eliminates_and_the_victor_annexes_the_remnant",
        "test_elimination_without_conquest_destroys_the_remnant",
        "test_elimination_is_relative_to_initial_wealth",
    ],
    "elimination_penalty": ["test_elimination_penalty_is_paid_once_in_the_year_of_elimination"],
    "greedy_prior": ["test_greedy_prior_is_the_frequency_of_greedy_types"],
    "greed_bonus": ["test_greed_bonus_rewards_only_greedy_winners"],
    "seeker_conquest_value": [
        "test_seeker_conquest_value_weighs_a_security_seekers_conquered_wealth",
        "test_home_wealth_grows_and_suffers_war_like_wealth_but_never_gains_spoils",
    ],
    "alliances": [
        "test_alliances_add_commitment_flags_to_the_action",
        "test_committed_ally_joins_the_defence_and_is_entrapped",
        "test_new_commitments_come_into_force_next_year",
    ],
    "alliance_blocs": [
        "test_alliance_blocs_commit_members_to_each_other_at_reset",
        "test_overlapping_alliance_blocs_make_a_hub_of_bilateral_alliances",
    ],
    "renege_cost": ["test_renege_cost_charges_an_ally_who_abandons_an_attacked_ally"],
    "surprise_deployment": ["test_surprise_deployment_arrives_free_in_its_year"],
}


def test_every_parameter_has_a_mechanism_test():
    assert set(MECHANISM_TESTS) == set(PARAMETER_NAMES)
    for name, tests in MECHANISM_TESTS.items():
        for test in tests:
            assert callable(globals().get(test)), f"{name}: {test} is not defined"


# ---------------------------------------------------------------------------
# n_states, max_cycles


def test_n_states_sets_agents_spaces_and_ego_centric_targets():
    env = sd_env.parallel_env(n_states=4)
    assert env.possible_agents == ["state_0", "state_1", "state_2", "state_3"]
    k = env.params.n_systems
    assert list(env.action_space("state_2").nvec) == [11, k + 1, 4]
    assert env.observation_space("state_2").shape == ((k + 4) + 3 * (k + 6),)
    observations, _ = env.reset(seed=0)
    assert sorted(observations) == env.possible_agents

    params = calm_params(n_states=4)
    state = core.reset(params, 3, np.random.default_rng(0))
    assert state.wealth.shape == (3, 4) and state.stocks.shape == (3, 4, k)
    np.testing.assert_array_equal(core.rival_index(4)[1], [2, 3, 0])
    # State 1 attacking its rival 3 attacks state (1 + 3) % 4 = 0.
    _, outcome = core.step(params, state, actions(params, {1: (0, k, 3)}, batch=3), np.random.default_rng(0))
    expected = np.zeros((4, 4), dtype=bool)
    expected[1, 0] = True
    for b in range(3):
        np.testing.assert_array_equal(outcome.attacks[b], expected)


def test_max_cycles_truncates_the_episode():
    params = calm_params(max_cycles=3)
    state = core.reset(params, 2, np.random.default_rng(0))
    flags = []
    for _ in range(4):
        state, outcome = core.step(params, state, actions(params, batch=2), np.random.default_rng(1))
        flags.append(outcome.truncated.tolist())
    assert flags == [[False, False], [False, False], [True, True], [True, True]]

    env = sd_env.parallel_env(max_cycles=3)
    env.reset(seed=0)
    idle = {agent: np.array([0, 3, 0]) for agent in env.possible_agents}
    for year in range(3):
        _, _, terminations, truncations, _ = env.step(idle)
        assert not any(terminations.values())
        assert all(truncations.values()) == (year == 2)
    assert env.agents == []


def test_max_cycles_scales_the_elapsed_time_observation():
    layout_params = calm_params(max_cycles=8)
    layout = observation_layout(layout_params)
    state = make_state(layout_params, [1.0, 1.0], [[0.1] * 3] * 2, year=2)
    observations = core.observe(layout_params, state, np.random.default_rng(0))
    assert observations[0, 0, layout.time_elapsed] == pytest.approx(2 / 8)
    longer = layout_params.replace(max_cycles=16)
    assert core.observe(longer, state, np.random.default_rng(0))[0, 0, layout.time_elapsed] == pytest.approx(2 / 16)


# ---------------------------------------------------------------------------
# offense_defense_balance, contest_decisiveness


def test_offense_defense_balance_raises_contest_success_probability():
    balances = [0.1, 1.0 / 3.0, 1.0, 3.0, 10.0]
    probabilities = [float(success_probability(1.0, 1.0, theta, 2.0)) for theta in balances]
    assert all(low < high for low, high in zip(probabilities, probabilities[1:]))
    # p = (theta O)^m / ((theta O)^m + D^m): the "3:1 rule" worlds.
    assert probabilities[1] == pytest.approx(0.1)
    assert probabilities[2] == pytest.approx(0.5)
    assert probabilities[3] == pytest.approx(0.9)
    # Same probabilities at every scale of stocks, and never outside [0, 1].
    scaled = success_probability(np.array([1e-8, 1.0, 1e8]), np.array([1e-8, 1.0, 1e8]), 3.0, 2.0)
    np.testing.assert_allclose(scaled, 0.9)
    assert float(success_probability(0.0, 1.0, 100.0, 2.0)) == 0.0
    assert float(success_probability(1.0, 0.0, 0.01, 2.0)) == 1.0


def test_offense_defense_balance_raises_success_probability_in_core_step():
    stocks = [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]  # armour against fortifications
    results = {}
    for theta in (1.0 / 3.0, 1.0, 3.0):
        params = calm_params(offense_defense_balance=theta, territorial_defense=0.5)
        state = make_state(params, [1.0, 1.0], stocks)
        _, outcome = step_once(params, state, {0: (0, 3, 1)})
        results[theta] = float(outcome.success_probability[0, 0, 1])
        offence, defence = theta * 1.0, 1.0 + 0.5 * 1.0
        assert results[theta] == pytest.approx(offence**2 / (offence**2 + defence**2))
    assert results[1.0 / 3.0] < results[1.0] < results[3.0]


def test_contest_decisiveness_makes_the_stronger_side_win_more_surely():
    exponents = [0.5, 1.0, 2.0, 8.0]
    stronger = [float(success_probability(2.0, 1.0, 1.0, m)) for m in exponents]
    weaker = [float(success_probability(1.0, 2.0, 1.0, m)) for m in exponents]
    assert all(low < high for low, high in zip(stronger, stronger[1:]))
    assert all(high > low for high, low in zip(weaker, weaker[1:]))
    assert stronger[-1] == pytest.approx(2.0**8 / (2.0**8 + 1.0))
    for m in exponents:
        assert float(success_probability(1.0, 1.0, 1.0, m)) == pytest.approx(0.5)
    # Very decisive wars do not overflow: the stronger side wins for sure.
    assert float(success_probability(2.0, 1.0, 1.0, 20.0)) == pytest.approx(1.0, abs=1e-6)


def test_contest_decisiveness_in_core_step():
    stocks = [[0.0, 0.0, 2.0], [1.0, 0.0, 0.0]]  # attacker offence 2 against defence 1
    probability = {}
    for m in (1.0, 4.0):
        params = calm_params(contest_decisiveness=m, territorial_defense=0.0)
        _, outcome = step_once(params, make_state(params, [1.0, 1.0], stocks), {0: (0, 3, 1)})
        probability[m] = float(outcome.success_probability[0, 0, 1])
        # The weaker side (state 1 attacking state 0: offence 0 vs defence 0) never wins.
        assert outcome.success_probability[0, 1, 0] == 0.0
    assert probability[1.0] == pytest.approx(2.0 / 3.0)
    assert probability[4.0] == pytest.approx(16.0 / 17.0)


# ---------------------------------------------------------------------------
# distinguishability, observation_noise, weapon_visibility


def test_full_distinguishability_without_noise_reveals_the_true_offence_share():
    params = calm_params(n_states=3, distinguishability=1.0, observation_noise=0.0)
    # Exactly representable stocks: the float32 observation carries them without rounding.
    stocks = np.array([[0.5, 0.25, 0.25], [0.25, 0.5, 1.0], [2.0, 0.0, 0.125]])
    state = make_state(params, [1.0, 1.0, 1.0], stocks)
    observations = core.observe(params, state, np.random.default_rng(0))
    for observer in range(3):
        for rival in (1, 2):
            seen = rival_view(params, observations, observer, rival)
            true = stocks[(observer + rival) % 3]
            assert offence_share(params, seen) == offence_share(params, true)

    # Arbitrary stocks: equal up to the float32 rounding of the observation.
    rng = np.random.default_rng(5)
    stocks = rng.uniform(0.1, 3.0, (3, 3))
    observations = core.observe(params, make_state(params, [1.0] * 3, stocks), rng)
    seen = observation_layout(params).rival_stocks(observations)[0, 0].astype(np.float64)
    np.testing.assert_allclose(offence_share(params, seen), offence_share(params, stocks[[1, 2]]), rtol=1e-6)


def _two_rivals_same_total_different_mix(distinguishability: float, noise: float) -> EnvParams:
    return calm_params(n_states=3, distinguishability=distinguishability, observation_noise=noise)


def test_zero_distinguishability_hides_the_offence_defence_mix_without_noise():
    params = _two_rivals_same_total_different_mix(0.0, 0.0)
    stocks = [[1.0, 1.0, 1.0], [3.0, 0.0, 0.0], [0.0, 0.5, 2.5]]  # rivals: all defence / mostly offence
    observations = core.observe(params, make_state(params, [1.0, 1.0, 1.0], stocks), np.random.default_rng(0))
    layout = observation_layout(params)
    blocks = layout.rival_blocks(observations)[0, 0]
    np.testing.assert_array_equal(blocks[0], blocks[1])  # state 0 cannot tell rival 1 from rival 2
    np.testing.assert_allclose(blocks[0, 2 : 2 + 3], [1.0, 1.0, 1.0])  # only the total (3) shows

    # Control: with full distinguishability the same rivals look different.
    clear = _two_rivals_same_total_different_mix(1.0, 0.0)
    observations = core.observe(clear, make_state(clear, [1.0, 1.0, 1.0], stocks), np.random.default_rng(0))
    blocks = observation_layout(clear).rival_blocks(observations)[0, 0]
    assert not np.array_equal(blocks[0], blocks[1])


def test_zero_distinguishability_hides_the_mix_under_noise_for_the_same_seed():
    defensive = [[1.0, 1.0, 1.0], [3.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
    offensive = [[1.0, 1.0, 1.0], [0.0, 0.0, 3.0], [1.0, 1.0, 1.0]]
    for seed in range(5):
        params = _two_rivals_same_total_different_mix(0.0, 0.7)
        seen_defensive = core.observe(params, make_state(params, [1.0] * 3, defensive), np.random.default_rng(seed))
        seen_offensive = core.observe(params, make_state(params, [1.0] * 3, offensive), np.random.default_rng(seed))
        # Observers 0 and 2 see state 1; their whole observations are identical draw for draw.
        np.testing.assert_array_equal(seen_defensive[:, [0, 2]], seen_offensive[:, [0, 2]])
        # State 1 itself knows its own mix.
        assert not np.array_equal(seen_defensive[:, 1], seen_offensive[:, 1])

        clear = _two_rivals_same_total_different_mix(0.5, 0.7)
        seen_defensive = core.observe(clear, make_state(clear, [1.0] * 3, defensive), np.random.default_rng(seed))
        seen_offensive = core.observe(clear, make_state(clear, [1.0] * 3, offensive), np.random.default_rng(seed))
        assert not np.array_equal(seen_defensive[:, 0], seen_offensive[:, 0])


def test_partial_distinguishability_blurs_the_mix_towards_the_average():
    stocks = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 2.0]])  # state 1: all armour, offence share 1
    mean_weight = float(np.mean(EnvParams().weapon_offense_weights))
    shares = []
    for d in (0.0, 0.25, 0.5, 0.75, 1.0):
        params = calm_params(distinguishability=d)
        np.testing.assert_allclose(core.confusion_matrix(params).sum(axis=1), 1.0)
        seen = rival_view(params, core.observe(params, make_state(params, [1.0, 1.0], stocks),
                                               np.random.default_rng(0)), 0, 1)
        assert seen.sum() == pytest.approx(2.0)  # the total is always seen
        shares.append(float(offence_share(params, seen)))
        assert shares[-1] == pytest.approx(d * 1.0 + (1 - d) * mean_weight)
    assert all(low < high for low, high in zip(shares, shares[1:]))


def test_zero_observation_noise_gives_exact_magnitudes():
    params = calm_params(n_states=3, observation_noise=0.0, distinguishability=1.0)
    stocks = np.random.default_rng(2).uniform(0.0, 5.0, (3, 3))
    observations = core.observe(params, make_state(params, [1.0, 2.0, 3.0], stocks), np.random.default_rng(9))
    layout = observation_layout(params)
    np.testing.assert_array_equal(layout.rival_stocks(observations)[0, 1], stocks[[2, 0]].astype(np.float32))
    np.testing.assert_array_equal(observations[0, 1, layout.own_stocks], stocks[1].astype(np.float32))
    np.testing.assert_array_equal(layout.rival_flag(observations, "wealth")[0, 1], np.float32([3.0, 1.0]))


def test_larger_observation_noise_gives_larger_dispersion_with_mean_one():
    batch = 4000
    stocks = np.ones((batch, 2, 3))
    spreads = []
    for sigma in (0.05, 0.2, 0.5, 1.0):
        params = calm_params(observation_noise=sigma, distinguishability=1.0)
        seen = core.apparent_stocks(params, stocks, np.random.default_rng(3))
        assert seen.shape == (batch, 2, 2, 3) and (seen > 0).all()
        spread = float(np.log(seen).std())
        assert spread == pytest.approx(sigma, rel=0.05)
        if sigma <= 0.5:
            assert float(seen.mean()) == pytest.approx(1.0, abs=0.01)  # unbiased magnitudes
        spreads.append(spread)
        # Noise is independent for every observer, observed state and system.
        log_seen = np.log(seen)
        for first, second in [((0, 1, 0), (1, 1, 0)), ((0, 0, 0), (0, 1, 0)), ((0, 1, 0), (0, 1, 2))]:
            correlation = np.corrcoef(log_seen[(slice(None),) + first], log_seen[(slice(None),) + second])[0, 1]
            assert abs(correlation) < 0.07, (first, second, correlation)
    assert all(low < high for low, high in zip(spreads, spreads[1:]))


def test_weapon_visibility_hides_stock_from_rivals_only():
    stocks = [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
    params = calm_params(distinguishability=1.0, weapon_visibility=(1.0, 0.0, 0.5))
    observations = core.observe(params, make_state(params, [1.0, 1.0], stocks), np.random.default_rng(0))
    layout = observation_layout(params)
    np.testing.assert_array_equal(rival_view(params, observations, 0, 1), [2.0, 0.0, 1.0])
    np.testing.assert_array_equal(observations[0, 0, layout.own_stocks], [2.0, 2.0, 2.0])  # own stocks exact

    # Blurred types: only the visible total (3 of 6) is spread over the systems.
    blurred = params.replace(distinguishability=0.0)
    observations = core.observe(blurred, make_state(blurred, [1.0, 1.0], stocks), np.random.default_rng(0))
    np.testing.assert_allclose(rival_view(blurred, observations, 0, 1), [1.0, 1.0, 1.0])

    hidden = params.replace(weapon_visibility=(0.0, 0.0, 0.0), observation_noise=0.5)
    observations = core.observe(hidden, make_state(hidden, [1.0, 1.0], stocks), np.random.default_rng(0))
    assert (observation_layout(hidden).rival_stocks(observations) == 0.0).all()
    # Concealment is only in what rivals see: the true state still holds the stocks.
    np.testing.assert_array_equal(observations[0, 1, layout.own_stocks], [2.0, 2.0, 2.0])


# ---------------------------------------------------------------------------
# weapon_names, weapon_offense_weights, weapon_costs


def test_weapon_names_set_the_number_of_weapon_systems():
    names = ("walls", "artillery", "tanks", "drones")
    params = calm_params(weapon_names=names, weapon_offense_weights=(0.0, 0.5, 1.0, 0.8),
                         weapon_costs=(1.0,) * 4, weapon_visibility=(1.0,) * 4)
    assert params.n_systems == 4
    assert list(action_space(params).nvec) == [11, 5, 2]
    assert observation_space(params).shape == ((4 + 4) + (4 + 6),)
    state = core.reset(params.replace(initial_arms=0.8), 2, np.random.default_rng(0))
    assert state.stocks.shape == (2, 2, 4)
    np.testing.assert_allclose(state.stocks, 0.2)  # 0.8 of wealth 1 spread over four systems
    # Procurement index 4 (= K) spreads evenly over the four systems; index 3 buys drones only.
    start = make_state(params, [1.0, 1.0], [[0.0] * 4, [0.0] * 4])
    after, _ = step_once(params, start, {0: (10, 4, 0), 1: (10, 3, 0)})
    np.testing.assert_allclose(after.stocks[0, 0], [0.125] * 4)
    np.testing.assert_allclose(after.stocks[0, 1], [0.0, 0.0, 0.0, 0.5])
    with pytest.raises(ValueError, match="weapon_offense_weights"):
        calm_params(weapon_names=names)  # three weights for four systems


def test_weapon_offense_weights_split_stocks_into_offence_and_defence():
    params = calm_params(weapon_names=("a", "b"), weapon_offense_weights=(0.2, 0.8),
                         weapon_costs=(1.0, 1.0), weapon_visibility=(1.0, 1.0), territorial_defense=0.0)
    stocks = np.array([[1.0, 2.0], [3.0, 0.0]])
    np.testing.assert_allclose(core.offense(params, stocks), [0.2 + 1.6, 0.6])
    np.testing.assert_allclose(core.arms_defense(params, stocks), [0.8 + 0.4, 2.4])
    np.testing.assert_allclose(core.offense(params, stocks) + core.arms_defense(params, stocks), stocks.sum(1))

    # The same stocks fight differently when the systems' true weights change.
    _, outcome = step_once(params, make_state(params, [1.0, 1.0], stocks), {0: (0, 2, 1)})
    swapped = params.replace(weapon_offense_weights=(0.8, 0.2))
    _, swapped_outcome = step_once(swapped, make_state(swapped, [1.0, 1.0], stocks), {0: (0, 2, 1)})
    assert float(outcome.success_probability[0, 0, 1]) == pytest.approx(1.8**2 / (1.8**2 + 2.4**2))
    assert float(swapped_outcome.success_probability[0, 0, 1]) == pytest.approx(1.2**2 / (1.2**2 + 0.6**2))
    global_state = core.global_state(params, make_state(params, [1.0, 1.0], stocks))[0]
    per_state = global_state[: 2 * (2 + 6)].reshape(2, 2 + 6)
    np.testing.assert_allclose(per_state[:, -3], [1.8, 0.6], rtol=1e-6)  # true offence in the global state


def test_weapon_costs_divide_spending_into_units():
    params = calm_params(weapon_costs=(1.0, 2.0, 4.0), max_burden=0.5)
    start = make_state(params, [2.0, 2.0], [[0.0] * 3, [0.0] * 3])
    after, outcome = step_once(params, start, {0: (10, 3, 0), 1: (10, ARMOUR, 0)})
    np.testing.assert_allclose(outcome.spending[0], [1.0, 1.0])
    np.testing.assert_allclose(after.stocks[0, 0], [1.0 / 3.0, 1.0 / 6.0, 1.0 / 12.0])
    np.testing.assert_allclose(after.stocks[0, 1], [0.0, 0.0, 0.25])
    cheap = params.replace(weapon_costs=(1.0, 1.0, 0.5))
    after, _ = step_once(cheap, start, {1: (10, ARMOUR, 0)})
    np.testing.assert_allclose(after.stocks[0, 1], [0.0, 0.0, 2.0])


# ---------------------------------------------------------------------------
# depreciation, growth_rate, initial conditions, burden


def test_depreciation_shrinks_stocks_each_year():
    stocks = [[1.0, 2.0, 4.0], [0.5, 0.5, 0.5]]
    for rate in (0.0, 0.1, 0.25, 1.0):
        params = calm_params(depreciation=rate)
        after, _ = step_once(params, make_state(params, [1.0, 1.0], stocks))
        np.testing.assert_allclose(after.stocks[0], np.asarray(stocks) * (1.0 - rate))
    # With total depreciation only this year's purchases remain.
    params = calm_params(depreciation=1.0)
    after, _ = step_once(params, make_state(params, [1.0, 1.0], stocks), {0: (10, FORTIFICATIONS, 0)})
    np.testing.assert_allclose(after.stocks[0, 0], [0.5, 0.0, 0.0])


def test_growth_rate_scales_wealth_each_year():
    for rate in (-0.5, -0.1, 0.0, 0.03, 0.5):
        params = calm_params(growth_rate=rate)
        state = make_state(params, [1.0, 2.5], [[0.1] * 3] * 2)
        after, _ = step_once(params, state, {0: (10, 3, 0)})  # spending is out of output, not of wealth
        np.testing.assert_allclose(after.wealth[0], [1.0 * (1 + rate), 2.5 * (1 + rate)])


def test_growth_rate_per_state_shifts_power():
    params = calm_params(n_states=3, growth_rate=(0.0, 0.05, -0.02))
    assert params.growth_rate == (0.0, 0.05, -0.02)
    state = make_state(params, [1.0, 2.0, 3.0], [[0.1] * 3] * 3)
    after, _ = step_once(params, state, {0: (10, 3, 0)})
    np.testing.assert_allclose(after.wealth[0], [1.0, 2.0 * 1.05, 3.0 * 0.98])
    np.testing.assert_allclose(after.home_wealth[0], after.wealth[0])  # home wealth grows at the same rate
    # One number is every state's rate, stored per state; a common rate stays common for another state count.
    assert calm_params(n_states=3, growth_rate=0.02).growth_rate == (0.02,) * 3
    assert calm_params(growth_rate=0.02).replace(n_states=4).growth_rate == (0.02,) * 4
    with pytest.raises(ValueError, match=r"growth_rate must be one number or 3 numbers \(one per state\)"):
        calm_params(n_states=3, growth_rate=(0.01, 0.02))
    with pytest.raises(ValueError, match=r"growth_rate\[1\] must be in \[-0.5, 0.5\], got 0.7"):
        calm_params(growth_rate=(0.01, 0.7))


def test_initial_wealth_sets_starting_wealth_per_state():
    params = calm_params(n_states=3, initial_wealth=(0.5, 1.0, 4.0))
    assert params.initial_wealth == (0.5, 1.0, 4.0)
    state = core.reset(params, 5, np.random.default_rng(0))
    np.testing.assert_array_equal(state.wealth, np.tile([0.5, 1.0, 4.0], (5, 1)))
    np.testing.assert_array_equal(state.initial_wealth, state.wealth)
    uniform = calm_params(n_states=3, initial_wealth=2.0)
    assert uniform.initial_wealth == (2.0, 2.0, 2.0)
    np.testing.assert_array_equal(core.reset(uniform, 2, np.random.default_rng(0)).wealth, 2.0)


def test_initial_wealth_jitter_spreads_starting_wealth():
    params = calm_params(initial_wealth=2.0, initial_wealth_jitter=0.5)
    wealth = core.reset(params, 3000, np.random.default_rng(1)).wealth
    assert wealth.min() >= 1.0 and wealth.max() <= 3.0
    assert wealth.min() < 1.05 and wealth.max() > 2.95
    assert float(wealth.mean()) == pytest.approx(2.0, abs=0.03)
    assert float(np.corrcoef(wealth[:, 0], wealth[:, 1])[0, 1]) == pytest.approx(0.0, abs=0.1)
    exact = core.reset(params.replace(initial_wealth_jitter=0.0), 10, np.random.default_rng(1)).wealth
    np.testing.assert_array_equal(exact, 2.0)


def test_initial_arms_are_a_multiple_of_wealth_spread_evenly():
    params = calm_params(initial_arms=0.6, initial_wealth_jitter=0.3)
    state = core.reset(params, 50, np.random.default_rng(2))
    np.testing.assert_allclose(state.stocks, np.repeat(state.wealth[:, :, None] * 0.2, 3, axis=2))
    np.testing.assert_allclose(state.stocks.sum(axis=2), 0.6 * state.wealth)
    unarmed = core.reset(params.replace(initial_arms=0.0), 5, np.random.default_rng(2))
    assert (unarmed.stocks == 0.0).all()


def test_max_burden_is_the_top_burden_level():
    for top in (0.1, 0.3, 0.9):
        params = calm_params(max_burden=top)
        after, outcome = step_once(params, make_state(params, [2.0, 2.0], [[0.0] * 3] * 2),
                                   {0: (10, 3, 0), 1: (5, 3, 0)})
        np.testing.assert_allclose(outcome.burden[0], [top, top / 2])
        np.testing.assert_allclose(outcome.spending[0], [2 * top, top])
        np.testing.assert_allclose(outcome.consumption[0], [2 * (1 - top), 2 - top])
        np.testing.assert_allclose(outcome.welfare[0], np.log1p([2 * (1 - top), 2 - top]))
        np.testing.assert_allclose(outcome.rewards[0], outcome.welfare[0])
        np.testing.assert_allclose(after.stocks[0].sum(axis=1), [2 * top, top])


def test_burden_levels_are_evenly_spaced_up_to_max_burden():
    params = calm_params(burden_levels=5, max_burden=0.4)
    assert action_space(params).nvec[0] == 5
    np.testing.assert_allclose(core.burden_of_level(params, np.arange(5)), [0.0, 0.1, 0.2, 0.3, 0.4])
    _, outcome = step_once(params, make_state(params, [1.0, 1.0], [[0.0] * 3] * 2), {0: (3, 3, 0), 1: (4, 3, 0)})
    np.testing.assert_allclose(outcome.burden[0], [0.3, 0.4])
    with pytest.raises(ValueError, match="state_0"):
        step_once(params, make_state(params, [1.0, 1.0], [[0.0] * 3] * 2), {0: (5, 3, 0)})


# ---------------------------------------------------------------------------
# War: territorial_defense, conquest_share, war_cost, war_attrition


def test_territorial_defense_protects_the_homeland():
    stocks = [ATTACKER_STOCKS, DEFENCELESS]
    probability = {}
    for tau in (0.0, 0.5, 2.0):
        params = calm_params(territorial_defense=tau)
        _, outcome = step_once(params, make_state(params, [1.0, 1.0], stocks), {0: (0, 3, 1)})
        probability[tau] = float(outcome.success_probability[0, 0, 1])
        assert probability[tau] == pytest.approx(1.0 / (1.0 + tau**2))
        defence = core.global_state(params, make_state(params, [1.0, 3.0], stocks))[0, 9 + 7]
        assert defence == pytest.approx(3.0 * tau)  # state 1's total defence: territory only
    assert probability[0.0] == 1.0 > probability[0.5] > probability[2.0]
    # A richer homeland is harder to take.
    params = calm_params(territorial_defense=0.5)
    _, poor = step_once(params, make_state(params, [1.0, 1.0], stocks), {0: (0, 3, 1)})
    _, rich = step_once(params, make_state(params, [1.0, 4.0], stocks), {0: (0, 3, 1)})
    assert rich.success_probability[0, 0, 1] < poor.success_probability[0, 0, 1]


def test_conquest_share_moves_wealth_to_the_victor():
    for share in (0.0, 0.3, 1.0):
        params = calm_params(conquest_share=share, territorial_defense=0.0)
        after, outcome = step_once(params, make_state(params, [1.0, 2.0], [ATTACKER_STOCKS, DEFENCELESS]),
                                   {0: (0, 3, 1)})
        assert outcome.victories[0, 0, 1]
        np.testing.assert_allclose(after.wealth[0], [1.0 + 2.0 * share, 2.0 * (1.0 - share)])
        assert after.wealth[0].sum() == pytest.approx(3.0)  # no war cost, no growth: wealth moves only
    # A failed attack takes nothing.
    params = calm_params(conquest_share=0.5)
    after, outcome = step_once(params, make_state(params, [1.0, 2.0], [HARMLESS, DEFENCELESS]), {0: (0, 3, 1)})
    assert outcome.attacks[0, 0, 1] and not outcome.victories[0, 0, 1]
    np.testing.assert_allclose(after.wealth[0], [1.0, 2.0])


def test_conquest_share_with_two_victors():
    params = calm_params(n_states=3, conquest_share=0.5, territorial_defense=0.0)
    state = make_state(params, [1.0, 1.0, 4.0], [ATTACKER_STOCKS, ATTACKER_STOCKS, DEFENCELESS])
    after, outcome = step_once(params, state, {0: (0, 3, 2), 1: (0, 3, 1)})  # both attack state 2
    assert outcome.victories[0, 0, 2] and outcome.victories[0, 1, 2]
    # The victim loses 1 - (1 - 0.5)^2 = 3/4 of its wealth, shared equally.
    np.testing.assert_allclose(after.wealth[0], [1.0 + 1.5, 1.0 + 1.5, 1.0])


def test_war_cost_destroys_wealth_of_every_party_only():
    for cost in (0.0, 0.1, 0.5):
        params = calm_params(n_states=3, war_cost=cost)
        state = make_state(params, [1.0, 2.0, 3.0], [HARMLESS, HARMLESS, HARMLESS])
        after, outcome = step_once(params, state, {0: (0, 3, 1)})  # a failed attack is still a war
        assert outcome.attacks[0, 0, 1] and not outcome.victories[0].any()
        np.testing.assert_allclose(after.wealth[0], [1.0 * (1 - cost), 2.0 * (1 - cost), 3.0])
    # A state in two wars pays twice.
    params = calm_params(n_states=3, war_cost=0.1)
    state = make_state(params, [1.0, 2.0, 3.0], [HARMLESS, HARMLESS, HARMLESS])
    after, _ = step_once(params, state, {0: (0, 3, 1), 2: (0, 3, 2)})  # 0 attacks 1, 2 attacks 1
    np.testing.assert_allclose(after.wealth[0], [0.9, 2.0 * 0.81, 2.7])


def test_war_attrition_destroys_arms_of_every_party_only():
    stocks = np.array([HARMLESS, [1.0, 1.0, 1.0], [2.0, 0.0, 0.0]])
    for attrition in (0.0, 0.2, 1.0):
        params = calm_params(n_states=3, war_attrition=attrition)
        after, _ = step_once(params, make_state(params, [1.0] * 3, stocks), {0: (0, 3, 1)})
        np.testing.assert_allclose(after.stocks[0, :2], stocks[:2] * (1 - attrition))
        np.testing.assert_allclose(after.stocks[0, 2], stocks[2])
    # Attrition applies to the stocks fought with; purchases arrive afterwards, untouched.
    params = calm_params(n_states=3, war_attrition=1.0)
    after, _ = step_once(params, make_state(params, [1.0] * 3, stocks), {0: (10, FORTIFICATIONS, 1)})
    np.testing.assert_allclose(after.stocks[0, 0], [0.5, 0.0, 0.0])


# ---------------------------------------------------------------------------
# Elimination


def test_elimination_threshold_eliminates_and_the_victor_annexes_the_remnant():
    params = calm_params(conquest_share=0.9, territorial_defense=0.0, elimination_threshold=0.2)
    state = make_state(params, [1.0, 1.0], [ATTACKER_STOCKS, [0.0, 0.0, 0.5]])
    after, outcome = step_once(params, state, {0: (0, 3, 1)})
    assert outcome.victories[0, 0, 1] and outcome.eliminated[0].tolist() == [False, True]
    assert after.alive[0].tolist() == [True, False]
    # The victim keeps 0.1 < 0.2 of its initial wealth; the victor takes 0.9 and annexes the 0.1 left.
    np.testing.assert_allclose(after.wealth[0], [2.0, 0.0])
    assert (after.stocks[0, 1] == 0.0).all()

    lenient = params.replace(elimination_threshold=0.05)
    after, outcome = step_once(lenient, state, {0: (0, 3, 1)})
    assert not outcome.eliminated.any() and after.alive.all()
    np.testing.assert_allclose(after.wealth[0], [1.9, 0.1])

    # Two victors share the remnant equally, as they share the spoils.
    three = calm_params(n_states=3, conquest_share=0.5, territorial_defense=0.0, elimination_threshold=0.5)
    state3 = make_state(three, [1.0, 1.0, 4.0], [ATTACKER_STOCKS, ATTACKER_STOCKS, DEFENCELESS])
    after3, outcome3 = step_once(three, state3, {0: (0, 3, 2), 1: (0, 3, 1)})
    assert outcome3.eliminated[0].tolist() == [False, False, True]
    # Victim keeps 4 * 0.25 = 1 < 0.5 * 4; each victor gets 1.5 in spoils and 0.5 of the remnant.
    np.testing.assert_allclose(after3.wealth[0], [3.0, 3.0, 0.0])

    # The eliminated state stays out: its actions are ignored and it never revives.
    params = params.replace(growth_rate=0.5)
    later, _ = step_once(params, state, {0: (0, 3, 1)})
    for year in range(3):
        later, outcome = step_once(params, later, {1: (10, 3, 1)}, seed=year)
        assert later.alive[0].tolist() == [True, False]
        assert not outcome.attacks.any() and later.wealth[0, 1] == 0.0
        assert outcome.burden[0, 1] == 0.0 and outcome.spending[0, 1] == 0.0 and outcome.rewards[0, 1] == 0.0


def test_elimination_without_conquest_destroys_the_remnant():
    params = calm_params(growth_rate=-0.5, elimination_threshold=0.6)
    after, outcome = step_once(params, make_state(params, [1.0, 1.0], [[0.1] * 3] * 2))
    assert outcome.eliminated[0].all() and not after.alive.any()
    assert after.wealth.sum() == 0.0 and after.stocks.sum() == 0.0
    survivable = params.replace(elimination_threshold=0.4)
    after, outcome = step_once(survivable, make_state(survivable, [1.0, 1.0], [[0.1] * 3] * 2))
    assert not outcome.eliminated.any()


def test_elimination_is_relative_to_initial_wealth():
    params = calm_params(elimination_threshold=0.3)
    state = make_state(params, [1.0, 1.0], [[0.1] * 3] * 2, initial_wealth=[1.0, 4.0])
    _, outcome = step_once(params, state)
    assert outcome.eliminated[0].tolist() == [False, True]  # 1.0 < 0.3 * 4.0


def test_elimination_penalty_is_paid_once_in_the_year_of_elimination():
    state_args = dict(wealth=[1.0, 1.0], stocks=[ATTACKER_STOCKS, DEFENCELESS])
    rewards = {}
    for penalty in (0.0, 10.0):
        params = calm_params(conquest_share=0.9, territorial_defense=0.0, elimination_threshold=0.2,
                             elimination_penalty=penalty)
        after, outcome = step_once(params, make_state(params, **state_args), {0: (0, 3, 1)})
        assert outcome.eliminated[0, 1]
        rewards[penalty] = outcome.rewards[0]
        np.testing.assert_allclose(outcome.rewards[0, 1], outcome.welfare[0, 1] - penalty)
        _, next_outcome = step_once(params, after)
        assert next_outcome.rewards[0, 1] == 0.0  # the eliminated earn nothing after
    assert rewards[0.0][1] - rewards[10.0][1] == pytest.approx(10.0)
    assert rewards[0.0][0] == rewards[10.0][0]  # the victor is not penalised


# ---------------------------------------------------------------------------
# Types: greedy_prior, greed_bonus


def test_greedy_prior_is_the_frequency_of_greedy_types():
    for prior in (0.0, 0.25, 0.7, 1.0):
        params = EnvParams(greedy_prior=prior)
        greedy = core.reset(params, 5000, np.random.default_rng(4)).greedy
        tolerance = 4 * math.sqrt(prior * (1 - prior) / greedy.size)
        assert float(greedy.mean()) == pytest.approx(prior, abs=tolerance)
    # Types are private: a state sees its own type and nothing of its rival's.
    params = calm_params()
    layout = observation_layout(params)
    state = make_state(params, [1.0, 1.0], [[0.1] * 3] * 2, greedy=[True, False])
    observations = core.observe(params, state, np.random.default_rng(0))
    assert observations[0, 0, layout.own_greedy] == 1.0 and observations[0, 1, layout.own_greedy] == 0.0
    flipped = make_state(params, [1.0, 1.0], [[0.1] * 3] * 2, greedy=[True, True])
    np.testing.assert_array_equal(observations[0, 0], core.observe(params, flipped, np.random.default_rng(0))[0, 0])


def test_greed_bonus_rewards_only_greedy_winners():
    stocks = [ATTACKER_STOCKS, ATTACKER_STOCKS, DEFENCELESS]
    for bonus in (0.5, 3.0):
        params = calm_params(n_states=3, territorial_defense=0.0, greed_bonus=bonus)
        state = make_state(params, [1.0, 1.0, 1.0], stocks, greedy=[True, False, True])
        # Greedy 0 beats 1; security seeker 1 beats 2; greedy 2 (no offence) fails against 0.
        _, outcome = step_once(params, state, {0: (0, 3, 1), 1: (0, 3, 1), 2: (0, 3, 1)})
        assert outcome.victories[0].sum(axis=1).tolist() == [1, 1, 0]
        np.testing.assert_allclose(outcome.rewards[0] - outcome.welfare[0], [bonus, 0.0, 0.0])


def test_seeker_conquest_value_weighs_a_security_seekers_conquered_wealth():
    # Both states hold wealth 1.6 of which 1.0 is home wealth (0.6 was conquered): the 0.6 counts in full for
    # the greedy state 0 and at seeker_conquest_value for the security seeker 1; welfare counts all of it.
    burden_level = 2  # burden 0.1
    for value in (0.0, 0.5, 1.0):
        params = calm_params(seeker_conquest_value=value)
        state = make_state(params, [1.6, 1.6], [DEFENCELESS] * 2, greedy=[True, False], home_wealth=[1.0, 1.0])
        _, outcome = step_once(params, state, {0: (burden_level, 0, 0), 1: (burden_level, 0, 0)})
        np.testing.assert_allclose(outcome.welfare[0], np.log1p([0.9 * 1.6, 0.9 * 1.6]))
        np.testing.assert_allclose(outcome.rewards[0, 0], np.log1p(0.9 * 1.6))
        np.testing.assert_allclose(outcome.rewards[0, 1], np.log1p(0.9 * (1.0 + value * 0.6)))
    # So a war of conquest pays a greedy state, while a pure security seeker pays its war costs for nothing:
    # the spoils never repay the damage to its home economy.
    params = calm_params(territorial_defense=0.0, conquest_share=0.5, war_cost=0.1)
    peaceful = 3 * np.log1p(1.0)
    for greedy in (True, False):
        state = make_state(params, [1.0, 1.0], [ATTACKER_STOCKS, DEFENCELESS], greedy=[greedy, False])
        total = 0.0
        for _ in range(3):
            state, outcome = step_once(params, state, {0: (0, 0, 1)})
            total += outcome.rewards[0, 0]
        if greedy:
            assert total > peaceful + 0.5
        else:
            # Years 2 and 3 are valued at home wealth 0.9 and 0.81 (10% lost in each war).
            assert total == pytest.approx(np.log1p(1.0) + np.log1p(0.9) + np.log1p(0.81))


def test_home_wealth_grows_and_suffers_war_like_wealth_but_never_gains_spoils():
    params = calm_params(n_states=3, territorial_defense=0.0, conquest_share=0.5, war_cost=0.1, growth_rate=0.1,
                         elimination_threshold=0.6)
    # State 0 beats state 1 (a certain win) and state 1 falls below the threshold: 0 annexes the remnant.
    state = make_state(params, [1.0, 1.0, 1.0], [ATTACKER_STOCKS, DEFENCELESS, DEFENCELESS],
                       home_wealth=[0.8, 1.0, 1.0])
    new_state, outcome = step_once(params, state, {0: (0, 0, 1)})
    assert outcome.eliminated[0].tolist() == [False, True, False]
    remnant = 1.0 * 0.5 * 0.9 * 1.1
    np.testing.assert_allclose(new_state.wealth[0], [(0.9 + 0.5) * 1.1 + remnant, 0.0, 1.1])
    # Home wealth: the war cost and growth apply, the spoils and the annexed remnant do not.
    np.testing.assert_allclose(new_state.home_wealth[0], [0.8 * 0.9 * 1.1, 0.0, 1.1])
    assert (core.reset(params, 4, np.random.default_rng(0)).home_wealth
            == core.reset(params, 4, np.random.default_rng(0)).wealth).all()


# ---------------------------------------------------------------------------
# Alliances: alliances, alliance_blocs, renege_cost


def _alliance_setting(**changes):
    """Three states: 0 attacks 1; 2 is committed to defend 1 (rival 2 of state 2 is state 1)."""
    params = calm_params(n_states=3, alliances=True, territorial_defense=0.5, war_cost=0.1,
                         war_attrition=0.25, **changes)
    commitments = np.zeros((3, 3), dtype=bool)
    commitments[2, 1] = True
    stocks = [[0.0, 0.0, 2.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]
    state = make_state(params, [1.0, 1.0, 1.0], stocks, commitments=commitments)
    keep = {0: (0, 3, 1, 0, 0), 2: (0, 3, 0, 0, 1)}
    abandon = {0: (0, 3, 1, 0, 0), 2: (0, 3, 0, 0, 0)}
    return params, state, keep, abandon


def test_alliances_add_commitment_flags_to_the_action():
    assert list(action_space(calm_params(n_states=4)).nvec) == [11, 4, 4]
    params = calm_params(n_states=4, alliances=True)
    assert list(action_space(params).nvec) == [11, 4, 4, 2, 2, 2]
    with pytest.raises(ValueError, match="shape"):
        core.step(calm_params(n_states=4), core.reset(calm_params(n_states=4), 1, np.random.default_rng(0)),
                  actions(params), np.random.default_rng(0))


def test_committed_ally_joins_the_defence_and_is_entrapped():
    params, state, keep, abandon = _alliance_setting()
    after_keep, kept = step_once(params, state, keep)
    after_abandon, abandoned = step_once(params, state, abandon)
    assert kept.joins[0, 2, 1] and kept.joins[0].sum() == 1 and not kept.reneges.any()
    assert abandoned.reneges[0, 2, 1] and not abandoned.joins.any()
    # The ally's arms defence (1 + 0.5) joins the victim's (1 + territory 0.5).
    offence = 2.0
    assert float(kept.success_probability[0, 0, 1]) == pytest.approx(offence**2 / (offence**2 + 3.0**2))
    assert float(abandoned.success_probability[0, 0, 1]) == pytest.approx(offence**2 / (offence**2 + 1.5**2))
    assert kept.success_probability[0, 0, 1] < abandoned.success_probability[0, 0, 1]
    # Entrapment: the ally pays the war's costs in wealth and arms; reneging spares it.
    assert after_keep.wealth[0, 2] == pytest.approx(0.9)
    np.testing.assert_allclose(after_keep.stocks[0, 2], [0.75, 0.75, 0.0])
    assert after_abandon.wealth[0, 2] == pytest.approx(1.0)
    np.testing.assert_allclose(after_abandon.stocks[0, 2], [1.0, 1.0, 0.0])
    # Without alliances nobody joins and nothing is owed.
    no_alliance = params.replace(alliances=False)
    plain = make_state(no_alliance, [1.0] * 3, state.stocks[0])
    _, alone = step_once(no_alliance, plain, {0: (0, 3, 1)})
    assert not alone.joins.any() and not alone.reneges.any()
    assert alone.success_probability[0, 0, 1] == pytest.approx(abandoned.success_probability[0, 0, 1])


def test_new_commitments_come_into_force_next_year():
    params, state, keep, _ = _alliance_setting()
    layout = observation_layout(params)
    uncommitted = make_state(params, [1.0] * 3, state.stocks[0])
    # State 2 commits to state 1 in the very year 1 is attacked: too late to help this year.
    after, outcome = step_once(params, uncommitted, keep)
    assert not outcome.joins.any() and not outcome.reneges.any()
    assert after.commitments[0].tolist() == [[False] * 3, [False] * 3, [False, True, False]]
    observations = core.observe(params, after, np.random.default_rng(0))
    # State 1 sees rival 1 (state 2) committed to it; state 2 sees its own commitment to rival 2 (state 1).
    assert layout.rival_flag(observations, "committed_to_me")[0, 1].tolist() == [1.0, 0.0]
    assert layout.rival_flag(observations, "my_commitment")[0, 2].tolist() == [0.0, 1.0]
    assert layout.rival_flag(observations, "attacked_me")[0, 1].tolist() == [0.0, 1.0]  # rival 2 of 1 is 0
    # Next year the commitment holds and the ally joins.
    _, next_outcome = step_once(params, after, keep)
    assert next_outcome.joins[0, 2, 1]


def test_alliance_blocs_commit_members_to_each_other_at_reset():
    params = EnvParams(n_states=5, alliances=True, alliance_blocs=((0, 1), (2, 3, 4)))
    commitments = core.reset(params, 2, np.random.default_rng(0)).commitments
    expected = np.zeros((5, 5), dtype=bool)
    for bloc in ((0, 1), (2, 3, 4)):
        for i in bloc:
            for j in bloc:
                expected[i, j] = i != j
    for b in range(2):
        np.testing.assert_array_equal(commitments[b], expected)
    assert not core.reset(EnvParams(n_states=5, alliances=True), 1, np.random.default_rng(0)).commitments.any()
    # The pre-1914 scenario's blocs show in the first observation.
    pre_1914 = make_params("pre-1914")
    observations = core.observe(pre_1914, core.reset(pre_1914, 1, np.random.default_rng(0)), np.random.default_rng(0))
    layout = observation_layout(pre_1914)
    assert layout.rival_flag(observations, "committed_to_me")[0, 0].tolist() == [1.0, 0.0, 0.0]
    assert layout.rival_flag(observations, "my_commitment")[0, 2].tolist() == [1.0, 0.0, 0.0]


def test_overlapping_alliance_blocs_make_a_hub_of_bilateral_alliances():
    """A state in two blocs is committed to both partners, who are not committed to each other (hub and
    spoke, as the United States with South Korea and with Japan)."""
    params = EnvParams(n_states=4, alliances=True, alliance_blocs=((0, 1), (0, 2)))
    commitments = core.reset(params, 1, np.random.default_rng(0)).commitments[0]
    pairs = {(int(h), int(j)) for h, j in zip(*np.nonzero(commitments))}
    assert pairs == {(0, 1), (1, 0), (0, 2), (2, 0)}
    with pytest.raises(ValueError, match="must not repeat a state within a bloc"):
        EnvParams(n_states=4, alliances=True, alliance_blocs=((0, 1, 0),))


def test_renege_cost_charges_an_ally_who_abandons_an_attacked_ally():
    rewards = {}
    for cost in (0.0, 3.0):
        params, state, keep, abandon = _alliance_setting(renege_cost=cost)
        _, abandoned = step_once(params, state, abandon)
        assert abandoned.reneges[0, 2, 1] and not abandoned.joins.any()
        np.testing.assert_allclose(abandoned.rewards[0, 2], abandoned.welfare[0, 2] - cost)
        rewards[cost] = abandoned.rewards[0]
        _, kept = step_once(params, state, keep)
        np.testing.assert_allclose(kept.rewards[0], kept.welfare[0])  # keeping faith costs no reward
    assert rewards[0.0][2] - rewards[3.0][2] == pytest.approx(3.0)
    np.testing.assert_array_equal(rewards[0.0][:2], rewards[3.0][:2])
    # Withdrawing a commitment in a year of peace is not reneging.
    params, state, _, _ = _alliance_setting(renege_cost=3.0)
    after, peaceful = step_once(params, state, {2: (0, 3, 0, 0, 0)})
    assert not peaceful.reneges.any() and not after.commitments.any()
    np.testing.assert_allclose(peaceful.rewards[0], peaceful.welfare[0])


# ---------------------------------------------------------------------------
# surprise_deployment


def test_surprise_deployment_arrives_free_in_its_year():
    params = calm_params(depreciation=0.1, weapon_visibility=(1.0, 1.0, 0.0), distinguishability=1.0,
                         surprise_deployment=(1, ARMOUR, 1.5, 3))
    stocks = [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    for year in (2, 4):
        after, _ = step_once(params, make_state(params, [1.0, 1.0], stocks, year=year))
        np.testing.assert_allclose(after.stocks[0], np.full((2, 3), 0.9))
    after, outcome = step_once(params, make_state(params, [1.0, 1.0], stocks, year=3))
    np.testing.assert_allclose(after.stocks[0], [[0.9, 0.9, 0.9], [0.9, 0.9, 0.9 + 1.5]])
    assert outcome.spending[0, 1] == 0.0 and after.wealth[0, 1] == 1.0  # at no cost
    # Hidden in a concealed system: the rival's view does not change, the owner's does.
    layout = observation_layout(params)
    quiet = params.replace(surprise_deployment=None)
    without, _ = step_once(quiet, make_state(quiet, [1.0, 1.0], stocks, year=3))
    seen_with = core.observe(params, after, np.random.default_rng(0))
    seen_without = core.observe(quiet, without, np.random.default_rng(0))
    np.testing.assert_allclose(layout.rival_stocks(seen_with)[0, 0], layout.rival_stocks(seen_without)[0, 0])
    assert seen_with[0, 1, layout.own_stocks][ARMOUR] == pytest.approx(2.4)
    # The deployment adds offence that the next year's war feels.
    _, war = step_once(params, after, {1: (0, 3, 1)})
    _, quiet_war = step_once(quiet, without, {1: (0, 3, 1)})
    assert war.success_probability[0, 1, 0] > quiet_war.success_probability[0, 1, 0]


# ---------------------------------------------------------------------------
# The batch


def test_batch_rows_are_independent():
    params = calm_params(n_states=3, conquest_share=0.3, war_cost=0.05, war_attrition=0.2, observation_noise=0.3,
                         territorial_defense=0.5)
    state = core.reset(params, 2, np.random.default_rng(0))
    base = actions(params, {0: (5, 3, 1), 1: (10, ARMOUR, 2), 2: (2, 0, 0)}, batch=2)
    changed = base.copy()
    changed[0] = [[10, 0, 2], [0, 1, 0], [7, 3, 1]]
    after_base, outcome_base = core.step(params, state, base, np.random.default_rng(42))
    after_changed, outcome_changed = core.step(params, state, changed, np.random.default_rng(42))
    for name in core.CoreState._fields:
        np.testing.assert_array_equal(getattr(after_base, name)[1], getattr(after_changed, name)[1], err_msg=name)
    for name in core.StepOutcome._fields:
        np.testing.assert_array_equal(getattr(outcome_base, name)[1], getattr(outcome_changed, name)[1],
                                      err_msg=name)
    # Row 0 did change, so the comparison above is not vacuous.
    assert not np.array_equal(outcome_base.spending[0], outcome_changed.spending[0])
    np.testing.assert_array_equal(core.observe(params, after_base, np.random.default_rng(1))[1],
                                  core.observe(params, after_changed, np.random.default_rng(1))[1])


def test_batch_rows_draw_independently():
    # Many copies of one even war (offence 1 against defence 1): each row draws its own outcome.
    params = calm_params(territorial_defense=0.0)
    copies = 400
    state = make_state(params, [1.0, 1.0], [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    batch = core.CoreState(**{name: np.repeat(getattr(state, name), copies, axis=0)
                              for name in core.CoreState._fields})
    _, outcome = core.step(params, batch, actions(params, {0: (0, 3, 1)}, batch=copies), np.random.default_rng(8))
    np.testing.assert_allclose(outcome.success_probability[:, 0, 1], 0.5)
    assert 0.4 < float(outcome.victories[:, 0, 1].mean()) < 0.6
    # Resets draw wealth and types row by row too.
    reset = core.reset(EnvParams(greedy_prior=0.5), copies, np.random.default_rng(8))
    assert len(np.unique(reset.wealth[:, 0])) == copies
    assert 0.4 < float(reset.greedy.mean()) < 0.6


def test_step_does_not_modify_its_inputs():
    params = calm_params(n_states=3, war_cost=0.1, war_attrition=0.2, depreciation=0.1)
    state = core.reset(params, 2, np.random.default_rng(0))
    copies = {name: getattr(state, name).copy() for name in core.CoreState._fields}
    chosen = actions(params, {0: (5, 3, 1), 1: (10, 2, 1)}, batch=2)
    chosen_copy = chosen.copy()
    core.step(params, state, chosen, np.random.default_rng(0))
    for name, array in copies.items():
        np.testing.assert_array_equal(getattr(state, name), array, err_msg=name)
    np.testing.assert_array_equal(chosen, chosen_copy)


# ---------------------------------------------------------------------------
# Bad input: every invalid parameter raises ValueError naming the parameter and the value.

BAD_PARAMETERS = [
    ("n_states", 1),
    ("n_states", 65),
    ("n_states", 2.0),
    ("n_states", True),
    ("max_cycles", 0),
    ("max_cycles", -5),
    ("max_cycles", 10.5),
    ("max_cycles", True),
    ("offense_defense_balance", 0.0),
    ("offense_defense_balance", -1.0),
    ("offense_defense_balance", 100.5),
    ("offense_defense_balance", float("nan")),
    ("offense_defense_balance", "3"),
    ("distinguishability", -0.01),
    ("distinguishability", 1.01),
    ("observation_noise", -0.1),
    ("observation_noise", 5.5),
    ("observation_noise", float("inf")),
    ("weapon_names", ()),
    ("weapon_names", "armour"),
    ("weapon_names", ("a", "a", "b")),
    ("weapon_names", ("a", "", "b")),
    ("weapon_offense_weights", (0.0, 0.5, 1.5)),
    ("weapon_offense_weights", (0.0, -0.5, 1.0)),
    ("weapon_offense_weights", (0.0, 1.0)),
    ("weapon_costs", (1.0, 0.0, 1.0)),
    ("weapon_costs", (1.0, -2.0, 1.0)),
    ("weapon_costs", (1.0, 1.0)),
    ("weapon_visibility", (1.0, 1.2, 1.0)),
    ("weapon_visibility", (-0.1, 1.0, 1.0)),
    ("weapon_visibility", 1.0),
    ("depreciation", -0.1),
    ("depreciation", 1.1),
    ("growth_rate", -0.6),
    ("growth_rate", (0.01, 0.02, 0.03)),
    ("growth_rate", 0.51),
    ("initial_wealth", 0.0),
    ("initial_wealth", -1.0),
    ("initial_wealth", (1.0, 1.0, 1.0)),
    ("initial_wealth", (1.0, -2.0)),
    ("initial_wealth_jitter", -0.1),
    ("initial_wealth_jitter", 0.95),
    ("initial_arms", -0.5),
    ("initial_arms", 101.0),
    ("max_burden", 0.0),
    ("max_burden", 1.0),
    ("max_burden", -0.2),
    ("burden_levels", 1),
    ("burden_levels", 1002),
    ("burden_levels", 5.0),
    ("contest_decisiveness", 0.0),
    ("contest_decisiveness", 21.0),
    ("territorial_defense", -1.0),
    ("territorial_defense", 101.0),
    ("conquest_share", -0.1),
    ("conquest_share", 1.1),
    ("war_cost", 1.0),
    ("war_cost", -0.1),
    ("war_attrition", 1.5),
    ("war_attrition", -0.5),
    ("elimination_threshold", 1.0),
    ("elimination_threshold", -0.1),
    ("elimination_penalty", -1.0),
    ("elimination_penalty", 2e6),
    ("greedy_prior", 1.5),
    ("greedy_prior", -0.25),
    ("greed_bonus", -0.5),
    ("seeker_conquest_value", -0.1),
    ("seeker_conquest_value", 1.5),
    ("alliances", 1),
    ("alliances", "yes"),
    ("alliance_blocs", ((0, 1),)),  # alliances are off
    ("renege_cost", -1.0),
    ("surprise_deployment", (0, 1, 1.0)),
    ("surprise_deployment", (2, 0, 1.0, 3)),
    ("surprise_deployment", (0, 3, 1.0, 3)),
    ("surprise_deployment", (0, 0, -1.0, 3)),
    ("surprise_deployment", (0, 0, 1.0, -1)),
]

BAD_BLOCS_WITH_ALLIANCES = [
    (((0, 5),), "5"),  # no state 5 among three
    (((0, -1),), "-1"),
    (((0, 0),), repr(((0, 0),))),  # a state repeated
    ((0, 1), "alliance_blocs"),  # a bloc that is not a sequence
]


def _shows(value, message: str) -> bool:
    """Whether ``message`` reports ``value``, or the entry of it that is wrong, as what it got."""
    entries = [value] + (list(value) if isinstance(value, tuple) else [])
    shown = set()
    for entry in entries:
        shown.add(repr(entry))
        if isinstance(entry, (int, float)) and not isinstance(entry, bool):
            shown.add(repr(float(entry)))
    return repr(value) in message or any(f"got {text}" in message for text in shown)


def _case_id(entry) -> str:
    name, value = entry.values if hasattr(entry, "values") else entry
    return f"{name}={value!r}"


@pytest.mark.parametrize(("name", "value"), BAD_PARAMETERS, ids=[_case_id(entry) for entry in BAD_PARAMETERS])
def test_invalid_parameter_raises_naming_parameter_and_value(name, value):
    with pytest.raises(ValueError) as error:
        EnvParams(**{name: value})
    message = str(error.value)
    assert name in message
    assert _shows(value, message), message
    # The same through the scenario front door and the environment.
    with pytest.raises(ValueError, match=name):
        make_params("bilateral", **{name: value})


@pytest.mark.parametrize(("blocs", "shown"), BAD_BLOCS_WITH_ALLIANCES)
def test_invalid_alliance_blocs_raise(blocs, shown):
    with pytest.raises(ValueError, match="alliance_blocs") as error:
        EnvParams(n_states=3, alliances=True, alliance_blocs=blocs)
    assert shown in str(error.value)


def test_every_parameter_has_an_invalid_value_in_the_table():
    covered = {entry.values[0] if hasattr(entry, "values") else entry[0] for entry in BAD_PARAMETERS}
    assert covered == set(PARAMETER_NAMES)


def test_nothing_is_silently_clipped_at_the_boundaries():
    # Values just outside a range raise; values on a closed bound are kept exactly as given.
    for name, outside, inside in [
        ("distinguishability", 1.0 + 1e-12, 1.0),
        ("observation_noise", 5.0 + 1e-9, 5.0),
        ("initial_wealth_jitter", 0.9 + 1e-12, 0.9),
        ("conquest_share", -1e-12, 0.0),
        ("max_burden", 1.0, 1.0 - 1e-12),
    ]:
        with pytest.raises(ValueError, match=name):
            EnvParams(**{name: outside})
        assert getattr(EnvParams(**{name: inside}), name) == inside


def test_unknown_scenario_lists_the_known_ones():
    with pytest.raises(ValueError) as error:
        make_params("jervis-5")
    message = str(error.value)
    assert "jervis-5" in message
    for name in SCENARIOS:
        assert name in message
    with pytest.raises(ValueError, match="bilateral"):
        get_scenario("cuba")
    with pytest.raises(ValueError, match="bilateral"):
        sd_env.parallel_env(scenario="nowhere")


def test_unknown_parameter_lists_the_known_ones():
    with pytest.raises(ValueError) as error:
        make_params("bilateral", offence_defence_balance=2.0)
    assert "offence_defence_balance" in str(error.value) and "offense_defense_balance" in str(error.value)
    with pytest.raises(ValueError, match="offence_defence_balance"):
        EnvParams().replace(offence_defence_balance=2.0)


@pytest.mark.parametrize(
    "bad_action",
    [
        np.array([11, 0, 0]),  # burden level beyond the 11 levels
        np.array([0, 4, 0]),  # procurement beyond K = 3 (+1 for spread)
        np.array([0, 0, 2]),  # attack rival 2 of a two-state world
        np.array([-1, 0, 0]),
        np.array([0.0, 0.0, 1.0]),  # floats are not MultiDiscrete actions
        np.array([0, 0]),
        np.array([0, 0, 0, 1]),
    ],
    ids=["burden", "procurement", "attack", "negative", "float", "short", "long"],
)
def test_action_outside_the_space_raises_naming_the_agent(bad_action):
    env = sd_env.parallel_env()
    env.reset(seed=0)
    before, draws_before = env.core_state, env.np_random.bit_generator.state
    with pytest.raises(ValueError, match="state_1"):
        env.step({"state_0": np.array([0, 3, 0]), "state_1": bad_action})
    # Nothing happened: the bad action was not clipped and played, and no random number was drawn.
    for name, old, new in zip(before._fields, before, env.core_state):
        np.testing.assert_array_equal(new, old, err_msg=name)
    assert env.np_random.bit_generator.state == draws_before
    # A valid step still works afterwards.
    env.step({"state_0": np.array([0, 3, 0]), "state_1": np.array([0, 3, 0])})


def test_core_step_rejects_out_of_range_actions_instead_of_clipping():
    params = calm_params()
    state = core.reset(params, 2, np.random.default_rng(0))
    for component, value in [(0, 11), (1, 4), (2, 2), (2, -1)]:
        bad = actions(params, batch=2)
        bad[1, 0, component] = value
        with pytest.raises(ValueError, match="state_0") as error:
            core.step(params, state, bad, np.random.default_rng(0))
        assert str(value) in str(error.value) and "environment 1" in str(error.value)
    with pytest.raises(ValueError, match="integers"):
        core.step(params, state, actions(params, batch=2).astype(float), np.random.default_rng(0))
    with pytest.raises(ValueError, match="shape"):
        core.step(params, state, actions(params, batch=2)[:, :, :2], np.random.default_rng(0))


def test_missing_or_unknown_agents_in_the_action_dict_raise():
    env = sd_env.parallel_env()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="state_1"):
        env.step({"state_0": np.array([0, 3, 0])})
    with pytest.raises(ValueError, match="state_7"):
        env.step({"state_0": np.array([0, 3, 0]), "state_1": np.array([0, 3, 0]), "state_7": np.array([0, 3, 0])})


def test_observation_layout_matches_the_observation_space():
    for params in (calm_params(), calm_params(n_states=4, alliances=True), make_params("missile-crisis")):
        layout = observation_layout(params)
        assert isinstance(layout, ObservationLayout)
        assert observation_space(params).shape == (layout.length,)
        with pytest.raises(ValueError, match="unknown rival field"):
            layout.rival_flag(np.zeros(layout.length), "friendship")
