"""Property tests over the parameter space: whatever valid parameters and whatever valid actions,
the batched core keeps its invariants (observations inside their space and finite, rewards
finite, wealth and stocks never negative, the eliminated never return, the global state inside
its space), and the contest and observation functions keep their algebraic properties."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sd_env
from sd_env import core
from sd_env.contest import success_probability
from sd_env.params import EnvParams
from sd_env.spaces import action_space, observation_layout, observation_space, state_space

BATCH = 4
MAX_STEPS = 30

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def unit(low: float = 0.0, high: float = 1.0, **kwargs) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, **kwargs)


@st.composite
def env_params(draw, alliances: bool | None = None) -> EnvParams:
    """Any valid parameters: 2-5 states, 1-4 weapon systems, every mechanism within its range."""
    n_states = draw(st.integers(2, 5))
    n_systems = draw(st.integers(1, 4))
    with_alliances = draw(st.booleans()) if alliances is None else alliances
    blocs: tuple = ()
    if with_alliances and draw(st.booleans()):
        order = draw(st.permutations(range(n_states)))
        cut = draw(st.integers(1, n_states))
        blocs = tuple(bloc for bloc in (tuple(order[:cut]), tuple(order[cut:])) if bloc)
        if draw(st.booleans()):  # overlapping blocs: a hub in two of them
            blocs = blocs + (tuple(order[max(cut - 1, 0):cut + 1]),)
    surprise = draw(
        st.none()
        | st.tuples(st.integers(0, n_states - 1), st.integers(0, n_systems - 1), unit(0.0, 5.0), st.integers(0, 10))
    )
    return EnvParams(
        n_states=n_states,
        max_cycles=draw(st.integers(1, MAX_STEPS)),
        offense_defense_balance=draw(unit(0.01, 100.0)),
        distinguishability=draw(unit()),
        observation_noise=draw(unit(0.0, 5.0)),
        weapon_names=tuple(f"system_{k}" for k in range(n_systems)),
        weapon_offense_weights=tuple(draw(st.lists(unit(), min_size=n_systems, max_size=n_systems))),
        weapon_costs=tuple(draw(st.lists(unit(0.1, 10.0), min_size=n_systems, max_size=n_systems))),
        weapon_visibility=tuple(draw(st.lists(unit(), min_size=n_systems, max_size=n_systems))),
        depreciation=draw(unit()),
        growth_rate=draw(unit(-0.5, 0.5) | st.lists(unit(-0.5, 0.5), min_size=n_states, max_size=n_states).map(tuple)),
        initial_wealth=tuple(draw(st.lists(unit(0.1, 10.0), min_size=n_states, max_size=n_states))),
        initial_wealth_jitter=draw(unit(0.0, 0.9)),
        initial_arms=draw(unit(0.0, 100.0)),
        max_burden=draw(unit(0.01, 0.99)),
        burden_levels=draw(st.integers(2, 21)),
        contest_decisiveness=draw(unit(0.1, 20.0)),
        territorial_defense=draw(unit(0.0, 100.0)),
        conquest_share=draw(unit()),
        war_cost=draw(unit(0.0, 0.99)),
        war_attrition=draw(unit()),
        elimination_threshold=draw(unit(0.0, 0.99)),
        elimination_penalty=draw(unit(0.0, 1e6)),
        greedy_prior=draw(unit()),
        greed_bonus=draw(unit(0.0, 1e6)),
        alliances=with_alliances,
        alliance_blocs=blocs,
        renege_cost=draw(unit(0.0, 1e6)),
        surprise_deployment=surprise,
    )


def random_actions(params: EnvParams, rng: np.random.Generator, batch: int = BATCH) -> np.ndarray:
    return rng.integers(0, core.action_upper_bounds(params), size=(batch, params.n_states, params.action_length))


def assert_observations_valid(params: EnvParams, state: core.CoreState, observations: np.ndarray) -> None:
    space = observation_space(params)
    assert observations.shape == (state.batch_size, params.n_states, space.shape[0])
    assert observations.dtype == np.float32
    assert np.isfinite(observations).all()
    for b in range(state.batch_size):
        for i in range(params.n_states):
            assert space.contains(observations[b, i]), (b, i, observations[b, i])
    # The eliminated see nothing.
    assert (observations[~state.alive] == 0.0).all()


def assert_state_valid(params: EnvParams, state: core.CoreState) -> None:
    assert np.isfinite(state.wealth).all() and np.isfinite(state.stocks).all()
    assert (state.wealth >= 0.0).all() and (state.stocks >= 0.0).all()
    dead = ~state.alive
    assert (state.wealth[dead] == 0.0).all() and (state.stocks[dead] == 0.0).all()
    # No commitments to or from the eliminated, and none to oneself.
    assert not (state.commitments & ~(state.alive[:, :, None] & state.alive[:, None, :])).any()
    assert not state.commitments[:, np.arange(params.n_states), np.arange(params.n_states)].any()
    global_state = core.global_state(params, state)
    space = state_space(params)
    assert global_state.shape == (state.batch_size, space.shape[0])
    assert np.isfinite(global_state).all()
    for b in range(state.batch_size):
        assert space.contains(global_state[b])


@SETTINGS
@given(params=env_params(), seed=st.integers(0, 2**32 - 1))
def test_random_play_keeps_every_invariant(params: EnvParams, seed: int):
    rng = np.random.default_rng(seed)
    state = core.reset(params, BATCH, rng)
    assert_state_valid(params, state)
    assert_observations_valid(params, state, core.observe(params, state, rng))
    for year in range(1, min(params.max_cycles, MAX_STEPS) + 1):
        previous = state
        state, outcome = core.step(params, previous, random_actions(params, rng), rng)

        assert np.isfinite(outcome.rewards).all() and np.isfinite(outcome.welfare).all()
        assert_state_valid(params, state)
        assert_observations_valid(params, state, core.observe(params, state, rng))

        # The eliminated never return; elimination is exactly the change in alive.
        assert not (state.alive & ~previous.alive).any()
        np.testing.assert_array_equal(outcome.eliminated, previous.alive & ~state.alive)
        assert (outcome.rewards[~previous.alive] == 0.0).all()

        # Guns plus butter is the wealth of the year; the burden stays within its cap.
        assert (outcome.burden >= 0.0).all() and (outcome.burden <= params.max_burden + 1e-12).all()
        assert (outcome.burden[~previous.alive] == 0.0).all() and (outcome.welfare[~previous.alive] == 0.0).all()
        np.testing.assert_allclose(outcome.spending + outcome.consumption, previous.wealth, rtol=1e-12)

        # Wars: only the living fight, victories are attacks that succeeded, allies join or renege.
        probability = outcome.success_probability
        assert ((probability >= 0.0) & (probability <= 1.0)).all()
        alive_pair = previous.alive[:, :, None] & previous.alive[:, None, :]
        assert not (outcome.attacks & ~alive_pair).any()
        assert not (outcome.victories & ~outcome.attacks).any()
        assert (outcome.attacks.sum(axis=2) <= 1).all()  # one attack a year at most
        assert not (outcome.joins & outcome.reneges).any()
        assert not ((outcome.joins | outcome.reneges) & ~previous.commitments).any()
        if not params.alliances:
            assert not (outcome.joins | outcome.reneges).any() and not state.commitments.any()

        np.testing.assert_array_equal(state.year, year)
        np.testing.assert_array_equal(outcome.truncated, year >= params.max_cycles)


@SETTINGS
@given(params=env_params(), seed=st.integers(0, 2**32 - 1))
def test_wealth_only_moves_in_wars_without_destruction(params: EnvParams, seed: int):
    # With no war cost, no growth and no elimination, conquest moves wealth but never creates or destroys it.
    params = params.replace(war_cost=0.0, growth_rate=0.0, elimination_threshold=0.0)
    rng = np.random.default_rng(seed)
    state = core.reset(params, BATCH, rng)
    total = state.wealth.sum(axis=1)
    for _ in range(min(params.max_cycles, 10)):
        previous = state
        state, outcome = core.step(params, previous, random_actions(params, rng), rng)
        assert state.alive.all()
        np.testing.assert_allclose(state.wealth.sum(axis=1), total, rtol=1e-9)
        # Wealth flows from the beaten to the victors only; everyone else keeps theirs.
        won = outcome.victories.any(axis=2)
        lost = outcome.victories.any(axis=1)
        before, after = previous.wealth, state.wealth
        np.testing.assert_allclose(after[~won & ~lost], before[~won & ~lost], rtol=1e-12)
        assert (after[won & ~lost] >= before[won & ~lost] * (1 - 1e-12)).all()
        assert (after[lost & ~won] <= before[lost & ~won] * (1 + 1e-12)).all()


@SETTINGS
@given(
    offence=unit(0.0, 1e3),
    defence=unit(0.0, 1e3),
    balance=unit(0.01, 100.0),
    factor=unit(1.01, 10.0),
    decisiveness=unit(0.1, 20.0),
)
def test_success_probability_is_a_monotone_probability(offence, defence, balance, factor, decisiveness):
    p = float(success_probability(offence, defence, balance, decisiveness))
    assert 0.0 <= p <= 1.0
    # More offence, a better balance, or less defence never lowers the attacker's chance.
    assert float(success_probability(offence * factor, defence, balance, decisiveness)) >= p
    assert float(success_probability(offence, defence, min(balance * factor, 100.0), decisiveness)) >= p
    assert float(success_probability(offence, defence / factor, balance, decisiveness)) >= p
    # At a neutral balance the two sides' chances add up to one (Tullock symmetry).
    if offence > 0.0 and defence > 0.0:
        forward = float(success_probability(offence, defence, 1.0, decisiveness))
        backward = float(success_probability(defence, offence, 1.0, decisiveness))
        assert abs(forward + backward - 1.0) < 1e-9
    if offence == 0.0:
        assert p == 0.0


@SETTINGS
@given(params=env_params(), seed=st.integers(0, 2**32 - 1))
def test_noise_free_observations_show_the_visible_total_and_blur_only_the_mix(params: EnvParams, seed: int):
    params = params.replace(observation_noise=0.0)
    rng = np.random.default_rng(seed)
    state = core.reset(params, BATCH, rng)
    stocks = rng.uniform(0.0, 3.0, state.stocks.shape)
    state = state._replace(stocks=stocks)
    seen = core.apparent_stocks(params, stocks, rng)
    visible = stocks * np.asarray(params.weapon_visibility)
    for observer in range(params.n_states):
        np.testing.assert_allclose(seen[:, observer].sum(axis=-1), visible.sum(axis=-1), rtol=1e-9, atol=1e-12)
    if params.distinguishability == 1.0:
        np.testing.assert_allclose(seen[:, 0], visible, rtol=1e-12)
    # The observation carries the same view, rival by rival, in float32.
    layout = observation_layout(params)
    observations = core.observe(params, state, rng)
    rivals = core.rival_index(params.n_states)
    for i in range(params.n_states):
        np.testing.assert_allclose(
            layout.rival_stocks(observations)[:, i],
            seen[:, i, rivals[i]],
            rtol=1e-6,
            atol=1e-6,
        )
        np.testing.assert_allclose(observations[:, i, layout.own_stocks], stocks[:, i], rtol=1e-6)


@settings(max_examples=15, deadline=None, database=None)
@given(params=env_params(), seed=st.integers(0, 2**31 - 1))
def test_pettingzoo_env_observations_stay_in_their_spaces(params: EnvParams, seed: int):
    overrides = {name: getattr(params, name) for name in params.__dataclass_fields__}
    env = sd_env.parallel_env(**overrides)
    observations, infos = env.reset(seed=seed)
    action_rng = np.random.default_rng(seed)
    for _ in range(MAX_STEPS + 1):
        for agent, observation in observations.items():
            assert env.observation_space(agent).contains(observation), agent
        assert env.state_space.contains(env.state())
        if not env.agents:
            break
        moves = {agent: action_rng.integers(0, env.action_space(agent).nvec) for agent in env.agents}
        assert all(action_space(env.params).contains(move) for move in moves.values())
        observations, rewards, terminations, truncations, infos = env.step(moves)
        assert all(np.isfinite(reward) for reward in rewards.values())
        assert set(observations) == set(rewards) == set(terminations) == set(truncations)
    assert env.agents == []  # every episode ends within max_cycles years
