"""PettingZoo's own conformance tests, run on the default and on every named scenario."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
)
from pettingzoo.test.state_test import state_test
from pettingzoo.utils.conversions import parallel_to_aec

import sd_env
from sd_env import security_dilemma_v0


def test_parallel_api(scenario):
    parallel_api_test(sd_env.parallel_env(scenario=scenario), num_cycles=300)


def test_aec_api(scenario):
    api_test(sd_env.env(scenario=scenario), num_cycles=200)


def test_aec_api_on_converted_parallel_env(scenario):
    api_test(parallel_to_aec(sd_env.parallel_env(scenario=scenario)), num_cycles=200)


def test_seed(scenario):
    seed_test(functools.partial(sd_env.env, scenario=scenario), num_cycles=200)


def test_parallel_seed(scenario):
    parallel_seed_test(functools.partial(sd_env.parallel_env, scenario=scenario), num_cycles=200)


def test_render(scenario):
    def make(render_mode=None):
        return sd_env.env(scenario=scenario, render_mode=render_mode)

    render_test(make)


def test_state(scenario):
    state_test(sd_env.env(scenario=scenario), sd_env.parallel_env(scenario=scenario))


def test_max_cycles():
    max_cycles_test(security_dilemma_v0)


def test_agent_names_and_cached_spaces():
    env = sd_env.parallel_env(n_states=5)
    assert env.possible_agents == [f"state_{i}" for i in range(5)]
    for agent in env.possible_agents:
        assert env.observation_space(agent) is env.observation_space(agent)
        assert env.action_space(agent) is env.action_space(agent)


def test_flags_are_python_bools_and_rewards_python_floats():
    env = sd_env.parallel_env(scenario="jervis-1")
    env.reset(seed=3)
    while env.agents:
        actions = {agent: env.action_space(agent).sample() for agent in env.agents}
        _, rewards, terminations, truncations, _ = env.step(actions)
        assert all(type(value) is bool for value in terminations.values())
        assert all(type(value) is bool for value in truncations.values())
        assert all(type(value) is float for value in rewards.values())


def test_infos_have_the_same_keys_at_reset_and_at_every_step():
    from sd_env.infos import INFO_KEYS

    env = sd_env.parallel_env(scenario="pre-1914")
    _, infos = env.reset(seed=0)
    assert all(set(info) == set(INFO_KEYS) for info in infos.values())
    assert all(info["military_burden"] == 0.0 and info["attacks"] == 0 for info in infos.values())
    while env.agents:
        _, _, _, _, infos = env.step({agent: env.action_space(agent).sample() for agent in env.agents})
        assert all(set(info) == set(INFO_KEYS) for info in infos.values())


def test_render_modes_return_text_and_image():
    text_env = sd_env.parallel_env(render_mode="ansi")
    text_env.reset(seed=0)
    assert "state_1" in text_env.render()
    image_env = sd_env.parallel_env(render_mode="rgb_array", n_states=3)
    image_env.reset(seed=0)
    image = image_env.render()
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert (image != 255).any(), "the image should show bars, not a blank canvas"


def test_unknown_render_mode_is_rejected():
    with pytest.raises(ValueError, match="render_mode"):
        sd_env.parallel_env(render_mode="video")


def test_global_state_is_true_not_observed():
    env = sd_env.parallel_env(observation_noise=2.0, distinguishability=0.0)
    env.reset(seed=1)
    state = env.state()
    assert env.state_space.contains(state)
    true_stocks = env.core_state.stocks[0, 0]
    k = env.params.n_systems
    np.testing.assert_allclose(state[2 : 2 + k], true_stocks, rtol=1e-6)
