"""Measures of simulated episodes, checked on hand-made rollouts whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from sd_env.stances import TypeConditionalPolicy, is_policy_name, make_policy
from sd_env.experiments.training.config import ConfigError, load_config
from sd_env.experiments.lab.measures import summarize
from sd_env.experiments.lab.rollout import Rollout, rollout
from sd_env.scenarios import make_params
from sd_env.spaces import observation_layout


def hand_made_rollout(attacks: dict[int, list[tuple[int, int]]], greedy: list[bool], years: int = 2,
                      dead: dict[int, list[int]] | None = None) -> Rollout:
    """One episode of ``len(greedy)`` states: ``attacks[t]`` lists (attacker, victim); ``dead[t]`` who is gone."""
    n = len(greedy)
    zeros = np.zeros((years, 1, n))
    launched = np.zeros((years, 1, n, n), dtype=bool)
    for year, pairs in attacks.items():
        for attacker, victim in pairs:
            launched[year, 0, attacker, victim] = True
    alive = np.ones((years, 1, n), dtype=bool)
    for year, states in (dead or {}).items():
        alive[year:, 0, states] = False
    burden = np.tile(np.linspace(0.1, 0.1 * n, n), (years, 1, 1))
    params = make_params("bilateral", n_states=n)
    k = params.n_systems
    return Rollout(params=params, rewards=zeros, welfare=zeros, burden=burden,
                   spending=zeros, stocks=np.zeros((years, 1, n, k)), wealth=zeros, home_wealth=zeros,
                   attacks=launched, victories=launched.copy(), success_probability=np.zeros((years, 1, n, n)),
                   eliminated=np.zeros((years, 1, n), dtype=bool), alive=alive,
                   observed_stocks=np.zeros((years, 1, n, n, k)), greedy=np.array([greedy]))


def test_spiral_wars_count_only_security_seekers_attacking_security_seekers():
    # States 0 and 1 are security seekers, 2 is greedy. Year 0: 0 attacks 1 (a spiral war).
    # Year 1: 0 attacks the greedy 2, the greedy 2 attacks 1 (wars, but not between two seekers).
    result = hand_made_rollout({0: [(0, 1)], 1: [(0, 2), (2, 1)]}, greedy=[False, False, True])
    measures = summarize(result)
    assert measures["war_years"] == 1.0
    assert measures["spiral_war_years"] == 0.5
    # Seeker attack rate: seekers 0 and 1 each face two living rivals for two years (8 pair-years); 0 attacked
    # in two of them. Spiral attack rate: the seeker-on-seeker pair-years are (0,1) and (1,0) twice (4); one attack.
    assert measures["seeker_attack_rate"] == pytest.approx(2 / 8)
    assert measures["spiral_attack_rate"] == pytest.approx(1 / 4)
    # The military burden of the seekers alone (0.1 and 0.2) against all three (0.1, 0.2, 0.3).
    assert measures["seeker_military_burden"] == pytest.approx(0.15)
    assert measures["military_burden"] == pytest.approx(0.2)


def test_attack_rates_count_only_pairs_that_are_alive():
    # Seeker 1 is gone from year 1 on: seeker 0 attacked it in year 0, its only chance.
    result = hand_made_rollout({0: [(0, 1)]}, greedy=[False, False], years=3, dead={1: [1]})
    measures = summarize(result)
    assert measures["spiral_attack_rate"] == pytest.approx(1 / 2)  # (0,1) and (1,0) in year 0
    assert measures["spiral_war_years"] == pytest.approx(1 / 3)


def test_measures_of_a_seat_subset_and_of_a_type_that_is_absent():
    result = hand_made_rollout({0: [(2, 0)]}, greedy=[False, False, True])
    greedy_seat = summarize(result, seats=[2])
    assert np.isnan(greedy_seat["seeker_military_burden"]) and np.isnan(greedy_seat["seeker_attack_rate"])
    assert greedy_seat["military_burden"] == pytest.approx(0.3)
    assert summarize(result, seats=[0])["seeker_attack_rate"] == 0.0


def test_rollout_records_each_states_type():
    params = make_params("bilateral", greedy_prior=0.5, max_cycles=3)
    result = rollout(params, [make_policy("dove", params)] * 2, episodes=200, seed=1)
    assert result.greedy.shape == (200, 2) and result.greedy.dtype == bool
    assert 0.35 < result.greedy.mean() < 0.65


def test_type_conditional_stance_plays_each_type_its_own_stance():
    params = make_params("jervis-1")
    layout = observation_layout(params)
    policy = make_policy("hawk/dove", params, seed=0)
    assert isinstance(policy, TypeConditionalPolicy) and policy.name == "hawk/dove"
    observations = np.zeros((4, layout.length), dtype=np.float32)
    observations[:, layout.own_wealth] = 1.0
    observations[:, layout.own_stocks] = 0.5
    observations[[0, 2], layout.own_greedy] = 1.0
    actions = policy.act(observations)
    hawk = make_policy("hawk", params).act(observations[[0, 2]])
    dove = make_policy("dove", params).act(observations[[1, 3]])
    np.testing.assert_array_equal(actions[[0, 2]], hawk)
    np.testing.assert_array_equal(actions[[1, 3]], dove)


@pytest.mark.parametrize("name, known", [("hawk/dove", True), ("deterrer", True), ("hawk / defender", True),
                                         ("hawk/eagle", False), ("a/b/c", False), ("", False)])
def test_policy_names_include_type_conditional_pairs(name, known):
    assert is_policy_name(name) == known


def test_training_configs_accept_type_conditional_opponents(tmp_path):
    config = load_config(None, ["opponents=[hawk/dove, deterrer]"])
    assert config.opponents == ["hawk/dove", "deterrer"]
    with pytest.raises(ConfigError, match="hawk/eagle"):
        load_config(None, ["opponents=[hawk/eagle]"])


def test_every_registered_measure_gives_a_ratio_per_episode_and_summarize_reports_exactly_them():
    from sd_env.experiments.lab.measures import EPISODE_MEASURES

    params = make_params("pre-1914", max_cycles=6)
    result = rollout(params, [make_policy("hawk", params)] * params.n_states, episodes=5, seed=2)
    values = summarize(result)
    assert list(values) == list(EPISODE_MEASURES)
    for name, measure in EPISODE_MEASURES.items():
        numerator, denominator = measure.ratio(result)
        assert numerator.shape == denominator.shape == (5,), name
        assert (denominator >= 0).all(), name
        assert measure.description and measure.unit, name
        per_episode = measure.per_episode(result)
        finite = denominator > 0
        np.testing.assert_allclose(per_episode[finite], numerator[finite] / denominator[finite])
        if finite.any():
            assert values[name] == pytest.approx(numerator.sum() / denominator.sum()), name


def test_a_ratio_measure_weighs_episodes_by_their_denominators():
    # Seeker 1 dies after year 0 in the second episode only: burden over living state-years pools the
    # episodes' years, it does not average the episodes' means.
    first = hand_made_rollout({}, greedy=[False, False], years=2)
    burden = np.concatenate([first.burden, first.burden], axis=1)
    alive = np.concatenate([first.alive, first.alive], axis=1)
    alive[1:, 1, 1] = False
    from dataclasses import replace

    from sd_env.experiments.lab.measures import EPISODE_MEASURES

    two = replace(first, burden=burden, alive=alive, rewards=np.zeros((2, 2, 2)), greedy=np.array([[False] * 2] * 2))
    measure = EPISODE_MEASURES["military_burden"]
    # Episode 0: 0.1, 0.2, 0.1, 0.2 (four living state-years); episode 1: 0.1, 0.2, 0.1 (three).
    assert measure.value(two) == pytest.approx((0.6 + 0.4) / 7)
    np.testing.assert_allclose(measure.per_episode(two), [0.15, 0.4 / 3])


def test_bootstrap_intervals_are_seeded_and_cover_the_estimate():
    from sd_env.experiments.lab.measures import Ratio, bootstrap_interval, measure_table

    rng = np.random.default_rng(0)
    ratio = Ratio(rng.normal(5.0, 1.0, 200), np.ones(200))
    low, high = bootstrap_interval(ratio, seed=3)
    assert (low, high) == bootstrap_interval(ratio, seed=3)
    assert low < ratio.numerator.mean() < high
    assert high - low == pytest.approx(2 * 1.96 / np.sqrt(200), rel=0.25)  # about the normal interval
    assert np.isnan(bootstrap_interval(Ratio(np.ones(3), np.array([0.0, 0.0, 1.0])))[0])
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_interval(ratio, confidence=1.5)
    params = make_params("bilateral", max_cycles=5)
    table = measure_table(rollout(params, [make_policy("hawk", params)] * 2, episodes=20, seed=1), seats=[0])
    assert list(table.columns) == ["mean", "ci_low", "ci_high", "unit"]
    finite = table.dropna(subset=["ci_low"])
    assert ((finite.ci_low <= finite["mean"] + 1e-12) & (finite["mean"] <= finite.ci_high + 1e-12)).all()


def test_a_measure_name_can_be_registered_only_once():
    from sd_env.experiments.lab.measures import episode_measure

    with pytest.raises(ValueError, match="registered twice"):
        episode_measure("war_years", "share of years")(lambda result, seats: None)


def test_rollouts_record_what_each_state_saw_of_the_others():
    params = make_params("jervis-3", max_cycles=4)  # observation noise: seen stocks differ from true ones
    result = rollout(params, [make_policy("hawk", params)] * 2, episodes=3, seed=0)
    assert result.observed_stocks.shape == (4, 3, 2, 2, params.n_systems)
    own = result.observed_stocks[:, :, [0, 1], [0, 1]]
    np.testing.assert_allclose(own, result.stocks, rtol=1e-6)  # float32 observations of own stocks
    assert not np.allclose(result.observed_stocks[:, :, 0, 1], result.stocks[:, :, 1])
    np.testing.assert_allclose(result.arms, result.stocks.sum(axis=3))
