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
is fast at both ends. Every kernel is a pure function: it reads its inputs and
returns new arrays.

Shapes: ``B`` environments, ``N`` states, ``K`` weapon systems, ``A`` action
components (see ``sd_env.spaces``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sd_env.contest import success_probability_scalar as contest

_JIT = {"cache": True, "nogil": True}

#: Order of the float parameters packed into ``step_kernel``'s ``constants`` (see ``sd_env.params``).
STEP_CONSTANTS = (
    "burden_scale", "territorial_defense", "offense_defense_balance", "contest_decisiveness", "conquest_share",
    "war_cost", "war_attrition", "depreciation", "growth_rate", "elimination_threshold", "greed_bonus",
    "renege_cost", "elimination_penalty", "surprise_amount",
)
#: Order of the integer parameters packed into ``integer_constants`` (alliances as 0/1; surprise state -1: none).
STEP_INTEGER_CONSTANTS = ("alliances", "surprise_state", "surprise_system", "surprise_year", "max_cycles")


@njit(**_JIT)
def step_kernel(
    wealth, stocks, alive, greedy, commitments, initial_wealth, year, actions, draws,
    offense_weights, weapon_costs, constants, integer_constants,
):  # pragma: no cover - compiled; exercised through sd_env.core.step
    """One year for every environment. Returns the next state's arrays and the year's outcome arrays.

    ``draws[b, i, j]`` are uniform [0, 1) numbers deciding whether an attack by
    i on j succeeds. ``constants`` and ``integer_constants`` are the scalar
    parameters, packed in the order of :data:`STEP_CONSTANTS` and
    :data:`STEP_INTEGER_CONSTANTS` (one array each: fewer arguments to pass per
    call). Order of events as in the ``sd_env.core`` docstring.
    """
    (burden_scale, territorial_defense, offense_defense_balance, decisiveness, conquest_share, war_cost,
     war_attrition, depreciation, growth_rate, elimination_threshold, greed_bonus, renege_cost,
     elimination_penalty, surprise_amount) = (
        constants[0], constants[1], constants[2], constants[3], constants[4], constants[5], constants[6],
        constants[7], constants[8], constants[9], constants[10], constants[11], constants[12], constants[13])
    alliances = integer_constants[0] != 0
    surprise_state, surprise_system, surprise_year, max_cycles = (
        integer_constants[1], integer_constants[2], integer_constants[3], integer_constants[4])
    batch, n, k = stocks.shape
    next_year = year + 1
    truncated = next_year >= max_cycles
    new_wealth = np.empty((batch, n))
    new_stocks = np.empty((batch, n, k))
    still_alive = np.empty((batch, n), dtype=np.bool_)
    new_commitments = np.zeros((batch, n, n), dtype=np.bool_)
    attacks = np.zeros((batch, n, n), dtype=np.bool_)
    victories = np.zeros((batch, n, n), dtype=np.bool_)
    probability = np.empty((batch, n, n))
    joins = np.zeros((batch, n, n), dtype=np.bool_)
    reneges = np.zeros((batch, n, n), dtype=np.bool_)
    rewards = np.empty((batch, n))
    welfare = np.empty((batch, n))
    burden = np.empty((batch, n))
    spending = np.empty((batch, n))
    consumption = np.empty((batch, n))
    eliminated = np.zeros((batch, n), dtype=np.bool_)
    # Per-environment scratch, reused across rows.
    attacker_offense = np.empty(n)
    own_arms_defense = np.empty(n)
    homeland_defense = np.empty(n)
    attacked = np.empty(n, dtype=np.bool_)
    wins_against = np.empty(n, dtype=np.int64)
    loss_fraction = np.empty(n)
    spoils_each = np.empty(n)
    wars = np.empty(n, dtype=np.int64)
    keep_arms = 1.0 - depreciation
    for b in range(batch):
        # 1. Guns versus butter: burden level -> share of wealth spent on arms (nothing for the dead).
        for i in range(n):
            share = actions[b, i, 0] * burden_scale if alive[b, i] else 0.0
            burden[b, i] = share
            spending[b, i] = share * wealth[b, i]
            consumption[b, i] = wealth[b, i] - spending[b, i]

        # 2. Attacks, fought with the stocks held at the start of the year. Attack choice c > 0
        # targets rival c, state (i + c) % N; only the living attack or are attacked.
        for j in range(n):
            attacked[j] = False
        for i in range(n):
            choice = actions[b, i, 2]
            if choice > 0 and alive[b, i]:
                target = (i + choice) % n
                if alive[b, target]:
                    attacks[b, i, target] = True
                    attacked[target] = True
        if alliances:
            for i in range(n):
                for r in range(1, n):
                    j = (i + r) % n
                    new_commitments[b, i, j] = actions[b, i, 2 + r] == 1 and alive[b, i] and alive[b, j]
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
            kept = wealth[b, i] * (1.0 - loss_fraction[i]) * (1.0 - war_cost) ** float(wars[i]) + gains
            # 4. Depreciation and procurement (all on one system, or spread evenly when the choice is K), growth.
            new_wealth[b, i] = kept * (1.0 + growth_rate)
            surviving = (1.0 - war_attrition) ** float(wars[i])
            choice = actions[b, i, 1]
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
            reward = welfare[b, i]
            if greedy[b, i]:
                reward += greed_bonus * won
            reward -= renege_cost * reneged
            if eliminated[b, i]:
                reward -= elimination_penalty
            rewards[b, i] = reward
    return (
        new_wealth, new_stocks, still_alive, new_commitments, attacks, next_year,
        rewards, welfare, burden, spending, consumption, victories, probability, joins, reneges, eliminated,
        truncated,
    )


@njit(**_JIT)
def apparent_kernel(stocks, noise, weapon_visibility, confusion):  # pragma: no cover - compiled
    """``seen[b, observer, observed, :]``: concealment, type blur, then multiplicative noise.

    ``noise`` has shape (B, N, N, K), or (0, 0, 0, 0) for perfect intelligence (no noise).
    """
    batch, n, k = stocks.shape
    seen = np.empty((batch, n, n, k))
    blurred = np.empty(k)
    noisy = noise.shape[0] > 0
    for b in range(batch):
        for observed in range(n):
            for t in range(k):
                total = 0.0
                for s in range(k):
                    total += stocks[b, observed, s] * weapon_visibility[s] * confusion[s, t]
                blurred[t] = total
            for observer in range(n):
                for t in range(k):
                    seen[b, observer, observed, t] = blurred[t] * noise[b, observer, observed, t] if noisy else blurred[t]
    return seen


@njit(**_JIT)
def observe_kernel(
    wealth, stocks, alive, greedy, commitments, attacks, year, noise, weapon_visibility, confusion, max_cycles
):  # pragma: no cover - compiled; exercised through sd_env.core.observe
    """Every state's float32 observation (layout in ``sd_env.spaces.ObservationLayout``); zeros for the dead.

    Rivals' stocks are seen as :func:`apparent_kernel` makes them from ``noise``.
    """
    seen = apparent_kernel(stocks, noise, weapon_visibility, confusion)
    batch, n, k = stocks.shape
    width = k + 6
    observation = np.zeros((batch, n, (k + 3) + (n - 1) * width), dtype=np.float32)
    for b in range(batch):
        elapsed = year[b] / max_cycles
        for i in range(n):
            if not alive[b, i]:
                continue  # an eliminated state sees nothing
            row = observation[b, i]
            row[0] = wealth[b, i]
            for s in range(k):
                row[1 + s] = stocks[b, i, s]
            row[k + 1] = greedy[b, i]
            row[k + 2] = elapsed
            for r in range(1, n):
                j = (i + r) % n
                base = k + 3 + (r - 1) * width
                row[base] = alive[b, j]
                row[base + 1] = wealth[b, j]
                for s in range(k):
                    row[base + 2 + s] = seen[b, i, j, s]
                row[base + k + 2] = attacks[b, j, i]  # rival attacked me last year
                row[base + k + 3] = attacks[b, i, j]  # I attacked rival last year
                row[base + k + 4] = commitments[b, j, i]  # rival committed to defend me
                row[base + k + 5] = commitments[b, i, j]  # I am committed to defend rival
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
