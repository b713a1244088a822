"""The observation and action layouts are declared once (sd_env.layout) and the kernels write what they declare."""

from __future__ import annotations

import numpy as np

from sd_env import core
from sd_env.layout import OWN_FIELDS, RIVAL_FIELDS, ActionLayout, ObservationLayout
from sd_env.scenarios import make_params
from sd_env.spaces import action_layout, action_space, observation_layout, observation_space


def test_every_declared_field_holds_what_the_kernel_writes():
    params = make_params("bilateral", n_states=3, alliances=True, observation_noise=0.0, distinguishability=1.0)
    n, k = params.n_states, params.n_systems
    rng = np.random.default_rng(0)
    stocks = rng.uniform(0.1, 1.0, (1, n, k))
    state = core.CoreState(
        wealth=np.array([[1.1, 1.2, 1.3]]), stocks=stocks, alive=np.array([[True, True, False]]),
        greedy=np.array([[True, False, False]]), commitments=np.array([[[0, 1, 0], [0, 0, 0], [0, 0, 0]]], bool),
        attacks=np.array([[[0, 0, 0], [1, 0, 0], [0, 0, 0]]], bool), initial_wealth=np.ones((1, n)),
        year=np.array([25]), home_wealth=np.array([[0.9, 1.2, 1.3]]),
    )
    observation = core.observe(params, state, rng)[0, 0].astype(np.float64)  # state 0's view
    layout = observation_layout(params)
    assert observation.shape == (layout.length,)
    assert observation[layout.own_wealth] == np.float32(1.1)
    np.testing.assert_allclose(observation[layout.own_stocks], stocks[0, 0], rtol=1e-6)
    assert observation[layout.own_greedy] == 1.0
    assert observation[layout.time_elapsed] == np.float32(25 / params.max_cycles)
    assert observation[layout.own_home_wealth] == np.float32(0.9)
    # Rival 1 is state 1 (alive, attacked state 0 last year); rival 2 is state 2 (eliminated).
    blocks = layout.rival_blocks(observation)
    assert layout.rival_flag(observation, "alive").tolist() == [1.0, 0.0]
    assert layout.rival_flag(observation, "wealth")[0] == np.float32(1.2)
    np.testing.assert_allclose(layout.rival_stocks(observation)[0], stocks[0, 1], rtol=1e-6)
    assert layout.rival_flag(observation, "attacked_me").tolist() == [1.0, 0.0]
    assert layout.rival_flag(observation, "attacked_by_me").tolist() == [0.0, 0.0]
    assert layout.rival_flag(observation, "my_commitment").tolist() == [1.0, 0.0]
    assert layout.rival_flag(observation, "committed_to_me").tolist() == [0.0, 0.0]
    assert blocks.shape == (n - 1, layout.rival_block_length)
    # Every entry belongs to exactly one declared field.
    own_width = sum(k if size == "K" else 1 for _, size, *_ in OWN_FIELDS)
    rival_width = sum(k if size == "K" else 1 for _, size, *_ in RIVAL_FIELDS)
    assert layout.length == own_width + (n - 1) * rival_width


def test_spaces_and_bounds_come_from_the_layouts():
    for params in (make_params("bilateral"), make_params("pre-1914"), make_params("missile-crisis")):
        layout = observation_layout(params)
        low, high = layout.bounds()
        space = observation_space(params)
        np.testing.assert_array_equal(space.low, low)
        np.testing.assert_array_equal(space.high, high)
        assert high[layout.own_greedy] == 1.0 and np.isinf(high[layout.own_home_wealth])
        actions = action_layout(params)
        assert isinstance(actions, ActionLayout) and isinstance(layout, ObservationLayout)
        nvec = action_space(params).nvec
        assert len(nvec) == actions.length == params.action_length
        assert nvec[actions.burden] == params.burden_levels
        assert nvec[actions.procurement] == params.n_systems + 1
        assert nvec[actions.attack] == params.n_states
        assert (nvec[actions.commitments] == 2).all()
        assert len(nvec[actions.commitments]) == (params.n_states - 1 if params.alliances else 0)
