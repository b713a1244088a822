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

A year is a sequence of phase functions, one per section of ``docs/model.md``
(:data:`PHASES`: guns versus butter, attacks and allies, the contest, spoils
and destruction, depreciation and growth, elimination, commitments, rewards),
inlined by numba into one loop. They read the parameters by name from one
record (:data:`STEP_PARAMETERS`), the state from a :data:`KernelState` and
write named outputs (:data:`StepOutputs`).

Shapes: ``B`` environments, ``N`` states, ``K`` weapon systems, ``A`` action
components (see ``sd_env.spaces``).
"""

from __future__ import annotations

import math
from collections import namedtuple
from types import FunctionType, SimpleNamespace

import numpy as np
from numba import njit, prange

from sd_env.contest import success_probability_scalar as contest
from sd_env.layout import ACTION_ATTACK, ACTION_BURDEN, ACTION_FIRST_COMMITMENT, ACTION_PROCUREMENT, KERNEL_OFFSET_NAMES

_JIT = {"cache": True, "nogil": True}

# ---------------------------------------------------------------------------
# Declarations: the step kernel's parameters, state and outputs, by name.

#: The scalar parameters of a step, as fields of one numpy record (:data:`STEP_PARAMETERS`) that the kernel
#: reads by name (``parameters.war_cost``). ``sd_env.core`` fills it from ``EnvParams`` (``sd_env.params``).
STEP_CONSTANTS = (
    "burden_scale", "territorial_defense", "offense_defense_balance", "contest_decisiveness", "conquest_share",
    "war_cost", "war_attrition", "depreciation", "elimination_threshold", "greed_bonus",
    "renege_cost", "elimination_penalty", "surprise_amount", "seeker_conquest_value",
)
#: The integer ones (alliances as 0/1; surprise state -1: no surprise deployment).
STEP_INTEGER_CONSTANTS = ("alliances", "surprise_state", "surprise_system", "surprise_year", "max_cycles")
#: One record holds them all: one argument to pass from Python, fields read by name in the kernel.
STEP_PARAMETERS = np.dtype(
    [(name, np.float64) for name in STEP_CONSTANTS] + [(name, np.int64) for name in STEP_INTEGER_CONSTANTS],
    align=True,
)

#: The state a step reads: the fields of ``sd_env.core.CoreState`` but last year's attacks, which the
#: dynamics do not need.
KernelState = namedtuple(
    "KernelState", ("wealth", "stocks", "alive", "greedy", "commitments", "initial_wealth", "year", "home_wealth")
)

#: How a step's outputs travel. At batch one, handing arrays back to Python costs more than computing them,
#: so outputs of one shape and type share one array: ``(array, rows)`` with ``rows`` the outputs in its
#: rows, in order, or None where the array is a single output of that name. Shapes: (7, B, N) floats,
#: (B, N, K) floats, (2, B, N) bools, (5, B, N, N) bools, (B, N, N) floats, (B,) ints, (B,) bools.
STEP_OUTPUT_PACKING = (
    ("per_state", ("wealth", "rewards", "welfare", "burden", "spending", "consumption", "home_wealth")),
    ("stocks", None),
    ("flags", ("alive", "eliminated")),
    ("pairs", ("commitments", "attacks", "victories", "joins", "reneges")),
    ("probability", None),
    ("year", None),
    ("truncated", None),
)
#: A step's outputs by name: the next state's arrays (``wealth``, ``stocks``, ``alive``, ``commitments``,
#: ``attacks``, ``year``, ``home_wealth``) and the year's outcome (see ``sd_env.core.StepOutcome``).
StepOutputs = namedtuple(
    "StepOutputs", tuple(name for array, rows in STEP_OUTPUT_PACKING for name in (rows or (array,)))
)

#: Per-state scratch space of one block of environments, reused row after row.
_Scratch = namedtuple(
    "_Scratch",
    ("attacker_offense", "own_arms_defense", "homeland_defense", "loss_fraction", "spoils_each", "kept",
     "kept_share", "wars", "attacked"),
)

#: The phases of a year, in order, each with the section of ``docs/model.md`` whose equations it computes
#: (a test holds the kernel, this list and the document's headings to one another).
PHASES = (
    ("1. Guns versus butter", "_guns_versus_butter"),
    ("2. Offence, defence, attacks, allies and the contest", "_attacks_and_allies"),
    ("2. Offence, defence, attacks, allies and the contest", "_contest"),
    ("3. Spoils and destruction", "_spoils_and_destruction"),
    ("4. Depreciation, procurement, growth", "_depreciation_procurement_growth"),
    ("5. Elimination and annexation", "_elimination_and_annexation"),
    ("6. Commitments", "_commitments"),
    ("Rewards", "_rewards"),
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


def unpack_step_outputs(packed: tuple[np.ndarray, ...]) -> StepOutputs:
    """The packed arrays of a step (as :func:`step_outputs` allocates them) as named views, in Python.

    The compiled twin is :func:`_step_output_views`; both follow :data:`STEP_OUTPUT_PACKING`.
    """
    fields: list[np.ndarray] = []
    for array, (_, rows) in zip(packed, STEP_OUTPUT_PACKING):
        if rows is None:
            fields.append(array)
        else:
            fields.extend(array)  # the rows, as views
    return StepOutputs._make(fields)


@njit(inline="always", **_JIT)
def _step_output_views(per_state, stocks, flags, pairs, probability, year, truncated):  # pragma: no cover
    """The packed step outputs as named views (:data:`STEP_OUTPUT_PACKING`, checked against it by a test)."""
    return StepOutputs(
        wealth=per_state[0], rewards=per_state[1], welfare=per_state[2], burden=per_state[3],
        spending=per_state[4], consumption=per_state[5], home_wealth=per_state[6], stocks=stocks,
        alive=flags[0], eliminated=flags[1], commitments=pairs[0], attacks=pairs[1], victories=pairs[2],
        joins=pairs[3], reneges=pairs[4], probability=probability, year=year, truncated=truncated,
    )


@njit(**_JIT)
def step_outputs(batch, n, k):  # pragma: no cover - compiled
    """Uninitialised packed outputs of a step of ``batch`` environments (:data:`STEP_OUTPUT_PACKING`)."""
    return (np.empty((7, batch, n)), np.empty((batch, n, k)), np.empty((2, batch, n), dtype=np.bool_),
            np.empty((5, batch, n, n), dtype=np.bool_), np.empty((batch, n, n)), np.empty(batch, dtype=np.int64),
            np.empty(batch, dtype=np.bool_))


# ---------------------------------------------------------------------------
# The phases of a year, each for environments ``start`` to ``stop - 1``. ``state`` is a KernelState,
# ``p`` the STEP_PARAMETERS record, ``out`` the StepOutputs being written, ``scratch`` a _Scratch whose
# row ``b - start`` belongs to environment ``b``. Inlined into the block function, so the split costs
# nothing at run time. Each phase takes the arrays it uses out of the tuples once, before its loops:
# numba counts a reference at each such access, which inside the loops doubled the time of a step.


@njit(inline="always", **_JIT)
def _start_year(start, stop, state, p, out):  # pragma: no cover - compiled
    """The year count, truncation, and clear pair flags that later phases set only where True."""
    year, next_year, truncated = state.year, out.year, out.truncated
    commitments, attacks, joins, reneges = out.commitments, out.attacks, out.joins, out.reneges
    max_cycles = p.max_cycles
    n = attacks.shape[1]
    for b in range(start, stop):
        next_year[b] = year[b] + 1
        truncated[b] = next_year[b] >= max_cycles
        for i in range(n):
            for j in range(n):
                commitments[b, i, j] = False
                attacks[b, i, j] = False
                joins[b, i, j] = False
                reneges[b, i, j] = False


@njit(inline="always", **_JIT)
def _guns_versus_butter(start, stop, state, actions, p, out):  # pragma: no cover - compiled
    """Burden level -> share of wealth spent on arms, spending, consumption (nothing for the dead)."""
    alive, wealth = state.alive, state.wealth
    burden, spending, consumption = out.burden, out.spending, out.consumption
    burden_scale = p.burden_scale
    n = alive.shape[1]
    for b in range(start, stop):
        for i in range(n):
            share = actions[b, i, ACTION_BURDEN] * burden_scale if alive[b, i] else 0.0
            burden[b, i] = share
            spending[b, i] = share * wealth[b, i]
            consumption[b, i] = wealth[b, i] - spending[b, i]


@njit(inline="always", **_JIT)
def _attacks_and_allies(start, stop, state, actions, p, out, scratch):  # pragma: no cover - compiled
    """Who attacks whom; with alliances, this year's commitments and which allies join or renege.

    Attack choice c > 0 targets rival c, state (i + c) % N; only the living attack or are attacked.
    """
    alive, commitments = state.alive, state.commitments
    attacks, new_commitments, joins, reneges = out.attacks, out.commitments, out.joins, out.reneges
    attacked = scratch.attacked
    alliances = p.alliances != 0
    n = alive.shape[1]
    for b in range(start, stop):
        r = b - start
        for j in range(n):
            attacked[r, j] = False
        for i in range(n):
            choice = actions[b, i, ACTION_ATTACK]
            if choice > 0 and alive[b, i]:
                target = (i + choice) % n
                if alive[b, target]:
                    attacks[b, i, target] = True
                    attacked[r, target] = True
        if alliances:
            for i in range(n):
                for rival in range(1, n):
                    j = (i + rival) % n
                    new_commitments[b, i, j] = (actions[b, i, ACTION_FIRST_COMMITMENT + rival - 1] == 1
                                                and alive[b, i] and alive[b, j])
            # Ally a is called to defend j if committed to j, both alive, j attacked, and a not attacking j.
            for a in range(n):
                for j in range(n):
                    if (commitments[b, a, j] and alive[b, a] and alive[b, j] and attacked[r, j]
                            and not attacks[b, a, j]):
                        if new_commitments[b, a, j]:
                            joins[b, a, j] = True
                        else:
                            reneges[b, a, j] = True
        else:
            for i in range(n):
                for j in range(n):
                    new_commitments[b, i, j] = commitments[b, i, j]


@njit(inline="always", **_JIT)
def _contest(start, stop, state, draws, offense_weights, p, out, scratch):  # pragma: no cover - compiled
    """Offence against homeland defence (own arms, territory, allies who join): the chance of every attack.

    Fought with the stocks held at the start of the year. ``draws[b, i, j]``, uniform on [0, 1), decides
    whether an attack by i on j succeeds.
    """
    stocks, wealth = state.stocks, state.wealth
    attacks, joins, probability, victories = out.attacks, out.joins, out.probability, out.victories
    attacker_offense, own_arms_defense = scratch.attacker_offense, scratch.own_arms_defense
    homeland_defense = scratch.homeland_defense
    territorial_defense, balance, decisiveness = p.territorial_defense, p.offense_defense_balance, p.contest_decisiveness
    alliances = p.alliances != 0
    _, n, k = stocks.shape
    for b in range(start, stop):
        r = b - start
        for i in range(n):
            total_offense = 0.0
            total_defense = 0.0
            for s in range(k):
                total_offense += stocks[b, i, s] * offense_weights[s]
                total_defense += stocks[b, i, s] * (1.0 - offense_weights[s])
            attacker_offense[r, i] = total_offense
            own_arms_defense[r, i] = total_defense
        for j in range(n):
            homeland_defense[r, j] = own_arms_defense[r, j] + territorial_defense * wealth[b, j]
            if alliances:  # allies who join add their arms defence to the victim's
                support = 0.0
                for a in range(n):
                    if joins[b, a, j]:
                        support += own_arms_defense[r, a]
                homeland_defense[r, j] += support
        for i in range(n):
            for j in range(n):
                chance = contest(attacker_offense[r, i], homeland_defense[r, j], balance, decisiveness)
                probability[b, i, j] = chance
                victories[b, i, j] = attacks[b, i, j] and draws[b, i, j] < chance


@njit(inline="always", **_JIT)
def _spoils_and_destruction(start, stop, state, p, out, scratch):  # pragma: no cover - compiled
    """Wealth kept after the year's wars: spoils, conquest losses and war costs.

    A victim beaten by w attackers loses 1 - (1 - share)^w of its wealth, shared equally among the
    winners; every party to a war (attacker, victim, ally who joins) pays its costs once per war.
    """
    wealth = state.wealth
    attacks, joins, victories = out.attacks, out.joins, out.victories
    loss_fraction, spoils_each, wars = scratch.loss_fraction, scratch.spoils_each, scratch.wars
    kept, kept_share = scratch.kept, scratch.kept_share
    conquest_share, war_cost = p.conquest_share, p.war_cost
    n = wealth.shape[1]
    for b in range(start, stop):
        r = b - start
        for j in range(n):
            wins = 0
            for i in range(n):
                wins += victories[b, i, j]
            loss_fraction[r, j] = 1.0 - (1.0 - conquest_share) ** float(wins)
            spoils_each[r, j] = loss_fraction[r, j] * wealth[b, j] / wins if wins > 0 else 0.0
        for i in range(n):
            count = 0
            for j in range(n):
                count += attacks[b, i, j]
                count += attacks[b, j, i]
                count += joins[b, i, j]
            wars[r, i] = count
        for i in range(n):
            gains = 0.0
            for j in range(n):
                if victories[b, i, j]:
                    gains += spoils_each[r, j]
            kept_share[r, i] = (1.0 - loss_fraction[r, i]) * (1.0 - war_cost) ** float(wars[r, i])
            kept[r, i] = wealth[b, i] * kept_share[r, i] + gains


@njit(inline="always", **_JIT)
def _depreciation_procurement_growth(start, stop, state, actions, weapon_costs, growth_rates, p, out,
                                     scratch):  # pragma: no cover
    """Wealth and home wealth grow, each state at its own rate; arms depreciate, suffer war attrition, and this
    year's purchases arrive.

    Purchases go all to one system, or evenly to all when the procurement choice is K. Home wealth
    suffers the same losses and growth as wealth, but spoils and annexations never add to it.
    """
    stocks, home_wealth, year, alive = state.stocks, state.home_wealth, state.year, state.alive
    new_wealth, new_home_wealth, new_stocks, spending = out.wealth, out.home_wealth, out.stocks, out.spending
    kept, kept_share, wars = scratch.kept, scratch.kept_share, scratch.wars
    keep_arms = 1.0 - p.depreciation
    war_attrition = p.war_attrition
    surprise, surprise_year = p.surprise_state, p.surprise_year
    _, n, k = stocks.shape
    for b in range(start, stop):
        r = b - start
        for i in range(n):
            growth = 1.0 + growth_rates[i]
            new_wealth[b, i] = kept[r, i] * growth
            new_home_wealth[b, i] = home_wealth[b, i] * kept_share[r, i] * growth
            surviving = (1.0 - war_attrition) ** float(wars[r, i])
            choice = actions[b, i, ACTION_PROCUREMENT]
            for s in range(k):
                if choice == k:
                    share = 1.0 / k
                else:
                    share = 1.0 if choice == s else 0.0
                new_stocks[b, i, s] = (stocks[b, i, s] * surviving * keep_arms
                                       + spending[b, i] * share / weapon_costs[s])
        if surprise >= 0 and year[b] == surprise_year and alive[b, surprise]:
            new_stocks[b, surprise, p.surprise_system] += p.surprise_amount


@njit(inline="always", **_JIT)
def _elimination_and_annexation(start, stop, state, p, out):  # pragma: no cover - compiled
    """Wealth below the threshold share of initial wealth eliminates a state; its victors annex the rest.

    What is left of a state eliminated by conquest goes to those that beat it this year (and survive),
    in equal shares. The eliminated hold nothing.
    """
    alive, initial_wealth = state.alive, state.initial_wealth
    new_wealth, new_home_wealth, new_stocks = out.wealth, out.home_wealth, out.stocks
    eliminated, still_alive, victories = out.eliminated, out.alive, out.victories
    threshold = p.elimination_threshold
    _, n, k = new_stocks.shape
    for b in range(start, stop):
        any_eliminated = False
        for i in range(n):
            gone = alive[b, i] and new_wealth[b, i] < threshold * initial_wealth[b, i]
            eliminated[b, i] = gone
            still_alive[b, i] = alive[b, i] and not gone
            any_eliminated = any_eliminated or gone
        if not any_eliminated:
            continue
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


@njit(inline="always", **_JIT)
def _commitments(start, stop, out):  # pragma: no cover - compiled
    """Commitments in force next year: this year's choices, none to or from the eliminated."""
    commitments, still_alive = out.commitments, out.alive
    n = still_alive.shape[1]
    for b in range(start, stop):
        for i in range(n):
            for j in range(n):
                commitments[b, i, j] = commitments[b, i, j] and still_alive[b, i] and still_alive[b, j]


@njit(inline="always", **_JIT)
def _rewards(start, stop, state, p, out):  # pragma: no cover - compiled
    """Welfare and each type's reward; the dead consume nothing.

    A greedy state values all its wealth, plus ``greed_bonus`` per victory. A security seeker values its
    home economy; wealth taken by conquest (wealth above home wealth) counts only at
    ``seeker_conquest_value`` (0 by default), so spoils never repay the war costs its home economy
    suffered. Reneging and elimination are penalised for both.
    """
    alive, wealth, home_wealth, greedy = state.alive, state.wealth, state.home_wealth, state.greedy
    victories, reneges, eliminated = out.victories, out.reneges, out.eliminated
    welfare, consumption, burden, rewards = out.welfare, out.consumption, out.burden, out.rewards
    greed_bonus, conquest_value = p.greed_bonus, p.seeker_conquest_value
    renege_cost, elimination_penalty = p.renege_cost, p.elimination_penalty
    n = alive.shape[1]
    for b in range(start, stop):
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
                acquired = max(wealth[b, i] - home_wealth[b, i], 0.0)
                valued = wealth[b, i] - (1.0 - conquest_value) * acquired
                reward = math.log1p((1.0 - burden[b, i]) * valued) if alive[b, i] else 0.0
            reward -= renege_cost * reneged
            if eliminated[b, i]:
                reward -= elimination_penalty
            rewards[b, i] = reward


@njit(**_JIT)
def _step_block(start, stop, state, actions, draws, offense_weights, weapon_costs, growth_rates, parameters,
                out):  # pragma: no cover
    """One year of environments ``start`` to ``stop - 1``: writes those rows of every output.

    ``state`` is a :data:`KernelState`, ``offense_weights`` and ``weapon_costs`` (K,) the per-system
    parameters, ``growth_rates`` (N,) the per-state ones, ``parameters`` a one-element
    :data:`STEP_PARAMETERS` array, ``out`` the :data:`StepOutputs` to write.
    Every entry of those rows is written, so the outputs may be reused from
    an earlier year (the one-environment adapters do). The phases run in the
    order of ``docs/model.md`` (:data:`PHASES`), each over the whole block.

    Why blocks of rows rather than one row per call: taking the arrays out
    of the tuples costs reference counting per call, more than a row's
    arithmetic.
    """
    p = parameters[0]
    rows, n = stop - start, state.alive.shape[1]
    # Scratch space of this block (blocks may run on different threads).
    scratch = _Scratch(np.empty((rows, n)), np.empty((rows, n)), np.empty((rows, n)), np.empty((rows, n)),
                       np.empty((rows, n)), np.empty((rows, n)), np.empty((rows, n)),
                       np.empty((rows, n), dtype=np.int64), np.empty((rows, n), dtype=np.bool_))
    _start_year(start, stop, state, p, out)
    _guns_versus_butter(start, stop, state, actions, p, out)
    _attacks_and_allies(start, stop, state, actions, p, out, scratch)
    _contest(start, stop, state, draws, offense_weights, p, out, scratch)
    _spoils_and_destruction(start, stop, state, p, out, scratch)
    _depreciation_procurement_growth(start, stop, state, actions, weapon_costs, growth_rates, p, out, scratch)
    _elimination_and_annexation(start, stop, state, p, out)
    _commitments(start, stop, out)
    _rewards(start, stop, state, p, out)


def _step_rows(
    wealth, stocks, alive, greedy, commitments, last_attacks, initial_wealth, year, home_wealth, actions, draws,
    offense_weights, weapon_costs, growth_rates, parameters,
):  # pragma: no cover - compiled; exercised through sd_env.core.step
    """One year for every environment: the packed outputs (:data:`STEP_OUTPUT_PACKING`), new arrays.

    The first nine arguments are the fields of ``sd_env.core.CoreState`` in
    order; ``actions`` (B, N, A) int64, ``draws`` (B, N, N) uniform on [0, 1),
    then as :func:`_step_block` takes them.
    """
    batch, n, k = stocks.shape
    packed = step_outputs(batch, n, k)
    state = KernelState(wealth, stocks, alive, greedy, commitments, initial_wealth, year, home_wealth)
    per_state, new_stocks, flags, pairs, probability, next_year, truncated = packed
    out = _step_output_views(per_state, new_stocks, flags, pairs, probability, next_year, truncated)
    blocks = _block_count(batch)
    for block in prange(blocks):
        _step_block(batch * block // blocks, batch * (block + 1) // blocks, state, actions, draws, offense_weights,
                    weapon_costs, growth_rates, parameters, out)
    return packed


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
    offense_weights, weapon_costs, growth_rates, parameters, noise, weapon_visibility, confusion,
    per_state, new_stocks, flags, pairs, probability, next_year, truncated, observation, offsets,
):  # pragma: no cover - compiled; exercised through sd_env.core.step_and_observe_into
    """One year then the observation of the new state, written into the given outputs (serial loop).

    The outputs are those :func:`step_outputs` allocates (reusable from year to
    year: every entry is written) and a float32 observation array of shape (B,
    N, observation length); they must not share memory with the inputs. The
    one-environment adapters use this to step without allocating, which at
    batch one is most of the cost of a call.
    """
    batch = stocks.shape[0]
    state = KernelState(wealth, stocks, alive, greedy, commitments, initial_wealth, year, home_wealth)
    out = _step_output_views(per_state, new_stocks, flags, pairs, probability, next_year, truncated)
    _step_block(0, batch, state, actions, draws, offense_weights, weapon_costs, growth_rates, parameters, out)
    _observe_block(0, batch, out.wealth, out.stocks, out.alive, greedy, out.commitments, out.attacks, out.year,
                   noise, weapon_visibility, confusion, parameters[0].max_cycles, observation, out.home_wealth,
                   offsets)


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
