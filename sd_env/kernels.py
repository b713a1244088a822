"""The model's yearly dynamics, compiled: loops over environments, states and weapon systems.

This module is where the equations of ``docs/model.md`` are written, once.
:mod:`sd_env.core` is their public, batched interface: it validates inputs,
draws every random number from the caller's ``numpy.random.Generator`` (so
results depend on the seed alone, never on the compiler) and wraps the
arrays these kernels return in ``CoreState`` / ``StepOutcome``.

Why compiled loops rather than whole-array NumPy expressions: one year of the
model is about a hundred small array operations. On a batch of one (the
PettingZoo and Gymnasium interfaces) NumPy's fixed cost per call, about a
microsecond, made up nearly all of a step; on large batches the temporaries
between operations dominate. Numba compiles each kernel once (cached on disk
after the first run) into one pass over the batch with no temporaries, which
is fast at both ends. Every kernel but one is a pure function: it reads its
inputs and returns new arrays. The exception, :func:`step_observe_into`,
writes into outputs its caller allocated once: at a batch of one, handing new
arrays back to Python costs more than the year's arithmetic. All of them run
the same block functions (:func:`_step_block`, :func:`_observe_block`), so the
equations are written once.

Shapes: ``B`` environments, ``N`` states, ``K`` weapon systems, ``A`` action
components (see ``sd_env.spaces``).
"""

from __future__ import annotations

import math
from types import FunctionType, SimpleNamespace

import numpy as np
from numba import njit, prange

from sd_env.contest import success_probability_scalar as contest
from sd_env.layout import ACTION_ATTACK, ACTION_BURDEN, ACTION_FIRST_COMMITMENT, ACTION_PROCUREMENT, KERNEL_OFFSET_NAMES

_JIT = {"cache": True, "nogil": True}

#: Order of the float parameters packed into the step kernel's ``constants`` (see ``sd_env.params``).
STEP_CONSTANTS = (
    "burden_scale", "territorial_defense", "offense_defense_balance", "contest_decisiveness", "conquest_share",
    "war_cost", "war_attrition", "depreciation", "growth_rate", "elimination_threshold", "greed_bonus",
    "renege_cost", "elimination_penalty", "surprise_amount", "seeker_conquest_value",
)
# Positions in the ``offsets`` array of the observation kernels (``sd_env.layout.ObservationLayout.kernel_offsets``);
# module constants, so numba compiles them in.
_OFFSET = {name: position for position, name in enumerate(KERNEL_OFFSET_NAMES)}
_OWN_WEALTH, _OWN_STOCKS, _OWN_GREEDY = _OFFSET["own_wealth"], _OFFSET["own_stocks"], _OFFSET["own_greedy"]
_OWN_TIME, _OWN_HOME, _OWN_LENGTH = _OFFSET["own_time_elapsed"], _OFFSET["own_home_wealth"], _OFFSET["own_length"]
_RIVAL_ALIVE, _RIVAL_WEALTH, _RIVAL_STOCKS = _OFFSET["rival_alive"], _OFFSET["rival_wealth"], _OFFSET["rival_stocks"]
_RIVAL_ATTACKED_ME, _RIVAL_ATTACKED_BY_ME = _OFFSET["rival_attacked_me"], _OFFSET["rival_attacked_by_me"]
_RIVAL_COMMITTED_TO_ME, _RIVAL_MY_COMMITMENT = _OFFSET["rival_committed_to_me"], _OFFSET["rival_my_commitment"]
_RIVAL_LENGTH = _OFFSET["rival_length"]

#: Order of the integer parameters packed into ``integer_constants`` (alliances as 0/1; surprise state -1: none).
STEP_INTEGER_CONSTANTS = ("alliances", "surprise_state", "surprise_system", "surprise_year", "max_cycles")


@njit(**_JIT)
def _step_block(start, stop, state, actions, draws, parameters, outputs):  # pragma: no cover - compiled
    """One year of environments ``start`` to ``stop - 1``: writes those rows of every output array.

    ``state`` holds the fields of ``sd_env.core.CoreState`` but last year's
    attacks, which the dynamics do not need. ``draws[b, i, j]`` are uniform
    [0, 1) numbers deciding whether an attack by i on j succeeds.
    ``parameters`` packs the scalar parameters in ``constants`` and
    ``integer_constants`` in the order of :data:`STEP_CONSTANTS` and
    :data:`STEP_INTEGER_CONSTANTS` (one array each: fewer arguments to pass
    from Python). ``outputs`` are the arrays :func:`_step_rows` returns, split
    by :func:`_step_output_views`. Every entry of those rows is written, so the
    outputs may be reused from an earlier year (the one-environment adapters
    do). Order of events as in the ``sd_env.core`` docstring.

    Why blocks of rows rather than one row per call: unpacking the ~30
    arrays costs reference counting per call, more than a row's arithmetic.
    """
    wealth, stocks, alive, greedy, commitments, initial_wealth, year, home_wealth = state
    offense_weights, weapon_costs, constants, integer_constants = parameters
    (new_wealth, rewards, welfare, burden, spending, consumption, new_stocks, still_alive, eliminated,
     new_commitments, attacks, victories, joins, reneges, probability, next_year, truncated, new_home_wealth) = outputs
    (burden_scale, territorial_defense, offense_defense_balance, decisiveness, conquest_share, war_cost,
     war_attrition, depreciation, growth_rate, elimination_threshold, greed_bonus, renege_cost,
     elimination_penalty, surprise_amount, seeker_conquest_value) = (
        constants[0], constants[1], constants[2], constants[3], constants[4], constants[5], constants[6],
        constants[7], constants[8], constants[9], constants[10], constants[11], constants[12], constants[13],
        constants[14])
    alliances = integer_constants[0] != 0
    surprise_state, surprise_system, surprise_year, max_cycles = (
        integer_constants[1], integer_constants[2], integer_constants[3], integer_constants[4])
    _, n, k = stocks.shape
    keep_arms = 1.0 - depreciation
    # Scratch space of this block (blocks may run on different threads).
    attacker_offense, own_arms_defense, homeland_defense = np.empty(n), np.empty(n), np.empty(n)
    loss_fraction, spoils_each = np.empty(n), np.empty(n)
    wins_against, wars = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    attacked = np.empty(n, dtype=np.bool_)
    for b in range(start, stop):
        next_year[b] = year[b] + 1
        truncated[b] = next_year[b] >= max_cycles
        # Attacks, joins, reneges and (with alliances) commitments are set only where True or off the
        # diagonal below: clear the row first.
        for i in range(n):
            for j in range(n):
                new_commitments[b, i, j] = False
                attacks[b, i, j] = False
                joins[b, i, j] = False
                reneges[b, i, j] = False
        # 1. Guns versus butter: burden level -> share of wealth spent on arms (nothing for the dead).
        for i in range(n):
            share = actions[b, i, ACTION_BURDEN] * burden_scale if alive[b, i] else 0.0
            burden[b, i] = share
            spending[b, i] = share * wealth[b, i]
            consumption[b, i] = wealth[b, i] - spending[b, i]

        # 2. Attacks, fought with the stocks held at the start of the year. Attack choice c > 0
        # targets rival c, state (i + c) % N; only the living attack or are attacked.
        for j in range(n):
            attacked[j] = False
        for i in range(n):
            choice = actions[b, i, ACTION_ATTACK]
            if choice > 0 and alive[b, i]:
                target = (i + choice) % n
                if alive[b, target]:
                    attacks[b, i, target] = True
                    attacked[target] = True
        if alliances:
            for i in range(n):
                for r in range(1, n):
                    j = (i + r) % n
                    new_commitments[b, i, j] = (actions[b, i, ACTION_FIRST_COMMITMENT + r - 1] == 1 and alive[b, i]
                                                and alive[b, j])
            # Ally a is called to defend j if committed to j, both alive, j attacked, and a not attacking j.
            for a in range(n):
                for j in range(n):
                    if commitments[b, a, j] and alive[b, a] and alive[b, j] and attacked[j] and not attacks[b, a, j]:
                        if new_commitments[b, a, j]:
                            joins[b, a, j] = True
                        else:
                            reneges[b, a, j] = True
        else:
            for i in range(n):
                for j in range(n):
                    new_commitments[b, i, j] = commitments[b, i, j]

        for i in range(n):
            total_offense = 0.0
            total_defense = 0.0
            for s in range(k):
                total_offense += stocks[b, i, s] * offense_weights[s]
                total_defense += stocks[b, i, s] * (1.0 - offense_weights[s])
            attacker_offense[i] = total_offense
            own_arms_defense[i] = total_defense
        for j in range(n):
            homeland_defense[j] = own_arms_defense[j] + territorial_defense * wealth[b, j]
            if alliances:  # allies who join add their arms defence to the victim's
                support = 0.0
                for a in range(n):
                    if joins[b, a, j]:
                        support += own_arms_defense[a]
                homeland_defense[j] += support
        for i in range(n):
            for j in range(n):
                p = contest(attacker_offense[i], homeland_defense[j], offense_defense_balance, decisiveness)
                probability[b, i, j] = p
                victories[b, i, j] = attacks[b, i, j] and draws[b, i, j] < p

        # 3. Spoils and destruction. A victim beaten by w attackers loses 1 - (1 - share)^w of its
        # wealth, shared equally among the winners; every party to a war pays its costs once per war.
        for j in range(n):
            wins = 0
            for i in range(n):
                wins += victories[b, i, j]
            wins_against[j] = wins
            loss_fraction[j] = 1.0 - (1.0 - conquest_share) ** float(wins)
            spoils_each[j] = loss_fraction[j] * wealth[b, j] / wins if wins > 0 else 0.0
        for i in range(n):
            count = 0
            for j in range(n):
                count += attacks[b, i, j]
                count += attacks[b, j, i]
                count += joins[b, i, j]
            wars[i] = count
        for i in range(n):
            gains = 0.0
            for j in range(n):
                if victories[b, i, j]:
                    gains += spoils_each[j]
            kept_share = (1.0 - loss_fraction[i]) * (1.0 - war_cost) ** float(wars[i])
            kept = wealth[b, i] * kept_share + gains
            # 4. Depreciation and procurement (all on one system, or spread evenly when the choice is K), growth.
            new_wealth[b, i] = kept * (1.0 + growth_rate)
            # Home wealth suffers the same losses and growth, but spoils and annexations never add to it.
            new_home_wealth[b, i] = home_wealth[b, i] * kept_share * (1.0 + growth_rate)
            surviving = (1.0 - war_attrition) ** float(wars[i])
            choice = actions[b, i, ACTION_PROCUREMENT]
            for s in range(k):
                if choice == k:
                    share = 1.0 / k
                else:
                    share = 1.0 if choice == s else 0.0
                new_stocks[b, i, s] = stocks[b, i, s] * surviving * keep_arms + spending[b, i] * share / weapon_costs[s]
        if surprise_state >= 0 and year[b] == surprise_year and alive[b, surprise_state]:
            new_stocks[b, surprise_state, surprise_system] += surprise_amount

        # 5. Elimination: wealth below the threshold share of the initial wealth. What is left of a
        # state eliminated by conquest goes to those that beat it this year, in equal shares.
        any_eliminated = False
        for i in range(n):
            out = alive[b, i] and new_wealth[b, i] < elimination_threshold * initial_wealth[b, i]
            eliminated[b, i] = out
            still_alive[b, i] = alive[b, i] and not out
            any_eliminated = any_eliminated or out
        if any_eliminated:
            for j in range(n):
                if eliminated[b, j]:
                    annexers = 0
                    for i in range(n):
                        annexers += victories[b, i, j] and still_alive[b, i]
                    if annexers > 0:
                        remnant_each = new_wealth[b, j] / annexers
                        for i in range(n):
                            if victories[b, i, j] and still_alive[b, i]:
                                new_wealth[b, i] += remnant_each
            for i in range(n):
                if not still_alive[b, i]:
                    new_wealth[b, i] = 0.0
                    new_home_wealth[b, i] = 0.0
                    for s in range(k):
                        new_stocks[b, i, s] = 0.0

        # 6. Commitments in force next year; none to or from the eliminated. Rewards.
        for i in range(n):
            for j in range(n):
                new_commitments[b, i, j] = new_commitments[b, i, j] and still_alive[b, i] and still_alive[b, j]
        for i in range(n):
            won = 0
            reneged = 0
            for j in range(n):
                won += victories[b, i, j]
                reneged += reneges[b, i, j]
            welfare[b, i] = math.log1p(consumption[b, i]) if alive[b, i] else 0.0
            if not alive[b, i]:
                consumption[b, i] = 0.0
            if greedy[b, i]:
                reward = welfare[b, i] + greed_bonus * won
            else:
                # A security seeker values its home economy; wealth taken by conquest (wealth above home
                # wealth) counts only at seeker_conquest_value (0 by default), so spoils never repay it
                # the war costs its home economy suffered.
                acquired = max(wealth[b, i] - home_wealth[b, i], 0.0)
                valued = wealth[b, i] - (1.0 - seeker_conquest_value) * acquired
                reward = math.log1p((1.0 - burden[b, i]) * valued) if alive[b, i] else 0.0
            reward -= renege_cost * reneged
            if eliminated[b, i]:
                reward -= elimination_penalty
            rewards[b, i] = reward


def _step_rows(
    wealth, stocks, alive, greedy, commitments, last_attacks, initial_wealth, year, home_wealth, actions, draws,
    offense_weights, weapon_costs, constants, integer_constants,
):  # pragma: no cover - compiled; exercised through sd_env.core.step
    """One year for every environment: the next state's arrays and the year's outcome arrays, packed.

    The first nine arguments are the fields of ``sd_env.core.CoreState`` in
    order; the rest as :func:`_step_block` takes them. Returns ``per_state``
    (7, B, N: wealth, rewards, welfare, burden, spending, consumption, home wealth),
    ``new_stocks`` (B, N, K), ``flags`` (2, B, N: alive, eliminated), ``pairs``
    (5, B, N, N: commitments, attacks, victories, joins, reneges),
    ``probability`` (B, N, N), ``next_year`` (B,) and ``truncated`` (B,).
    """
    batch, n, k = stocks.shape
    per_state, new_stocks, flags, pairs, probability, next_year, truncated = step_outputs(batch, n, k)
    state = (wealth, stocks, alive, greedy, commitments, initial_wealth, year, home_wealth)
    parameters = (offense_weights, weapon_costs, constants, integer_constants)
    outputs = _step_output_views(per_state, new_stocks, flags, pairs, probability, next_year, truncated)
    blocks = _block_count(batch)
    for block in prange(blocks):
        _step_block(batch * block // blocks, batch * (block + 1) // blocks, state, actions, draws, parameters,
                    outputs)
    return per_state, new_stocks, flags, pairs, probability, next_year, truncated


@njit(inline="always", **_JIT)
def _block_count(batch):  # pragma: no cover - compiled
    """Blocks of rows to split ``batch`` environments into: one per 64 rows, at least one, at most 64.

    Blocks are what threads share out, so large batches get many; each block
    costs a fraction of a microsecond to start, so small batches get few. (A
    function of the batch alone: asking numba for its thread count here would
    keep the kernels out of its disk cache.)
    """
    return max(1, min(64, batch // 64))


@njit(inline="always", **_JIT)
def _step_output_views(per_state, new_stocks, flags, pairs, probability, next_year, truncated):  # pragma: no cover
    """The packed step outputs as the named arrays :func:`_step_block` writes (views, in its order)."""
    return (per_state[0], per_state[1], per_state[2], per_state[3], per_state[4], per_state[5], new_stocks,
            flags[0], flags[1], pairs[0], pairs[1], pairs[2], pairs[3], pairs[4], probability, next_year, truncated,
            per_state[6])


@njit(**_JIT)
def step_outputs(batch, n, k):  # pragma: no cover - compiled
    """Uninitialised outputs of a step of ``batch`` environments (same-shape outputs share one allocation).

    At batch one, handing arrays back to Python costs more than computing
    them, so outputs of one shape and type travel as one array each; layout
    as :func:`_step_rows` returns them.
    """
    return (np.empty((7, batch, n)), np.empty((batch, n, k)), np.empty((2, batch, n), dtype=np.bool_),
            np.empty((5, batch, n, n), dtype=np.bool_), np.empty((batch, n, n)), np.empty(batch, dtype=np.int64),
            np.empty(batch, dtype=np.bool_))


@njit(inline="always", **_JIT)
def _apparent_row(stocks, noise, b, weapon_visibility, confusion, seen):  # pragma: no cover - compiled
    """``seen[observer, observed, :]`` for environment ``b`` (``noise`` of shape (B, N, N, K), or empty: none)."""
    _, n, k = stocks.shape
    noisy = noise.shape[0] > 0
    for observed in range(n):
        for t in range(k):
            blurred = 0.0
            for s in range(k):
                blurred += stocks[b, observed, s] * weapon_visibility[s] * confusion[s, t]
            for observer in range(n):
                seen[observer, observed, t] = blurred * noise[b, observer, observed, t] if noisy else blurred


def _apparent_rows(stocks, noise, weapon_visibility, confusion):  # pragma: no cover - compiled
    """``seen[b, observer, observed, :]``: concealment, type blur, then multiplicative noise.

    ``noise`` has shape (B, N, N, K), or (0, 0, 0, 0) for perfect intelligence (no noise).
    """
    batch, n, k = stocks.shape
    seen = np.empty((batch, n, n, k))
    for b in prange(batch):
        _apparent_row(stocks, noise, b, weapon_visibility, confusion, seen[b])
    return seen


@njit(**_JIT)
def _observe_block(
    start, stop, wealth, stocks, alive, greedy, commitments, attacks, year, noise, weapon_visibility, confusion,
    max_cycles, observation, home_wealth, offsets,
):  # pragma: no cover - compiled; exercised through sd_env.core.observe
    """Writes ``observation[start:stop]``: every state's view of environments ``start`` to ``stop - 1``.

    Every entry of those rows is written (zeros for an eliminated state), so
    ``observation`` need not be initialised. ``offsets`` says where each
    field goes (``sd_env.layout``, the one declaration of the layout).
    """
    _, n, k = stocks.shape
    own_length, width = offsets[_OWN_LENGTH], offsets[_RIVAL_LENGTH]
    seen = np.empty((n, n, k))
    for b in range(start, stop):
        _apparent_row(stocks, noise, b, weapon_visibility, confusion, seen)
        elapsed = year[b] / max_cycles
        for i in range(n):
            row = observation[b, i]
            if not alive[b, i]:
                row[:] = 0.0  # an eliminated state sees nothing
                continue
            row[offsets[_OWN_WEALTH]] = wealth[b, i]
            for s in range(k):
                row[offsets[_OWN_STOCKS] + s] = stocks[b, i, s]
            row[offsets[_OWN_GREEDY]] = greedy[b, i]
            row[offsets[_OWN_TIME]] = elapsed
            row[offsets[_OWN_HOME]] = home_wealth[b, i]
            for r in range(1, n):
                j = (i + r) % n
                base = own_length + (r - 1) * width
                row[base + offsets[_RIVAL_ALIVE]] = alive[b, j]
                row[base + offsets[_RIVAL_WEALTH]] = wealth[b, j]
                for s in range(k):
                    row[base + offsets[_RIVAL_STOCKS] + s] = seen[i, j, s]
                row[base + offsets[_RIVAL_ATTACKED_ME]] = attacks[b, j, i]
                row[base + offsets[_RIVAL_ATTACKED_BY_ME]] = attacks[b, i, j]
                row[base + offsets[_RIVAL_COMMITTED_TO_ME]] = commitments[b, j, i]
                row[base + offsets[_RIVAL_MY_COMMITMENT]] = commitments[b, i, j]


def _observe_rows(
    wealth, stocks, alive, greedy, commitments, attacks, year, noise, weapon_visibility, confusion, max_cycles,
    home_wealth, offsets,
):  # pragma: no cover - compiled; exercised through sd_env.core.observe
    """Every state's float32 observation (layout in ``sd_env.spaces.ObservationLayout``); zeros for the dead.

    Rivals' stocks are seen as :func:`_apparent_rows` makes them from ``noise``.
    """
    batch, n, k = stocks.shape
    observation = np.empty((batch, n, offsets[_OWN_LENGTH] + (n - 1) * offsets[_RIVAL_LENGTH]), dtype=np.float32)
    blocks = _block_count(batch)
    for block in prange(blocks):
        _observe_block(batch * block // blocks, batch * (block + 1) // blocks, wealth, stocks, alive, greedy,
                       commitments, attacks, year, noise, weapon_visibility, confusion, max_cycles, observation,
                       home_wealth, offsets)
    return observation


@njit(**_JIT)
def first_out_of_bounds(actions, upper):  # pragma: no cover - compiled; exercised through sd_env.core
    """Flat index of the first entry of ``actions`` (last axis: components) outside ``[0, upper)``, or -1."""
    flat = actions.reshape(-1)  # a copy only if ``actions`` is not contiguous
    width = upper.shape[0]
    for index in range(flat.shape[0]):
        value = flat[index]
        if value < 0 or value >= upper[index % width]:
            return index
    return -1


@njit(**_JIT)
def step_observe_into(
    wealth, stocks, alive, greedy, commitments, initial_wealth, year, home_wealth, actions, draws,
    offense_weights, weapon_costs, constants, integer_constants, noise, weapon_visibility, confusion,
    per_state, new_stocks, flags, pairs, probability, next_year, truncated, observation, offsets,
):  # pragma: no cover - compiled; exercised through sd_env.core.step_and_observe_into
    """One year then the observation of the new state, written into the given outputs (serial loop).

    The outputs are those :func:`step_outputs` allocates (reusable from year to
    year: every entry is written) and a float32 observation array of shape (B,
    N, observation length); they must not share memory with the inputs. The one-environment adapters use this to
    step without allocating, which at batch one is most of the cost of a call.
    """
    batch = stocks.shape[0]
    state = (wealth, stocks, alive, greedy, commitments, initial_wealth, year, home_wealth)
    parameters = (offense_weights, weapon_costs, constants, integer_constants)
    outputs = _step_output_views(per_state, new_stocks, flags, pairs, probability, next_year, truncated)
    _step_block(0, batch, state, actions, draws, parameters, outputs)
    _observe_block(0, batch, per_state[0], new_stocks, flags[0], greedy, pairs[0], pairs[1], next_year, noise,
                   weapon_visibility, confusion, integer_constants[4], observation, per_state[6], offsets)


# Each kernel is compiled twice from its one Python source: serially (the default, best for the
# small and middling batches of training) and with the environment loop spread over threads
# (``prange``; for very large batches on many cores). Rows are independent and every random number is
# drawn before the call, so both give identical results.
#: Kernels that loop over environments on one thread.
SERIAL = SimpleNamespace(
    step=njit(**_JIT)(_step_rows),
    observe=njit(**_JIT)(_observe_rows),
    apparent=njit(**_JIT)(_apparent_rows),
)


def _threaded(function):
    """``function`` compiled with its ``prange`` loop on threads, cached under a name of its own.

    numba's on-disk cache names entries after the Python function, not the
    compiler options, so compiling the same function object twice would load
    the serial machine code for the threaded kernel too.
    """
    twin = FunctionType(function.__code__, function.__globals__, function.__name__ + "_threaded",
                        function.__defaults__, function.__closure__)
    twin.__qualname__ = function.__qualname__ + "_threaded"
    twin.__doc__ = function.__doc__
    return njit(parallel=True, **_JIT)(twin)


#: The same kernels with the environment loop spread over numba's threads (``NUMBA_NUM_THREADS``).
THREADED = SimpleNamespace(
    step=_threaded(_step_rows),
    observe=_threaded(_observe_rows),
    apparent=_threaded(_apparent_rows),
)
