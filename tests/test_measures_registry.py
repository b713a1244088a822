"""Per-step measures are declared once (sd_env.measures) and every adapter reports exactly them."""

from __future__ import annotations

import numpy as np

import sd_env
from sd_env import core
from sd_env.infos import INFO_KEYS, agent_infos
from sd_env.measures import STEP_MEASURES, step_measures
from sd_env.sb3_vec_env import SecurityDilemmaVecEnv
from sd_env.scenarios import make_params


def random_years(params, years: int, seed: int):
    rng = np.random.default_rng(seed)
    state = core.reset(params, 3, rng)
    upper = core.action_upper_bounds(params)
    for _ in range(years):
        actions = rng.integers(0, upper, size=(3, params.n_states, len(upper)))
        actions[:, :, 2] *= rng.random((3, params.n_states)) < 0.5
        state, outcome = core.step(params, state, actions, rng)
        yield state, outcome


def test_infos_report_every_registered_measure_with_its_value():
    assert list(INFO_KEYS) == ["greedy", *(measure.name for measure in STEP_MEASURES)]
    params = make_params("pre-1914")
    for state, outcome in random_years(params, 30, 0):
        registry = step_measures(outcome)
        for environment in range(3):
            infos = agent_infos(state, outcome, environment)
            for i, info in enumerate(infos):
                assert list(info) == list(INFO_KEYS)
                for measure in STEP_MEASURES:
                    value = info[measure.name]
                    assert isinstance(value, int if measure.integer else float), measure.name
                    assert value == registry[measure.name][environment, i], measure.name
    at_reset = agent_infos(core.reset(params, 1, np.random.default_rng(0)), None)
    assert all(info[measure.name] == measure.neutral for info in at_reset for measure in STEP_MEASURES)


def test_the_parallel_env_and_the_vec_env_report_the_registered_measures():
    env = sd_env.parallel_env(scenario="jervis-1")
    _, infos = env.reset(seed=0)
    assert all(set(info) == set(INFO_KEYS) for info in infos.values())
    vec = SecurityDilemmaVecEnv(4, scenario="jervis-1", seed=0)
    vec.reset()
    vec.step(np.zeros((vec.num_envs, vec.params.action_length), dtype=np.int64))
    assert set(vec.last_measures) == {measure.name for measure in STEP_MEASURES}
    assert all(values.shape == (vec.num_envs,) for values in vec.last_measures.values())
