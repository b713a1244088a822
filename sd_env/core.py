"""The batched NumPy core: the model's dynamics as pure functions.

Everything that happens in the model happens here, once. A
:class:`CoreState` holds ``B`` independent environments of ``N`` states with
``K`` weapon systems; :func:`reset`, :func:`step`, :func:`observe` and
:func:`global_state` map explicit inputs (parameters, state, actions, a
``numpy.random.Generator``) to new arrays without touching anything else, so
one call steps one environment or thousands. The PettingZoo, Gymnasium and
stable-baselines3 interfaces are thin adapters over these functions.

Order of events within one year (one step), see ``docs/model.md``:

1. each living state splits its wealth into arms spending and consumption;
2. attacks launched this year are fought with the stocks held at the start
   of the year; committed allies of a victim join its defence or renege;
3. winners take a share of the losers' wealth, every party to a war loses
   wealth and arms;
4. arms depreciate and this year's purchases arrive; wealth grows;
5. states whose wealth fell below the elimination threshold are eliminated;
6. alliance commitments chosen this year come into force.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sd_env.contest import success_probability
from sd_env.params import EnvParams


@dataclass(frozen=True)
class CoreState:
    """Explicit state of ``B`` environments. Arrays are never modified in place."""

    #: Wealth (yearly output) of each state, wealth units, >= 0. Shape (B, N).
    wealth: np.ndarray
    #: Arms stock of each weapon system, arms units, >= 0. Shape (B, N, K).
    stocks: np.ndarray
    #: Whether each state is still in the game. Shape (B, N), bool.
    alive: np.ndarray
    #: Private type: True = greedy, False = security seeker. Shape (B, N), bool.
    greedy: np.ndarray
    #: ``commitments[b, i, j]``: state i is committed to defend state j. Shape (B, N, N), bool.
    commitments: np.ndarray
    #: ``attacks[b, i, j]``: state i attacked state j last year. Shape (B, N, N), bool.
    attacks: np.ndarray
    #: Wealth each state started the episode with (elimination is relative to it). Shape (B, N).
    initial_wealth: np.ndarray
    #: Years elapsed in each environment. Shape (B,), int64.
    year: np.ndarray

    @property
    def batch_size(self) -> int:
        return int(self.wealth.shape[0])


@dataclass(frozen=True)
class StepOutcome:
    """What happened in one year, for rewards, infos and measures. Shapes as in CoreState."""

    #: Per-state reward (welfare plus type-specific terms). Shape (B, N).
    rewards: np.ndarray
    #: Welfare from consumption, log(1 + consumption). Shape (B, N).
    welfare: np.ndarray
    #: Military burden: share of wealth spent on arms this year, in [0, max_burden]. Shape (B, N).
    burden: np.ndarray
    #: Arms spending this year, wealth units. Shape (B, N).
    spending: np.ndarray
    #: Consumption this year, wealth units. Shape (B, N).
    consumption: np.ndarray
    #: Attacks launched this year, ``[b, i, j]`` = i attacked j. Shape (B, N, N), bool.
    attacks: np.ndarray
    #: Successful attacks. Shape (B, N, N), bool.
    victories: np.ndarray
    #: Success probability of an attack by i on j this year, given the stocks fought with. Shape (B, N, N).
    success_probability: np.ndarray
    #: ``joins[b, k, j]``: ally k joined the defence of j. Shape (B, N, N), bool.
    joins: np.ndarray
    #: ``reneges[b, k, j]``: ally k was committed to j, j was attacked, and k reneged. Shape (B, N, N), bool.
    reneges: np.ndarray
    #: States eliminated this year. Shape (B, N), bool.
    eliminated: np.ndarray
    #: Environments whose episode reached ``max_cycles`` this year. Shape (B,), bool.
    truncated: np.ndarray


# ---------------------------------------------------------------------------
# Small pure helpers shared by the functions below and by the adapters.


def offense(params: EnvParams, stocks: np.ndarray) -> np.ndarray:
    """Offence of each state: stocks weighted by their true offensive weights. Shape stocks[..., 0]."""
    return stocks @ _derived(params).offense_weights


def arms_defense(params: EnvParams, stocks: np.ndarray) -> np.ndarray:
    """Defence from arms alone: stocks weighted by one minus their offensive weights."""
    return stocks @ _derived(params).defense_weights


def total_defense(params: EnvParams, stocks: np.ndarray, wealth: np.ndarray) -> np.ndarray:
    """Defence of a state's homeland: arms defence plus intrinsic territorial defence."""
    return arms_defense(params, stocks) + params.territorial_defense * wealth


def rival_index(n_states: int) -> np.ndarray:
    """``rival_index(N)[i, r - 1]`` is state i's r-th rival, ``(i + r) % N``. Shape (N, N - 1).

    Observations and actions are ego-centric: rival r of every state is the
    state r places after it, so one shared policy serves every seat.
    """
    own = np.arange(n_states)[:, None]
    return (own + np.arange(1, n_states)[None, :]) % n_states


def burden_of_level(params: EnvParams, level: np.ndarray) -> np.ndarray:
    """Military burden (share of wealth, in [0, max_burden]) of a burden action level."""
    return np.asarray(level, dtype=np.float64) * _derived(params).burden_scale


def confusion_matrix(params: EnvParams) -> np.ndarray:
    """How an observer sees weapon types: ``apparent = stocks @ confusion_matrix``.

    ``d * I + (1 - d) * J / K``: with distinguishability d = 1 every system is
    seen as itself; with d = 0 every system looks like the average of all, so
    only the total is seen. Rows sum to one, so the apparent total equals the
    visible total.
    """
    n_systems = params.n_systems
    d = params.distinguishability
    return d * np.eye(n_systems) + (1.0 - d) * np.full((n_systems, n_systems), 1.0 / n_systems)


# ---------------------------------------------------------------------------
# Speed: arrays derived from the (frozen) parameters, built once per EnvParams
# object instead of once per call, and reductions over the short state axis.
# Every value is computed by the same expression as before, so results are
# bit-for-bit those of the straightforward code.


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class _Derived:
    """Read-only arrays that depend on the parameters only (see ``_derived``)."""

    def __init__(self, params: EnvParams) -> None:
        n, k = params.n_states, params.n_systems
        self.offense_weights = _frozen(np.asarray(params.weapon_offense_weights))
        self.defense_weights = _frozen(1.0 - np.asarray(params.weapon_offense_weights))
        self.weapon_costs = _frozen(np.asarray(params.weapon_costs))
        self.weapon_visibility = _frozen(np.asarray(params.weapon_visibility))
        self.confusion = _frozen(confusion_matrix(params))
        self.upper = _frozen(action_upper_bounds(params))
        self.upper_unsigned = _frozen(self.upper.astype(np.uint64))
        self.burden_scale = params.max_burden / (params.burden_levels - 1)
        self.states = _frozen(np.arange(n))
        self.rivals = _frozen(rival_index(n))
        own = np.arange(n)[:, None]
        #: Flat (i * N + j) indices into an (N, N) matrix: [i, rival r of i] and [rival r of i, i].
        self.to_rival = _frozen(own * n + self.rivals)
        self.from_rival = _frozen(self.rivals * n + own)
        self.observation_length = observation_length(params)
        #: ``allocation_table[c]``: procurement shares of action component 1 = c (one-hot, or 1 / K each for c = K).
        allocation_table = np.zeros((k + 1, k))
        allocation_table[np.arange(k), np.arange(k)] = 1.0
        allocation_table[k] = 1.0 / k
        self.allocation_table = _frozen(allocation_table)
        #: ``attack_table[i * N + c, j]``: state i choosing attack component c attacks state j
        #: (c = 0: nobody; c = r >= 1: its rival r).
        attack_table = np.zeros((n, n, n), dtype=bool)
        attack_table[own, np.arange(1, n)[None, :], self.rivals] = True
        self.attack_table = _frozen(attack_table.reshape(n * n, n))


_DERIVED: dict[int, tuple[EnvParams, _Derived]] = {}


def _derived(params: EnvParams) -> _Derived:
    """The parameter-derived arrays of ``params``, cached per object (EnvParams is frozen)."""
    entry = _DERIVED.get(id(params))
    if entry is not None and entry[0] is params:
        return entry[1]
    derived = _Derived(params)
    if len(_DERIVED) >= 256:
        _DERIVED.clear()
    _DERIVED[id(params)] = (params, derived)  # holding params keeps its id from being reused
    return derived


def _count(mask: np.ndarray, axis: int) -> np.ndarray:
    """``mask.sum(axis=axis)`` (int64) for a (B, N, N) bool array, axis 1 or 2.

    NumPy reduces a short inner axis slowly; adding the N slices is several
    times faster and, being integer arithmetic, gives exactly the same counts.
    """
    n = mask.shape[axis]
    total = (mask[:, 0, :] if axis == 1 else mask[:, :, 0]).astype(np.int64)
    for j in range(1, n):
        np.add(total, mask[:, j, :] if axis == 1 else mask[:, :, j], out=total)
    return total


def _any_axis1(mask: np.ndarray) -> np.ndarray:
    """``mask.any(axis=1)`` for a (B, N, N) bool array, by or-ing the N slices."""
    result = mask[:, 0, :].copy()
    for j in range(1, mask.shape[1]):
        np.logical_or(result, mask[:, j, :], out=result)
    return result


# ---------------------------------------------------------------------------
# Reset


def reset(params: EnvParams, batch_size: int, rng: np.random.Generator) -> CoreState:
    """Start ``batch_size`` new episodes: jittered wealth, even initial arms, private types drawn."""
    n, k = params.n_states, params.n_systems
    jitter = params.initial_wealth_jitter
    wealth = np.asarray(params.initial_wealth)[None, :] * rng.uniform(1.0 - jitter, 1.0 + jitter, (batch_size, n))
    greedy = rng.random((batch_size, n)) < params.greedy_prior
    stocks = np.repeat((wealth * (params.initial_arms / k))[:, :, None], k, axis=2)
    commitments = np.zeros((batch_size, n, n), dtype=bool)
    if params.alliances:
        for bloc in params.alliance_blocs:
            members = np.asarray(bloc)
            commitments[:, members[:, None], members[None, :]] = True
        commitments[:, np.arange(n), np.arange(n)] = False
    return CoreState(
        wealth=wealth,
        stocks=stocks,
        alive=np.ones((batch_size, n), dtype=bool),
        greedy=greedy,
        commitments=commitments,
        attacks=np.zeros((batch_size, n, n), dtype=bool),
        initial_wealth=wealth.copy(),
        year=np.zeros(batch_size, dtype=np.int64),
    )


def reset_where(params: EnvParams, state: CoreState, done: np.ndarray, rng: np.random.Generator) -> CoreState:
    """Reset only the environments where ``done`` (shape (B,), bool) is true; the rest are unchanged."""
    done = np.asarray(done, dtype=bool)
    if not done.any():
        return state
    count = int(np.count_nonzero(done))
    fresh = reset(params, count, rng)
    merged = {}
    for name in CoreState.__dataclass_fields__:
        array = getattr(state, name).copy()
        array[done] = getattr(fresh, name)
        merged[name] = array
    return CoreState(**merged)


# ---------------------------------------------------------------------------
# Actions


def check_actions(params: EnvParams, actions: np.ndarray) -> np.ndarray:
    """Return ``actions`` as an int64 array of shape (B, N, A), or raise ``ValueError`` saying what is wrong."""
    actions = np.asarray(actions)
    expected = params.action_length
    if actions.ndim != 3 or actions.shape[1:] != (params.n_states, expected):
        raise ValueError(
            f"actions must have shape (batch, {params.n_states}, {expected}), got {actions.shape}"
        )
    if actions.dtype.kind not in "iu":  # np.issubdtype(dtype, np.integer), without its overhead
        raise ValueError(f"actions must be integers (MultiDiscrete), got dtype {actions.dtype}")
    where = first_out_of_bounds(params, actions)
    if where is not None:
        b, i, c = where
        raise ValueError(
            f"action of state_{i} (environment {b}) component {c} is {actions[b, i, c]}, "
            f"must be in [0, {_derived(params).upper[c] - 1}]"
        )
    return actions.astype(np.int64, copy=False)


def first_out_of_bounds(params: EnvParams, actions: np.ndarray) -> tuple[int, ...] | None:
    """Index of the first integer action entry outside its component's range, or None if all are inside.

    ``actions`` has the action components on its last axis and any leading
    shape; every adapter locates bad actions with this one function.
    """
    derived = _derived(params)
    if actions.dtype == np.int64:
        # One comparison: a negative int64 read as uint64 is larger than any bound.
        if not (actions.view(np.uint64) >= derived.upper_unsigned).any():
            return None
    bad = (actions < 0) | (actions >= derived.upper)
    if not bad.any():
        return None
    return tuple(int(x) for x in np.argwhere(bad)[0])


def action_upper_bounds(params: EnvParams) -> np.ndarray:
    """Exclusive upper bound of each action component (the MultiDiscrete ``nvec``)."""
    bounds = [params.burden_levels, params.n_systems + 1, params.n_states]
    if params.alliances:
        bounds += [2] * (params.n_states - 1)
    return np.asarray(bounds, dtype=np.int64)


# ---------------------------------------------------------------------------
# Step


def step(
    params: EnvParams, state: CoreState, actions: np.ndarray, rng: np.random.Generator
) -> tuple[CoreState, StepOutcome]:
    """Advance every environment by one year.

    Args:
        params: model parameters.
        state: current state of B environments.
        actions: int array (B, N, A) of MultiDiscrete actions (``sd_env.spaces``);
            actions of eliminated states are ignored.
        rng: source of every random draw in this step.

    Returns:
        The new state and the :class:`StepOutcome` of the year.
    """
    actions = check_actions(params, actions)
    derived = _derived(params)
    batch, n, k = state.stocks.shape
    alive = state.alive
    states = derived.states

    # 1. Guns versus butter.
    burden = burden_of_level(params, actions[:, :, 0])
    burden *= alive
    spending = burden * state.wealth
    consumption = state.wealth - spending
    # All spending on the chosen system, or spread evenly over all K when the choice is K.
    allocation = derived.allocation_table.take(actions[:, :, 1], axis=0)

    # 2. Attacks, fought with the stocks held at the start of the year. State i
    # choosing c > 0 attacks rival c, state (i + c) % N (a table lookup).
    alive_pair = alive[:, :, None] & alive[:, None, :]
    attacks = derived.attack_table.take(states * n + actions[:, :, 2], axis=0)
    attacks &= alive_pair
    attacked = _any_axis1(attacks)  # (B, N): victim j was attacked by someone

    if params.alliances:
        rivals = derived.rivals
        new_commitments = np.zeros((batch, n, n), dtype=bool)
        new_commitments[:, states[:, None], rivals] = actions[:, :, 3:] == 1
        new_commitments &= alive_pair
        # Ally k is called to defend j if committed to j, alive, and not itself attacking j.
        called = state.commitments & alive_pair
        called &= attacked[:, None, :]
        called &= ~attacks
        joins = called & new_commitments
        reneges = called & ~new_commitments
    else:
        new_commitments = state.commitments
        joins = np.zeros((batch, n, n), dtype=bool)
        reneges = joins

    attacker_offense = offense(params, state.stocks)
    own_arms_defense = arms_defense(params, state.stocks)
    homeland_defense = own_arms_defense + params.territorial_defense * state.wealth
    if params.alliances:  # allies who join add their arms defence to the victim's
        homeland_defense += np.einsum("bkj,bk->bj", joins.astype(np.float64), own_arms_defense)
    probability = success_probability(
        attacker_offense[:, :, None],
        homeland_defense[:, None, :],
        params.offense_defense_balance,
        params.contest_decisiveness,
    )
    draws = rng.random((batch, n, n))
    victories = attacks & (draws < probability)

    # 3. Spoils and destruction. A victim beaten by several attackers loses
    # 1 - (1 - share)^wins of its wealth, shared equally among the winners.
    wins_against = _count(victories, axis=1)
    loss_fraction = 1.0 - (1.0 - params.conquest_share) ** wins_against
    loss = loss_fraction * state.wealth
    spoils_each = np.divide(loss, wins_against, out=np.zeros_like(loss), where=wins_against > 0)
    gains = victories.astype(np.float64) @ spoils_each[:, :, None]
    gains = gains[:, :, 0]
    wars = _count(attacks, axis=2)
    wars += _count(attacks, axis=1)
    if params.alliances:  # without alliances nobody joins a war
        wars += _count(joins, axis=2)
    wealth = state.wealth * (1.0 - loss_fraction) * (1.0 - params.war_cost) ** wars + gains
    stocks = state.stocks * ((1.0 - params.war_attrition) ** wars)[:, :, None]

    # 4. Depreciation, procurement, growth.
    stocks *= 1.0 - params.depreciation
    procurement = spending[:, :, None] * allocation
    procurement /= derived.weapon_costs
    stocks += procurement
    if params.surprise_deployment is not None:
        who, system, amount, when = params.surprise_deployment
        deploy = (state.year == when) & alive[:, who]
        stocks[deploy, who, system] += amount
    wealth *= 1.0 + params.growth_rate

    # 5. Elimination.
    eliminated = alive & (wealth < params.elimination_threshold * state.initial_wealth)
    if eliminated.any():
        still_alive = alive & ~eliminated
        # Annexation: what is left of a state eliminated by conquest goes to the
        # states that beat it this year, in equal shares (it is destroyed otherwise).
        annexers = victories & eliminated[:, None, :] & still_alive[:, :, None]
        annexer_count = _count(annexers, axis=1)
        remnant_each = np.divide(
            np.where(eliminated, wealth, 0.0), annexer_count, out=np.zeros_like(wealth), where=annexer_count > 0
        )
        wealth = wealth + (annexers.astype(np.float64) @ remnant_each[:, :, None])[:, :, 0]
    else:
        # Nobody eliminated: no annexation (it would add exactly +0.0 to wealth, which is never -0.0).
        still_alive = alive.copy()
    if not still_alive.all():
        wealth = np.where(still_alive, wealth, 0.0)
        stocks = np.where(still_alive[:, :, None], stocks, 0.0)

    # 6. Commitments in force next year; none to or from the eliminated.
    commitments = new_commitments & still_alive[:, :, None]
    commitments &= still_alive[:, None, :]

    welfare = np.where(alive, np.log1p(consumption), 0.0)
    rewards = welfare + state.greedy * params.greed_bonus * _count(victories, axis=2)
    if params.alliances:  # without alliances nobody reneges (subtracting 0.0 changes nothing)
        rewards -= params.renege_cost * _count(reneges, axis=2)
    rewards -= params.elimination_penalty * eliminated
    year = state.year + 1
    new_state = CoreState(
        wealth=wealth,
        stocks=stocks,
        alive=still_alive,
        greedy=state.greedy,
        commitments=commitments,
        attacks=attacks,
        initial_wealth=state.initial_wealth,
        year=year,
    )
    outcome = StepOutcome(
        rewards=rewards,
        welfare=welfare,
        burden=burden,
        spending=spending,
        consumption=np.where(alive, consumption, 0.0),
        attacks=attacks,
        victories=victories,
        success_probability=probability,
        joins=joins,
        reneges=reneges,
        eliminated=eliminated,
        truncated=year >= params.max_cycles,
    )
    return new_state, outcome


# ---------------------------------------------------------------------------
# Observation and global state


def observation_length(params: EnvParams) -> int:
    """Length of one state's observation vector (layout in ``sd_env.spaces.ObservationLayout``)."""
    k = params.n_systems
    return (k + 3) + (params.n_states - 1) * (k + 6)


def apparent_stocks(params: EnvParams, stocks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """How every observer sees every state's stocks: ``[b, observer, observed, system]``.

    Concealment (``weapon_visibility``) hides part of each stock, the
    confusion matrix blurs types towards their average (distinguishability),
    and independent mean-one log-normal noise of scale ``observation_noise``
    distorts magnitudes. Shape (B, N, N, K).
    """
    derived = _derived(params)
    visible = stocks * derived.weapon_visibility
    seen = visible @ derived.confusion
    batch, n, k = stocks.shape
    sigma = params.observation_noise
    if sigma == 0.0:  # perfect intelligence: no draws at all
        return np.broadcast_to(seen[:, None, :, :], (batch, n, n, k)).copy()
    # exp(sigma * z - sigma^2 / 2): mean one, so noise distorts without biasing.
    noise = rng.lognormal(mean=-0.5 * sigma * sigma, sigma=sigma, size=(batch, n, n, k))
    noise *= seen[:, None, :, :]
    return noise


def observe(params: EnvParams, state: CoreState, rng: np.random.Generator) -> np.ndarray:
    """Every state's observation, float32 of shape (B, N, observation_length)."""
    derived = _derived(params)
    batch, n, k = state.stocks.shape
    seen = apparent_stocks(params, state.stocks, rng)  # (B, obs, obsd, K)
    observation = np.empty((batch, n, derived.observation_length), dtype=np.float32)
    # Own block: wealth, stocks, type, fraction of the episode elapsed.
    observation[:, :, 0] = state.wealth
    observation[:, :, 1 : k + 1] = state.stocks
    observation[:, :, k + 1] = state.greedy
    observation[:, :, k + 2] = (state.year / params.max_cycles)[:, None]
    # One block of K + 6 per rival r (a view into the observation; splitting the last axis never copies).
    block = observation[:, :, k + 3 :].reshape(batch, n, n - 1, k + 6)
    rivals, to_rival, from_rival = derived.rivals, derived.to_rival, derived.from_rival
    attacks = state.attacks.reshape(batch, n * n)
    commitments = state.commitments.reshape(batch, n * n)
    block[..., 0] = state.alive[:, rivals]
    block[..., 1] = state.wealth[:, rivals]
    block[..., 2 : k + 2] = seen.reshape(batch, n * n, k)[:, to_rival]  # seen[b, i, rival r of i]
    block[..., k + 2] = attacks[:, from_rival]  # rival attacked me last year
    block[..., k + 3] = attacks[:, to_rival]  # I attacked rival last year
    block[..., k + 4] = commitments[:, from_rival]  # rival committed to defend me
    block[..., k + 5] = commitments[:, to_rival]  # I am committed to defend rival
    # An eliminated state sees nothing; rows of living observers keep their view.
    observation *= state.alive[:, :, None]
    return observation


def global_state_length(params: EnvParams) -> int:
    """Length of the global state vector for centralised critics."""
    n, k = params.n_states, params.n_systems
    return n * (k + 5) + n * n + 1


def global_state(params: EnvParams, state: CoreState) -> np.ndarray:
    """True, noise-free state of every environment, float32 of shape (B, global_state_length).

    Per state: alive, wealth, true stocks (K), greedy, offence, defence; then
    the commitment matrix (row i, column j: i defends j) and the fraction of
    the episode elapsed.
    """
    batch = state.batch_size
    per_state = np.concatenate(
        [
            state.alive[:, :, None],
            state.wealth[:, :, None],
            state.stocks,
            state.greedy[:, :, None],
            offense(params, state.stocks)[:, :, None],
            total_defense(params, state.stocks, state.wealth)[:, :, None],
        ],
        axis=2,
    ).reshape(batch, -1)
    return np.concatenate(
        [per_state, state.commitments.reshape(batch, -1), (state.year / params.max_cycles)[:, None]],
        axis=1,
    ).astype(np.float32)

