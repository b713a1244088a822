"""The single-agent Gymnasium view and its registration."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sd_env  # noqa: F401  (registers SecurityDilemma-v0)
from sd_env.stances import HawkPolicy
from sd_env.scenarios import make_params


def test_gymnasium_make_by_name_and_env_checker():
    env = gymnasium.make("sd_env:SecurityDilemma-v0", scenario="jervis-1")
    check_env(env.unwrapped, skip_render_check=True)
    observation, _ = env.reset(seed=0)
    assert env.observation_space.contains(observation)


def test_opponent_policy_object_is_used():
    params = make_params("jervis-1", max_cycles=30)
    hawk_env = gymnasium.make("sd_env:SecurityDilemma-v0", scenario="jervis-1", max_cycles=30,
                              opponent=HawkPolicy(params))
    hawk_env.reset(seed=0)
    attacked = 0
    for _ in range(30):
        restraint = np.array([0, params.n_systems, 0], dtype=np.int64)
        _, _, terminated, truncated, info = hawk_env.step(restraint)
        attacked += info["attacked_by"]
        if terminated or truncated:
            break
    assert attacked > 0, "a hawk opponent facing restraint under offence advantage attacks"


def test_gym_step_rejects_actions_outside_the_space():
    env = gymnasium.make("sd_env:SecurityDilemma-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="state_0"):
        env.step(np.array([99, 0, 0]))


def test_unknown_opponent_is_rejected():
    with pytest.raises(ValueError, match="unknown opponent"):
        gymnasium.make("sd_env:SecurityDilemma-v0", opponent="eagle")


def _episode(opponent: str, seed: int, years: int = 30) -> list:
    env = gymnasium.make("sd_env:SecurityDilemma-v0", scenario="jervis-1", max_cycles=years, opponent=opponent)
    observation, _ = env.reset(seed=seed)
    trace = [observation]
    restraint = np.array([0, env.unwrapped.params.n_systems, 0], dtype=np.int64)
    for _ in range(years):
        observation, reward, terminated, truncated, info = env.step(restraint)
        trace.append((observation, reward, info["attacked_by"]))
        if terminated or truncated:
            break
    return trace


@pytest.mark.parametrize("opponent", ["random", "restraint", "hawk", "hawk/dove", "defender:burden=0.3"])
def test_named_opponents_are_the_scripted_stances_and_follow_the_seed(opponent):
    first, second, other = _episode(opponent, 3), _episode(opponent, 3), _episode(opponent, 4)
    assert len(first) == len(second)
    for a, b in zip(first[1:], second[1:]):
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:] == b[1:]
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(first[1:], other[1:]))
    attacks = sum(step[2] for step in first[1:])
    if opponent in ("restraint", "defender:burden=0.3"):
        assert attacks == 0  # restrained stances never attack
    if opponent == "hawk":
        assert attacks > 0
