"""Input the environment cannot use is refused with one line saying what is wrong and what would be right,
at the call it comes in, and the environment stays usable; input it can use (integer actions of any width or
layout) plays exactly as before.

1. the batched core: actions for another batch, states that do not fit the parameters, strided arrays;
2. the Gymnasium adapter: non-integer actions;
3. the PettingZoo parallel adapter: a non-integer action of one agent among integer ones;
4. the AEC adapter: a bad action is reported at its own step, stores nothing, and the game goes on;
5. the parameters: horizons over which compound growth would overflow the float32 observations.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import SETTINGS, env_params

import sd_env
from sd_env import core, security_dilemma_v0
from sd_env.gym_env import SecurityDilemmaGymEnv
from sd_env.params import MAX_WEALTH, EnvParams, longest_horizon, wealth_ceiling
from sd_env.scenarios import SCENARIOS, make_params


def one_line_error(call, match: str) -> str:
    """The message of the ValueError ``call()`` raises: it must match ``match`` and be one line."""
    with pytest.raises(ValueError, match=match) as error:
        call()
    message = str(error.value)
    assert "\n" not in message, message
    return message


def idle(params: EnvParams, batch: int) -> np.ndarray:
    return np.zeros((batch, params.n_states, params.action_length), dtype=np.int64)


def random_actions(params: EnvParams, batch: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, core.action_upper_bounds(params), size=(batch, params.n_states, params.action_length))


# --- 1. the batched core -----------------------------------------------------------------------------


def test_actions_for_another_batch_are_refused_not_read_past_their_end():
    params, rng = EnvParams(), np.random.default_rng(0)
    state = core.reset(params, 1000, rng)
    expected = r"^actions are for 1 environments but the state holds 1000; give actions of shape \(1000, 2, 3\)$"
    one_line_error(lambda: core.step(params, state, idle(params, 1), rng), expected)
    one_line_error(lambda: core.step_and_observe(params, state, idle(params, 1), rng), expected)
    small = core.reset(make_params("pre-1914"), 3, rng)
    one_line_error(lambda: core.step(make_params("pre-1914"), small, idle(make_params("pre-1914"), 5), rng),
                   r"actions are for 5 environments but the state holds 3; give actions of shape \(3, 4, 6\)")


def _entry_points(params: EnvParams, rng: np.random.Generator):
    """Every public core function that takes a state, as ``name -> f(state)``."""
    return {
        "step": lambda state: core.step(params, state, idle(params, 4), rng),
        "step_and_observe": lambda state: core.step_and_observe(params, state, idle(params, 4), rng),
        "observe": lambda state: core.observe(params, state, rng),
        "global_state": lambda state: core.global_state(params, state),
        "reset_where": lambda state: core.reset_where(params, state, np.ones(4, dtype=bool), rng),
    }


ENTRY_POINTS = list(_entry_points(EnvParams(), np.random.default_rng(0)))


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_state_made_for_other_parameters_is_refused_by_every_entry_point(entry):
    rng = np.random.default_rng(0)
    two_states = core.reset(EnvParams(), 4, rng)
    three_states = EnvParams(n_states=3)
    one_line_error(lambda: _entry_points(three_states, rng)[entry](two_states),
                   r"^state does not fit the parameters: wealth has shape \(4, 2\), parameters need \(4, 3\) "
                   r"\(n_states=3, n_systems=3\)$")
    two_systems = EnvParams(weapon_names=("a", "b"), weapon_offense_weights=(0.0, 1.0), weapon_costs=(1.0, 1.0),
                            weapon_visibility=(1.0, 1.0))
    one_line_error(lambda: _entry_points(two_systems, rng)[entry](two_states),
                   r"^state does not fit the parameters: stocks has shape \(4, 2, 3\), parameters need \(4, 2, 2\) "
                   r"\(n_states=2, n_systems=2\)$")


def _wrong_fields():
    """``(field, how, replacement of the field, what the message says)`` for every field of a batch of 4."""
    cases = []
    for name, (dtype, axes) in core.STATE_FIELDS.items():
        other = np.float32 if dtype == np.float64 else (np.int32 if dtype == np.int64 else np.int64)
        cases.append((name, "dtype", lambda array, other=other: array.astype(other),
                      rf"state field {name} has dtype {np.dtype(other)}, must be {dtype}"))
        cases.append((name, "batch", lambda array: array[:3], rf"{name} has shape \(3"))
        if len(axes) > 1:
            cases.append((name, "shape", lambda array: array[:, :1], rf"{name} has shape \(4, 1"))
        cases.append((name, "type", lambda array: array.tolist(), rf"state field {name} must be a numpy array"))
    return cases


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(("name", "how", "change", "match"), _wrong_fields(),
                         ids=[f"{case[0]}-{case[1]}" for case in _wrong_fields()])
def test_a_field_of_the_wrong_shape_or_dtype_is_refused_by_name(entry, name, how, change, match):
    params, rng = EnvParams(), np.random.default_rng(0)
    state = core.reset(params, 4, rng)
    broken = state._replace(**{name: change(getattr(state, name))})
    if how == "batch" and name == "wealth":  # wealth sets the batch: the other fields then disagree with it
        match = r"wealth holds 3 environments but stocks has shape \(4, 2, 3\); it must be \(3, 2, 3\)"
    one_line_error(lambda: _entry_points(params, rng)[entry](broken), match)


def test_check_state_passes_a_fitting_state_through_and_refuses_other_tuples():
    params = EnvParams()
    state = core.reset(params, 4, np.random.default_rng(0))
    assert core.check_state(params, state) is state
    one_line_error(lambda: core.check_state(params, tuple(state)), "state must be a CoreState")
    one_line_error(lambda: core.check_state(params, state._replace(year=np.int64(0))),
                   r"state field year must be a numpy array of shape \(4,\) and dtype int64, got numpy.int64")


def _strided(array: np.ndarray) -> np.ndarray:
    """The same values, as a view that is not C-contiguous (every other element of a twice-as-large array)."""
    wide = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), dtype=array.dtype)
    wide[..., ::2] = array
    view = wide[..., ::2]
    assert not view.flags.c_contiguous and np.array_equal(view, array)
    return view


def test_strided_and_transposed_actions_play_like_contiguous_ones():
    params = make_params("pre-1914")
    rng = np.random.default_rng(1)
    state = core.reset(params, 5, rng)
    actions = random_actions(params, 5, rng)
    transposed = np.ascontiguousarray(actions.transpose(2, 1, 0)).transpose(2, 1, 0)
    assert not transposed.flags.c_contiguous and np.array_equal(transposed, actions)
    expected = core.step(params, state, actions, np.random.default_rng(7))
    for view in (transposed, _strided(actions), _strided(actions.astype(np.int32))):
        stepped = core.step(params, state, view, np.random.default_rng(7))
        for want, got in zip(expected, stepped):
            for field, a, b in zip(want._fields, want, got):
                np.testing.assert_array_equal(a, b, err_msg=field)
        assert core.check_actions(params, view).flags.c_contiguous
    assert core.first_out_of_bounds(params, transposed) is None
    bad = actions.copy()
    bad[3, 2, 1] = 99
    assert core.first_out_of_bounds(params, np.ascontiguousarray(bad.T).T) == (3, 2, 1)


def test_a_strided_state_plays_like_its_contiguous_copy():
    params, rng = EnvParams(), np.random.default_rng(2)
    state = core.reset(params, 6, rng)
    strided = core.CoreState(*(_strided(field) for field in state))
    checked = core.check_state(params, strided)
    assert all(field.flags.c_contiguous for field in checked)
    actions = random_actions(params, 6, rng)
    want = core.step_and_observe(params, state, actions, np.random.default_rng(3))
    got = core.step_and_observe(params, strided, actions, np.random.default_rng(3))
    np.testing.assert_array_equal(want[2], got[2])
    np.testing.assert_array_equal(want[1].rewards, got[1].rewards)
    np.testing.assert_array_equal(core.global_state(params, state), core.global_state(params, strided))


def test_reset_where_and_apparent_stocks_check_their_other_arrays():
    params, rng = EnvParams(), np.random.default_rng(0)
    state = core.reset(params, 4, rng)
    one_line_error(lambda: core.reset_where(params, state, np.ones(3, dtype=bool), rng),
                   r"done must have shape \(4,\).*got shape \(3,\)")
    one_line_error(lambda: core.apparent_stocks(EnvParams(n_states=3), state.stocks, rng),
                   r"stocks has shape \(4, 2, 3\), parameters need \(B, 3, 3\)")
    seen = core.apparent_stocks(params, _strided(state.stocks), np.random.default_rng(5))
    np.testing.assert_array_equal(seen, core.apparent_stocks(params, state.stocks, np.random.default_rng(5)))


def test_the_sb3_vec_env_takes_strided_actions():
    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    env, twin = (SecurityDilemmaVecEnv(num_envs=3, seed=0) for _ in range(2))
    env.reset(), twin.reset()
    rng = np.random.default_rng(0)
    for _ in range(5):
        actions = rng.integers(0, env.action_space.nvec, size=(env.num_envs, len(env.action_space.nvec)))
        strided = np.ascontiguousarray(actions.T).T
        for mine, theirs in zip(env.step(strided)[:3], twin.step(actions)[:3]):
            np.testing.assert_array_equal(mine, theirs)


# --- 2. the Gymnasium adapter -------------------------------------------------------------------------

NOT_INTEGER_ACTIONS = [
    np.array([1.7, 2.9, 0.5]),
    np.array([1.0, 2.0, 0.0]),
    np.array([True, False, True]),
    np.array(["1", "2", "0"]),
    np.array([1, 2, 0], dtype=object),
    np.array([1 + 0j, 2, 0]),
    [1.0, 2.0, 0.0],
    [True, False, True],
]


@pytest.mark.parametrize("action", NOT_INTEGER_ACTIONS, ids=repr)
def test_gym_refuses_non_integer_actions_and_stays_usable(action):
    env = SecurityDilemmaGymEnv(scenario="jervis-1")
    env.reset(seed=0)
    one_line_error(lambda: env.step(action), r"^action .* of state_0 is outside its action space MultiDiscrete")
    observation, reward, *_ = env.step(np.array([1, 2, 0]))
    assert np.isfinite(observation).all() and math.isfinite(reward)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.uint64, list])
def test_gym_takes_integer_actions_of_any_width_as_before(dtype):
    def play(convert):
        env = SecurityDilemmaGymEnv(scenario="jervis-1")
        env.reset(seed=4)
        rng = np.random.default_rng(0)
        return [env.step(convert(rng.integers(0, env.action_space.nvec)))[:4] for _ in range(20)]

    convert = (lambda a: a.tolist()) if dtype is list else (lambda a: a.astype(dtype))
    for (obs, *rest), (obs_64, *rest_64) in zip(play(convert), play(lambda a: a)):
        np.testing.assert_array_equal(obs, obs_64)
        assert rest == rest_64


# --- 3. the PettingZoo parallel adapter ---------------------------------------------------------------


@pytest.mark.parametrize("culprit", [0, 1, 3])
@pytest.mark.parametrize("bad", [np.array([1, 1, 0, 1, 0, 1], dtype=bool), np.array([1.0, 2.0, 0, 0, 0, 0]),
                                 [True, True, False, True, False, True]], ids=["bool", "float", "bool-list"])
@pytest.mark.parametrize("others", ["int", "bool"])
def test_parallel_refuses_a_non_integer_action_of_any_agent_naming_it(culprit, bad, others):
    env = sd_env.parallel_env(scenario="pre-1914")
    env.reset(seed=0)
    good = np.array([1, 1, 0, 1, 0, 1]) if others == "int" else np.array([1, 1, 0, 1, 0, 1], dtype=bool)
    actions = {agent: good for agent in env.agents}
    culprit_agent = env.possible_agents[culprit]
    actions[culprit_agent] = bad
    # With bool others, the first agent is named (everyone is wrong); with integer others, the culprit.
    named = culprit_agent if others == "int" else env.possible_agents[0]
    message = one_line_error(lambda: env.step(actions), rf"^action .* of {named} is outside its action space")
    with pytest.raises(ValueError) as direct:
        env.check_action(named, actions[named])
    assert str(direct.value) == message
    # Nothing was stepped: the environment goes on from where it was.
    assert env.core_state.year.tolist() == [0]
    env.step({agent: np.array([1, 1, 0, 1, 0, 1]) for agent in env.agents})
    assert env.core_state.year.tolist() == [1]


def test_parallel_takes_mixed_integer_widths_and_lists_as_before():
    def play(convert):
        env = sd_env.parallel_env(scenario="pre-1914")
        env.reset(seed=3)
        rng = np.random.default_rng(0)
        record = []
        for _ in range(15):
            if not env.agents:
                break
            batch = random_actions(env.params, 1, rng)[0]
            step = env.step({agent: convert(i, batch[i]) for i, agent in enumerate(env.possible_agents)
                             if agent in env.agents})
            record.append(step)
        return record

    widths = [np.uint64, np.int8, list, np.int64]  # uint64 with int64 stacks to float: the slow path
    for mine, theirs in zip(play(lambda i, a: a.tolist() if widths[i] is list else a.astype(widths[i])),
                            play(lambda i, a: a)):
        for part, part_64 in zip(mine, theirs):
            assert part.keys() == part_64.keys()
            for agent in part:
                np.testing.assert_array_equal(part[agent], part_64[agent])


def test_check_action_refuses_unknown_agents():
    env = sd_env.parallel_env()
    one_line_error(lambda: env.check_action("state_9", [0, 0, 0]), "'state_9' is not an agent of this environment")
    assert env.check_action("state_1", [10, 3, 1]).dtype == np.int64


# --- 4. the AEC adapter -------------------------------------------------------------------------------


def _aec(scenario: str = "pre-1914"):
    env = security_dilemma_v0.env(scenario=scenario)
    env.reset(seed=5)
    return env


@pytest.mark.parametrize("bad", [np.array([99, 0, 0, 0, 0, 0]), np.array([1, 1, 0, 1, 0, 1], dtype=bool),
                                 np.array([1.5, 1, 0, 1, 0, 1]), [1, 1, 0]], ids=["range", "bool", "float", "short"])
@pytest.mark.parametrize("culprit", [0, 1, 3])
def test_aec_reports_a_bad_action_at_its_own_step_and_the_game_goes_on(bad, culprit):
    env, reference = _aec(), _aec()
    rng = np.random.default_rng(0)
    for year in range(3):
        for position, agent in enumerate(env.possible_agents):
            assert env.agent_selection == reference.agent_selection == agent
            action = random_actions(env.unwrapped.params, 1, rng)[0, position]
            action[2] = 0  # no attacks: every agent keeps its turn, in order
            if position == culprit and year == 1:
                message = one_line_error(lambda: env.step(bad), rf"^action .* of {agent} is outside its action space")
                assert message == str(pytest.raises(ValueError, env.unwrapped.check_action, agent, bad).value)
                assert env.agent_selection == agent  # still its turn; nothing stored
                one_line_error(lambda: env.step(bad), rf"of {agent} is outside")  # and again, the same
            env.step(action)
            reference.step(action)
        assert env.unwrapped.core_state.year.tolist() == [year + 1]
        for agent in env.possible_agents:
            np.testing.assert_array_equal(env.observe(agent), reference.observe(agent))
            assert env.rewards[agent] == reference.rewards[agent]


def test_aec_raw_env_is_the_checking_subclass_of_pettingzoos_wrapper():
    from pettingzoo.utils.conversions import parallel_to_aec_wrapper

    raw = security_dilemma_v0.raw_env(scenario="bilateral")
    assert isinstance(raw, parallel_to_aec_wrapper) and isinstance(raw, security_dilemma_v0.SecurityDilemmaAECEnv)
    raw.reset(seed=0)
    one_line_error(lambda: raw.step(np.array([0.0, 0.0, 0.0])), "of state_0 is outside its action space")
    copy.deepcopy(raw).step(np.array([0, 0, 0]))


# --- 5. parameters: wealth stays finite in float32 observations ---------------------------------------


@pytest.mark.parametrize("changes", [{"growth_rate": 0.5, "max_cycles": 2000}, {"max_cycles": 4000}])
def test_the_overflowing_horizons_are_refused(changes):
    one_line_error(lambda: EnvParams(**changes), r"max_cycles must be an integer \[1, 1000\]")


def test_a_horizon_inside_its_bound_that_growth_would_overflow_is_refused_naming_both():
    message = one_line_error(lambda: EnvParams(growth_rate=0.5, max_cycles=500),
                             r"^max_cycles must be at most 168 with growth_rate up to 0.5, got 500")
    assert "1e30" in message and "lower growth_rate" in message
    assert longest_horizon(EnvParams(growth_rate=0.5)) == 168
    EnvParams(growth_rate=0.5, max_cycles=168)
    # Per-state rates: the fastest counts; richer starts leave less headroom.
    one_line_error(lambda: EnvParams(growth_rate=(0.01, 0.4), initial_wealth=(1e6, 1.0), max_cycles=300),
                   r"max_cycles must be at most \d+ with growth_rate up to 0.4, got 300")
    assert longest_horizon(EnvParams(growth_rate=(0.01, 0.4), initial_wealth=(1e6, 1.0))) < 168
    # No growth, or only decline: any declared horizon.
    assert longest_horizon(EnvParams(growth_rate=(-0.5, 0.0))) == 1000
    assert EnvParams(max_cycles=1000).max_cycles == 1000


def test_every_named_scenario_still_validates():
    for name in SCENARIOS:
        params = make_params(name)
        assert params.max_cycles <= longest_horizon(params) and wealth_ceiling(params) <= MAX_WEALTH


@settings(SETTINGS, max_examples=200, derandomize=True)  # derandomized: the same 200 games every run
@given(params=env_params(), horizon=st.integers(1, 1000), growth=st.floats(0.0, 0.5), peaceful=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_any_valid_long_fast_growing_game_keeps_observations_and_rewards_finite(params, horizon, growth, peaceful,
                                                                                seed):
    """Random valid parameters (``test_properties.env_params``) with high growth over long horizons: a horizon
    the growth would overflow is refused (one line, naming both parameters), and the longest allowed one
    plays to its end with finite observations and rewards, wealth under ``wealth_ceiling``. Peaceful play
    (no attacks) lets wealth compound unchecked."""
    try:
        params = params.replace(growth_rate=growth, max_cycles=horizon)
    except ValueError as error:
        message = str(error)
        assert "\n" not in message and message.startswith("max_cycles must be at most") and "growth_rate" in message
        params = params.replace(growth_rate=growth, max_cycles=longest_horizon(params.replace(growth_rate=growth)))
    ceiling = wealth_ceiling(params)
    assert ceiling <= MAX_WEALTH * (1 + 1e-12)  # up to the rounding of the horizon's logarithms
    rng = np.random.default_rng(seed)
    state = core.reset(params, 8, rng)
    assert np.isfinite(core.observe(params, state, rng)).all()
    richest = 0.0
    for _ in range(params.max_cycles):
        actions = random_actions(params, 8, rng)
        if peaceful:
            actions[:, :, 2] = 0
        state, outcome, observations = core.step_and_observe(params, state, actions, rng)
        assert np.isfinite(outcome.rewards).all() and np.isfinite(observations).all()
        richest = max(richest, float(state.wealth.max()))
    assert outcome.truncated.all()
    assert np.isfinite(core.global_state(params, state)).all()
    assert richest <= ceiling * (1 + 1e-9)  # wars only move or destroy wealth: the bound holds


def test_gym_refuses_an_opponent_that_answers_with_floats_instead_of_truncating_them():
    from sd_env.gym_env import SecurityDilemmaGymEnv

    env = SecurityDilemmaGymEnv(opponent=lambda observations: np.full((len(observations), 3), 1.7))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="the opponent's actions must be integers, got dtype float64"):
        env.step(np.array([1, 1, 0]))


def test_the_cheapest_arms_at_the_fastest_growth_over_the_longest_horizon_stay_finite():
    """Stocks grow with spending over arms' price: at the lowest declared price, the highest burden, no
    depreciation, the fastest growth and the longest horizon it allows, observations stay finite."""
    from sd_env.params import SPECS, longest_horizon

    extreme = dict(weapon_costs=(SPECS["weapon_costs"].low,) * 3, growth_rate=SPECS["growth_rate"].high,
                   depreciation=0.0, max_burden=0.999, max_cycles=10)
    params = EnvParams(**{**extreme, "max_cycles": longest_horizon(EnvParams(**extreme))})
    rng = np.random.default_rng(0)
    state = core.reset(params, 4, rng)
    actions = np.zeros((4, params.n_states, params.action_length), dtype=np.int64)
    actions[:, :, 0] = params.burden_levels - 1  # all the burden there is, every year, and no war
    for _ in range(params.max_cycles):
        state, outcome = core.step(params, state, actions, rng)
        assert np.isfinite(core.observe(params, state, rng)).all() and np.isfinite(outcome.rewards).all()
    with pytest.raises(ValueError, match="weapon_costs"):
        EnvParams(weapon_costs=(1e-4, 1.0, 1.0))
