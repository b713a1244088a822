"""The compiled kernels behind ``sd_env.core``: their variants agree, and the contest is the same everywhere."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from sd_env import core, kernels
from sd_env.contest import success_probability
from sd_env.scenarios import SCENARIOS, make_params


def random_actions(params, batch: int, rng: np.random.Generator) -> np.ndarray:
    upper = core.action_upper_bounds(params)
    actions = rng.integers(0, upper, size=(batch, params.n_states, len(upper)))
    actions[:, :, 2] *= rng.random((batch, params.n_states)) < 0.3  # fewer attacks, so games go on
    return actions


def assert_same_arrays(first, second) -> None:
    assert len(first) == len(second)
    for left, right in zip(first, second):
        assert left.dtype == right.dtype and left.shape == right.shape
        np.testing.assert_array_equal(left, right)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_step_and_observe_equals_step_then_observe(scenario):
    params = make_params(scenario)
    rng = np.random.default_rng(3)
    state = core.reset(params, 5, rng)
    for _ in range(30):
        actions = random_actions(params, 5, rng)
        seed = int(rng.integers(2**32))
        separate_rng = np.random.default_rng(seed)
        stepped, outcome = core.step(params, state, actions, separate_rng)
        observation = core.observe(params, stepped, separate_rng)
        fused_state, fused_outcome, fused_observation = core.step_and_observe(
            params, state, actions, np.random.default_rng(seed)
        )
        assert_same_arrays(stepped, fused_state)
        assert_same_arrays(outcome, fused_outcome)
        np.testing.assert_array_equal(observation, fused_observation)
        state = stepped


@pytest.mark.parametrize("scenario", ["bilateral", "pre-1914", "missile-crisis"])
def test_threaded_kernels_give_the_serial_results(scenario):
    params = make_params(scenario)
    derived = core._derived(params)
    rng = np.random.default_rng(5)
    batch = 300
    state = core.reset(params, batch, rng)
    for _ in range(20):
        actions = random_actions(params, batch, rng)
        draws = rng.random((batch, params.n_states, params.n_states))
        arguments = (*state, actions, draws, derived.offense_weights, derived.weapon_costs, derived.growth_rates,
                     derived.step_parameters)
        serial = kernels.SERIAL.step(*arguments)
        assert_same_arrays(serial, kernels.THREADED.step(*arguments))
        state, _ = core._unpack_step(serial, state.greedy, state.initial_wealth)
        noise = rng.lognormal(0.0, 0.3, (batch, params.n_states, params.n_states, params.n_systems))
        view = (state.wealth, state.stocks, state.alive, state.greedy, state.commitments, state.attacks, state.year,
                noise, derived.weapon_visibility, derived.confusion, params.max_cycles, state.home_wealth,
                derived.observation_offsets)
        np.testing.assert_array_equal(kernels.SERIAL.observe(*view), kernels.THREADED.observe(*view))
        np.testing.assert_array_equal(
            kernels.SERIAL.apparent(state.stocks, noise, derived.weapon_visibility, derived.confusion),
            kernels.THREADED.apparent(state.stocks, noise, derived.weapon_visibility, derived.confusion),
        )
    assert not state.alive.all(), "some states should have been eliminated, so elimination paths ran"


@pytest.mark.parametrize("batch", [1, 63, 64, 130, 200, 4160])
def test_every_environment_of_a_batch_is_stepped_as_if_alone(batch):
    """The kernels split a batch into blocks of rows (shared out among threads): no row may be skipped,
    stepped twice or mixed up with another, whatever the batch size."""
    params = make_params("pre-1914")
    derived = core._derived(params)
    rng = np.random.default_rng(batch)
    state = core.reset(params, batch, rng)
    state, _ = core.step(params, state, random_actions(params, batch, rng), rng)  # some attacks on record
    actions = random_actions(params, batch, rng)
    draws = rng.random((batch, params.n_states, params.n_states))
    noise = rng.lognormal(0.0, 0.3, (batch, params.n_states, params.n_states, params.n_systems))
    constants = (derived.offense_weights, derived.weapon_costs, derived.growth_rates, derived.step_parameters)
    whole = core._unpack_step(core._kernels(batch).step(*state, actions, draws, *constants), state.greedy,
                              state.initial_wealth)
    seen = core._kernels(batch).observe(state.wealth, state.stocks, state.alive, state.greedy, state.commitments,
                                        state.attacks, state.year, noise, derived.weapon_visibility,
                                        derived.confusion, params.max_cycles, state.home_wealth,
                                        derived.observation_offsets)
    for b in sorted({0, batch // 2, batch - 1, *range(0, batch, 61)}):
        row = slice(b, b + 1)
        single = core.CoreState(*(field[row] for field in state))
        alone = core._unpack_step(kernels.SERIAL.step(*single, actions[row], draws[row], *constants),
                                  single.greedy, single.initial_wealth)
        for whole_part, alone_part in zip(whole, alone):  # the next state, then the outcome
            for name, whole_array, alone_array in zip(whole_part._fields, whole_part, alone_part):
                np.testing.assert_array_equal(whole_array[row], alone_array, err_msg=f"{name}, environment {b}")
        np.testing.assert_array_equal(
            seen[row],
            kernels.SERIAL.observe(state.wealth[row], state.stocks[row], state.alive[row], state.greedy[row],
                                   state.commitments[row], state.attacks[row], state.year[row], noise[row],
                                   derived.weapon_visibility, derived.confusion, params.max_cycles,
                                   state.home_wealth[row], derived.observation_offsets),
        )


def test_core_uses_threads_only_for_large_batches():
    assert core._kernels(1) is kernels.SERIAL
    assert core._kernels(core.THREADED_MIN_BATCH - 1) is kernels.SERIAL
    expected = kernels.THREADED if numba.get_num_threads() > 1 else kernels.SERIAL
    assert core._kernels(core.THREADED_MIN_BATCH) is expected


def test_step_probabilities_are_the_public_contest_function():
    params = make_params("jervis-1")  # no alliances: defence is arms plus territory
    rng = np.random.default_rng(0)
    state = core.reset(params, 64, rng)
    state = state._replace(stocks=rng.uniform(0.0, 2.0, state.stocks.shape))
    _, outcome = core.step(params, state, random_actions(params, 64, rng), rng)
    expected = success_probability(
        core.offense(params, state.stocks)[:, :, None],
        core.total_defense(params, state.stocks, state.wealth)[:, None, :],
        params.offense_defense_balance,
        params.contest_decisiveness,
    )
    np.testing.assert_allclose(outcome.success_probability, expected, rtol=1e-14, atol=0.0)


def test_contest_edge_cases_never_give_nan():
    assert success_probability(0.0, 0.0, 1.0, 2.0) == 0.0  # no offence never wins, even against nothing
    assert success_probability(1.0, 0.0, 1.0, 2.0) == 1.0  # the undefended always fall
    assert success_probability(1e-300, 1e300, 1.0, 50.0) == 0.0  # exp would overflow
    assert success_probability(1e300, 1e-300, 1.0, 50.0) == 1.0
    assert success_probability(1.0, 1.0, 1.0, 2.0) == 0.5
    grid = success_probability(np.array([[0.0], [1.0], [3.0]]), np.array([0.0, 1.0, 3.0]), 2.0, 1.5)
    assert grid.shape == (3, 3) and np.isfinite(grid).all() and ((grid >= 0) & (grid <= 1)).all()


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.dtype(">i8"), np.uint64])
def test_bounds_check_reads_every_integer_dtype(dtype):
    params = make_params("bilateral")
    actions = np.zeros((3, params.n_states, params.action_length), dtype=dtype)
    assert core.first_out_of_bounds(params, actions) is None
    actions[2, 1, 1] = params.n_systems + 1  # one past the last procurement choice
    assert core.first_out_of_bounds(params, actions) == (2, 1, 1)
    with pytest.raises(ValueError, match="state_1 .environment 2. component 1"):
        core.check_actions(params, actions)


# --- the in-place step of the one-environment adapters ---------------------------------


@pytest.mark.parametrize("scenario", ["bilateral", "pre-1914", "cold-war", "missile-crisis"])
def test_parallel_env_follows_the_batched_core_bit_for_bit(scenario):
    """The PettingZoo env steps in place (two buffers in turn); it must still be the core, step for step,
    and what it handed out earlier (observations, state snapshots) must not change afterwards."""
    import copy

    import sd_env

    # Harsh wars, so states are eliminated and the paths for the dead run too.
    env = sd_env.parallel_env(scenario=scenario, max_cycles=60, conquest_share=0.8, elimination_threshold=0.5)
    env.reset(seed=4)
    params, rng = env.params, copy.deepcopy(env.np_random)
    state = env.core_state
    action_rng = np.random.default_rng(9)
    handed_out, expected = [], []
    eliminations = 0
    while env.agents:
        batch = random_actions(params, 1, action_rng)
        observations, rewards, terminations, truncations, _ = env.step(
            {agent: batch[0, i] for i, agent in enumerate(env.possible_agents) if agent in env.agents}
        )
        state, outcome, core_observations = core.step_and_observe(params, state, batch, rng)
        assert_same_arrays(state, env.core_state)
        for agent, observation in observations.items():
            i = env.possible_agents.index(agent)
            np.testing.assert_array_equal(observation, core_observations[0, i])
            assert rewards[agent] == outcome.rewards[0, i]
            assert terminations[agent] == outcome.eliminated[0, i]
        eliminations += int(outcome.eliminated.sum())
        handed_out.append((observations, env.core_state))
        expected.append(({agent: value.copy() for agent, value in observations.items()}, state))
    assert eliminations > 0, "eliminations should occur, so those paths ran"
    for (observations, snapshot), (observations_then, state_then) in zip(handed_out, expected):
        for agent, observation in observations.items():
            np.testing.assert_array_equal(observation, observations_then[agent])
        assert_same_arrays(snapshot, state_then)


def play_parallel(env, years: int, seed: int) -> list:
    """Observations, rewards and flags of ``years`` steps of seeded random actions (copies kept)."""
    action_rng, record = np.random.default_rng(seed), []
    for _ in range(years):
        if not env.agents:
            env.reset()
        batch = random_actions(env.params, 1, action_rng)
        step = env.step({agent: batch[0, env.possible_agents.index(agent)] for agent in env.agents})
        record.append([{agent: np.array(value) for agent, value in part.items()} for part in step[:4]])
    return record


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_environment_steps_exactly_like_its_original(how):
    """Vector-env wrappers (SuperSuit, SB3's subprocesses) copy or pickle environments mid-episode: the copy's
    reusable step buffers must be its own and still wired to the kernel."""
    import copy
    import pickle

    import sd_env

    env = sd_env.parallel_env(scenario="pre-1914", conquest_share=0.8, elimination_threshold=0.5)
    env.reset(seed=2)
    play_parallel(env, 3, seed=0)  # mid-episode, both buffers written
    twin = copy.deepcopy(env) if how == "deepcopy" else pickle.loads(pickle.dumps(env))
    original, copied = play_parallel(env, 40, seed=1), play_parallel(twin, 40, seed=1)
    assert len(original) == len(copied) == 40
    for year, (first, second) in enumerate(zip(original, copied)):
        for part, (mine, theirs) in enumerate(zip(first, second)):
            assert mine.keys() == theirs.keys(), (year, part)
            for agent in mine:
                np.testing.assert_array_equal(mine[agent], theirs[agent], err_msg=f"year {year}, part {part}")

    gym_env = sd_env.gym_env.SecurityDilemmaGymEnv(scenario="jervis-1")
    gym_env.reset(seed=3)
    for _ in range(3):
        gym_env.step(gym_env.action_space.sample())
    gym_twin = copy.deepcopy(gym_env) if how == "deepcopy" else pickle.loads(pickle.dumps(gym_env))
    for _ in range(20):
        action = gym_env.action_space.sample()
        mine, theirs = gym_env.step(action), gym_twin.step(action)
        np.testing.assert_array_equal(mine[0], theirs[0])
        assert mine[1:4] == theirs[1:4] and mine[4] == theirs[4]
        if mine[2] or mine[3]:
            break


def test_step_into_refuses_to_overwrite_the_state_it_reads():
    params = make_params("bilateral")
    rng = np.random.default_rng(0)
    out = core.StepBuffers(params, 2)
    state, _, _ = core.step_and_observe_into(params, core.reset(params, 2, rng), random_actions(params, 2, rng),
                                             rng, out)
    with pytest.raises(ValueError, match="two StepBuffers in turn"):
        core.step_and_observe_into(params, state, random_actions(params, 2, rng), rng, out)


def test_the_phases_of_a_year_follow_the_sections_of_the_model_document():
    """kernels.PHASES names, in order, the section of docs/model.md each phase computes; the block function
    calls exactly those phases in that order, and the document has those sections in that order."""
    import inspect
    import re
    from pathlib import Path

    document = (Path(__file__).resolve().parents[1] / "docs" / "model.md").read_text()
    year = document[document.index("## One year"):document.index("## Reset")]
    headings = re.findall(r"^### (.+)$", year, flags=re.MULTILINE)
    sections = [section for section, _ in kernels.PHASES]
    matched = [next(index for index, heading in enumerate(headings) if heading.startswith(section))
               for section in sections]
    assert matched == sorted(matched), "phases out of the document's order"
    assert set(matched) == set(range(len(headings))), "a section of the year has no phase"
    source = inspect.getsource(kernels._step_block)
    called = re.findall(r"^    (_\w+)\(start, stop", source, flags=re.MULTILINE)
    assert called == ["_start_year"] + [name for _, name in kernels.PHASES]


def test_the_named_step_outputs_are_the_declared_rows_of_the_packed_arrays():
    """The compiled views and the Python unpacking both follow STEP_OUTPUT_PACKING, field by field."""
    packed = kernels.step_outputs(3, 4, 2)
    compiled = kernels._step_output_views(*packed)
    unpacked = kernels.unpack_step_outputs(packed)
    assert compiled._fields == unpacked._fields == kernels.StepOutputs._fields
    for (array_name, rows), array in zip(kernels.STEP_OUTPUT_PACKING, packed):
        for position, name in enumerate(rows or (array_name,)):
            expected = array if rows is None else array[position]
            for views in (compiled, unpacked):
                view = getattr(views, name)
                assert view.shape == expected.shape and view.dtype == expected.dtype, name
                assert view.__array_interface__["data"][0] == expected.__array_interface__["data"][0], name


@pytest.mark.parametrize("scenario", ["bilateral", "missile-crisis", "pre-1914"])
def test_the_step_parameter_record_holds_the_parameters_by_name(scenario):
    """Every field of the kernel's parameter record is the parameter of that name, or derived as documented."""
    params = make_params(scenario)
    record = core._derived(params).step_parameters[0]
    assert set(kernels.STEP_PARAMETERS.names) == set(kernels.STEP_CONSTANTS) | set(kernels.STEP_INTEGER_CONSTANTS)
    derived = {"burden_scale", "surprise_amount", "surprise_state", "surprise_system", "surprise_year", "alliances"}
    for name in kernels.STEP_PARAMETERS.names:
        if name not in derived:
            assert record[name] == getattr(params, name), name
    assert record["burden_scale"] == params.max_burden / (params.burden_levels - 1)
    assert record["alliances"] == int(params.alliances)
    surprise = params.surprise_deployment
    if surprise is None:
        assert record["surprise_state"] == -1
    else:
        assert (record["surprise_state"], record["surprise_system"], record["surprise_amount"],
                record["surprise_year"]) == tuple(surprise)
