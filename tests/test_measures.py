"""Measures of simulated episodes, checked on hand-made rollouts whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from agents.scripted import TypeConditionalPolicy, is_policy_name, make_policy
from experiments.config import ConfigError, load_config
from experiments.measures import summarize
from experiments.rollout import Rollout, rollout
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
    return Rollout(rewards=zeros, welfare=zeros, burden=burden, spending=zeros, arms=zeros, wealth=zeros,
                   attacks=launched, victories=launched.copy(), eliminated=np.zeros((years, 1, n), dtype=bool),
                   alive=alive, greedy=np.array([greedy]))


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
