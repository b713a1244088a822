"""The single-agent Gymnasium view and its registration."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sd_env  # noqa: F401  (registers SecurityDilemma-v0)
from agents.scripted import HawkPolicy
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
        gymnasium.make("sd_env:SecurityDilemma-v0", opponent="tit-for-tat")
