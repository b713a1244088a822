"""The batched core: the model's dynamics as pure functions over NumPy arrays.

Everything that happens in the model happens here, once. A
:class:`CoreState` holds ``B`` independent environments of ``N`` states with
``K`` weapon systems; :func:`reset`, :func:`step`, :func:`observe` and
:func:`global_state` map explicit inputs (parameters, state, actions, a
``numpy.random.Generator``) to new arrays without touching anything else, so
one call steps one environment or thousands. The PettingZoo, Gymnasium and
stable-baselines3 interfaces are thin adapters over these functions.

The yearly equations are written in the compiled kernels of
``sd_env.kernels`` (loops over environments, states and systems; see that
module for why). This module validates inputs, draws every random number from
the caller's generator, in a fixed order and shape, and packs the results.

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

from typing import NamedTuple

import numba
import numpy as np

from sd_env import kernels
from sd_env.layout import ActionLayout, ObservationLayout
from sd_env.params import EnvParams


class CoreState(NamedTuple):
    """Explicit state of ``B`` environments. Arrays are never modified in place.

    An immutable named tuple (cheaper to build than a frozen dataclass, which
    matters at one environment per call); ``CoreState._fields`` lists the arrays.
    """

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
    #: Home wealth: the part of ``wealth`` that is the state's own economy. It grows and suffers war losses
    #: like all wealth, but spoils and annexations never add to it (a security seeker values only it,
    #: see ``seeker_conquest_value``). 0 <= home_wealth <= wealth. Shape (B, N).
    home_wealth: np.ndarray

    @property
    def batch_size(self) -> int:
        return int(self.wealth.shape[0])


#: The dtype and axes of every :class:`CoreState` field, in field order: B environments, N states, K weapon
#: systems. :func:`check_state` holds a state to these (the compiled kernels read exactly these types).
STATE_FIELDS: dict[str, tuple[np.dtype, str]] = {
    "wealth": (np.dtype(np.float64), "BN"),
    "stocks": (np.dtype(np.float64), "BNK"),
    "alive": (np.dtype(np.bool_), "BN"),
    "greedy": (np.dtype(np.bool_), "BN"),
    "commitments": (np.dtype(np.bool_), "BNN"),
    "attacks": (np.dtype(np.bool_), "BNN"),
    "initial_wealth": (np.dtype(np.float64), "BN"),
    "year": (np.dtype(np.int64), "B"),
    "home_wealth": (np.dtype(np.float64), "BN"),
}
if tuple(STATE_FIELDS) != CoreState._fields:  # one declaration per field, in the tuple's order
    raise ImportError(f"STATE_FIELDS and CoreState differ: {set(STATE_FIELDS) ^ set(CoreState._fields)}")


class StepOutcome(NamedTuple):
    """What happened in one year, for rewards, infos and measures. Shapes as in CoreState (a named tuple)."""

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
# object instead of once per call (a step at batch one takes microseconds).


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class _Derived:
    """Read-only arrays that depend on the parameters only (see ``_derived``)."""

    def __init__(self, params: EnvParams) -> None:
        self.offense_weights = _frozen(np.asarray(params.weapon_offense_weights))
        self.defense_weights = _frozen(1.0 - np.asarray(params.weapon_offense_weights))
        self.weapon_costs = _frozen(np.asarray(params.weapon_costs))
        self.growth_rates = _frozen(np.asarray(params.growth_rate, dtype=np.float64))
        self.weapon_visibility = _frozen(np.asarray(params.weapon_visibility))
        self.confusion = _frozen(confusion_matrix(params))
        self.upper = _frozen(action_upper_bounds(params))
        self.upper_list: list[int] = self.upper.tolist()
        self.burden_scale = params.max_burden / (params.burden_levels - 1)
        # The scalar parameters as the step kernel reads them: one record, fields by name.
        surprise_state, surprise_system, surprise_amount, surprise_year = (
            (-1, 0, 0.0, 0) if params.surprise_deployment is None else params.surprise_deployment
        )
        derived_values = {
            "burden_scale": self.burden_scale,
            "surprise_amount": surprise_amount,
            "alliances": int(params.alliances),
            "surprise_state": surprise_state,
            "surprise_system": surprise_system,
            "surprise_year": surprise_year,
        }
        record = np.zeros(1, dtype=kernels.STEP_PARAMETERS)
        for name in kernels.STEP_PARAMETERS.names:
            record[0][name] = derived_values[name] if name in derived_values else getattr(params, name)
        self.step_parameters = _frozen(record)
        self.observation_length = observation_length(params)
        #: Where the observation kernels write each field (``sd_env.layout``).
        self.observation_offsets = _frozen(ObservationLayout(params.n_states, params.n_systems).kernel_offsets())
        #: Stand-in for the noise array when there is no observation noise (no draws at all).
        self.no_noise = _frozen(np.zeros((0, 0, 0, 0)))
        #: The dtype and the shape after the batch axis of every CoreState field, in field order.
        sizes = {"N": params.n_states, "K": params.n_systems}
        self.state_dtypes = tuple(dtype for dtype, _ in STATE_FIELDS.values())
        self.state_tails = tuple(tuple(sizes[axis] for axis in axes[1:]) for _, axes in STATE_FIELDS.values())
        self._state_shapes: dict[int, tuple[tuple[int, ...], ...]] = {}

    def state_shapes(self, batch_size: int) -> tuple[tuple[int, ...], ...]:
        """The full shape of every CoreState field for ``batch_size`` environments, cached per batch size."""
        shapes = self._state_shapes.get(batch_size)
        if shapes is None:
            if len(self._state_shapes) >= 64:  # a caller cycling through batch sizes must not grow this forever
                self._state_shapes.clear()
            shapes = self._state_shapes[batch_size] = tuple((batch_size, *tail) for tail in self.state_tails)
        return shapes


#: Batches at least this large run on all of numba's threads (``NUMBA_NUM_THREADS``, default: every core)
#: when there is more than one; smaller ones run on one thread, where starting threads would cost more
#: than it saves. Results are identical either way.
THREADED_MIN_BATCH = 256


def _kernels(batch_size: int):
    """The compiled kernels to use for ``batch_size`` environments (``kernels.SERIAL`` or ``kernels.THREADED``)."""
    if batch_size >= THREADED_MIN_BATCH and numba.get_num_threads() > 1:
        return kernels.THREADED
    return kernels.SERIAL


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


# ---------------------------------------------------------------------------
# Input checks: every public function that takes a state holds it to the parameters here, once.


def check_state(params: EnvParams, state: CoreState) -> CoreState:
    """Return ``state``, or raise ``ValueError`` (one line) saying which field does not fit ``params``.

    A state fits when every field has the dtype and shape of :data:`STATE_FIELDS` for ``params``'
    ``n_states`` and ``n_systems`` and one batch size B (the batch of ``wealth``). Compiled kernels read
    past the end of arrays that are too small, so a state that does not fit would give garbage, not an
    error. Fields that are not C-contiguous (strided or transposed views) come back as contiguous copies:
    the kernels would otherwise be compiled anew, for seconds, for each such layout.

    Shape, dtype and layout comparisons only (about two microseconds at any batch size); the adapters'
    own fast path (:func:`step_and_observe_into`), which steps states they built themselves, skips this.
    """
    derived = _derived(params)
    if type(state) is CoreState:
        try:
            shapes = derived.state_shapes(state.wealth.shape[0])
            for array, dtype, shape in zip(state, derived.state_dtypes, shapes):
                if array.shape != shape or array.dtype != dtype or not array.flags.c_contiguous:
                    break
            else:
                return state
        except (AttributeError, IndexError):  # a field that is not an array, a 0-d wealth: said below
            pass
    return _contiguous_state(params, state)


def _contiguous_state(params: EnvParams, state: object) -> CoreState:
    """The slow path of :func:`check_state`: the error, or a state that fits with non-contiguous fields copied."""
    problem = _state_problem(params, state)
    if problem is not None:
        raise ValueError(problem)
    return CoreState(*(np.ascontiguousarray(array) for array in state))


def _state_problem(params: EnvParams, state: object) -> str | None:
    """What is wrong with a state, in one line, or None if it fits ``params`` (the slow path of ``check_state``)."""
    if not isinstance(state, CoreState):
        return f"state must be a CoreState (as core.reset returns), got {type(state).__name__}"
    sizes = f"n_states={params.n_states}, n_systems={params.n_systems}"
    wealth = state.wealth
    batch = wealth.shape[0] if isinstance(wealth, np.ndarray) and wealth.ndim > 0 else None
    for (name, (dtype, axes)), array, tail in zip(STATE_FIELDS.items(), state, _derived(params).state_tails):
        # The shape it must have, as a tuple prints: (4, 3), (4,), or (B, 3) when wealth gives no batch size.
        needed = "(" + ", ".join(map(str, ("B" if batch is None else batch, *tail))) + ("," if not tail else "") + ")"
        if not isinstance(array, np.ndarray):
            kind = type(array)
            given = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
            return f"state field {name} must be a numpy array of shape {needed} and dtype {dtype}, got {given}"
        if array.shape[1:] != tail or array.ndim != len(axes):
            return (f"state does not fit the parameters: {name} has shape {array.shape}, parameters need {needed} "
                    f"({sizes})")
        if batch is not None and array.shape[0] != batch:
            return (f"state fields disagree on the batch size: wealth holds {batch} environments but {name} has "
                    f"shape {array.shape}; it must be {needed}")
        if array.dtype != dtype:
            return f"state field {name} has dtype {array.dtype}, must be {dtype} (as core.reset makes it)"
    return None


def checked_action(params: EnvParams, action: object) -> np.ndarray | None:
    """One state's action as an int64 array of shape (A,), or None when it lies outside the action space.

    Inside means: an array of integers (any width; bool, float, complex, str and object arrays are not
    actions, even when their values would round to valid ones), of shape (A,), every component ``c``
    in ``[0, action_upper_bounds(params)[c])``. The single-agent checks of the adapters all come here
    and name the agent in their own error.
    """
    try:
        value = np.asarray(action)
    except (ValueError, TypeError):  # a ragged sequence is no array at all
        return None
    if value.dtype.kind not in "iu" or value.shape != (params.action_length,):
        return None
    # Compared in Python: for one short action this costs less than a call into the compiled check
    # (the AEC environment checks every agent's action at its own step).
    for entry, bound in zip(value.tolist(), _derived(params).upper_list):
        if not 0 <= entry < bound:
            return None
    return value.astype(np.int64, copy=False)


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
        home_wealth=wealth.copy(),
    )


def reset_where(params: EnvParams, state: CoreState, done: np.ndarray, rng: np.random.Generator) -> CoreState:
    """Reset only the environments where ``done`` (shape (B,), bool) is true; the rest are unchanged."""
    state = check_state(params, state)
    done = np.asarray(done, dtype=bool)
    if done.shape != (state.batch_size,):
        raise ValueError(f"done must have shape ({state.batch_size},), one flag per environment of the state; "
                         f"got shape {done.shape}")
    if not done.any():
        return state
    count = int(np.count_nonzero(done))
    fresh = reset(params, count, rng)
    merged = {}
    for name in CoreState._fields:
        array = getattr(state, name).copy()
        array[done] = getattr(fresh, name)
        merged[name] = array
    return CoreState(**merged)


# ---------------------------------------------------------------------------
# Actions


def check_actions(params: EnvParams, actions: np.ndarray, batch_size: int | None = None) -> np.ndarray:
    """Return ``actions`` as a C-contiguous int64 array of shape (B, N, A), or raise ``ValueError`` saying what
    is wrong.

    ``batch_size``, when given, is the B of the state the actions are for (a batch of actions that does
    not match would be read past its end). Integer arrays of any width and layout are accepted; strided
    or transposed views are copied, as the compiled kernels read contiguous arrays.
    """
    actions = np.asarray(actions)
    n_states, expected = params.n_states, params.action_length
    if actions.ndim != 3 or actions.shape[1:] != (n_states, expected):
        batch = "batch" if batch_size is None else batch_size
        raise ValueError(f"actions must have shape ({batch}, {n_states}, {expected}), got {actions.shape}")
    if batch_size is not None and actions.shape[0] != batch_size:
        raise ValueError(
            f"actions are for {actions.shape[0]} environments but the state holds {batch_size}; "
            f"give actions of shape ({batch_size}, {n_states}, {expected})"
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
    # One call converts and makes contiguous; an int64 C-contiguous array comes back as itself.
    return np.ascontiguousarray(actions, dtype=np.int64)


def first_out_of_bounds(params: EnvParams, actions: np.ndarray) -> tuple[int, ...] | None:
    """Index of the first integer action entry outside its component's range, or None if all are inside.

    ``actions`` has the action components on its last axis and any leading
    shape; every adapter locates bad actions with this one function.
    """
    dtype = actions.dtype
    if dtype != np.int64 or actions.ndim == 0:  # native int64 (the adapters' case) needs no checks here
        if dtype.kind not in "iu" or actions.ndim == 0:
            raise ValueError(
                f"actions must be an integer array with the components on the last axis, got {actions!r}"
            )
        if not dtype.isnative:  # the compiled check reads native byte order only
            actions = actions.astype(dtype.newbyteorder("="))
    # The compiled check flattens with reshape, which numba allows on C-contiguous arrays only.
    index = kernels.first_out_of_bounds(np.ascontiguousarray(actions), _derived(params).upper)
    if index < 0:
        return None
    return tuple(int(x) for x in np.unravel_index(index, actions.shape))


def action_upper_bounds(params: EnvParams) -> np.ndarray:
    """Exclusive upper bound of each action component (the MultiDiscrete ``nvec``; layout in ``sd_env.layout``)."""
    layout = ActionLayout(params.n_states, params.alliances)
    bounds = np.full(layout.length, 2, dtype=np.int64)  # the commitment flags
    bounds[layout.burden] = params.burden_levels
    bounds[layout.procurement] = params.n_systems + 1  # K: spread evenly
    bounds[layout.attack] = params.n_states  # 0: none; r: rival r
    return bounds


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

    Raises:
        ValueError: the state does not fit ``params`` (:func:`check_state`) or the actions do not fit the
            state and the action space (:func:`check_actions`).
    """
    state = check_state(params, state)
    return _step(params, state, check_actions(params, actions, state.batch_size), rng)


def _step(
    params: EnvParams, state: CoreState, actions: np.ndarray, rng: np.random.Generator
) -> tuple[CoreState, StepOutcome]:
    """:func:`step` for a state and actions already checked: ``state`` fits ``params`` (:func:`check_state`),
    ``actions`` is a C-contiguous int64 array (B, N, A) inside the action space.

    The adapters check actions themselves (to name the offending agent) and call this.
    """
    derived = _derived(params)
    batch, n, _ = state.stocks.shape
    # The only draws of a step: one uniform number per (attacker, victim) pair, used where an attack is made.
    draws = rng.random((batch, n, n))
    packed = _kernels(batch).step(
        *state, actions, draws, derived.offense_weights, derived.weapon_costs, derived.growth_rates,
        derived.step_parameters,
    )
    return _unpack_step(packed, state.greedy, state.initial_wealth)


def step_and_observe(
    params: EnvParams, state: CoreState, actions: np.ndarray, rng: np.random.Generator
) -> tuple[CoreState, StepOutcome, np.ndarray]:
    """``step`` then ``observe`` of the new state, in one compiled call (new arrays, as from ``step``).

    Same draws in the same order as ``step(...)`` followed by ``observe(...)``
    with the same generator, so the same results. The state and the actions
    are checked as by ``step``.
    """
    state = check_state(params, state)
    actions = check_actions(params, actions, state.batch_size)
    return step_and_observe_into(params, state, actions, rng, StepBuffers(params, state.batch_size))


class StepBuffers:
    """Outputs of one step of ``B`` environments, allocated once and rewritten by :func:`step_and_observe_into`.

    For adapters that step the same environments year after year: at a batch
    of one, allocating the year's arrays and handing them to Python costs more
    than computing them. ``outcome`` and the state fields are views of the
    buffers, built once. Two instances used in turn keep the state a step
    reads apart from the one it writes.
    """

    __slots__ = ("arrays", "wealth", "stocks", "alive", "commitments", "attacks", "year", "home_wealth", "outcome")

    def __init__(self, params: EnvParams, batch_size: int) -> None:
        self._bind(kernels.step_outputs(batch_size, params.n_states, params.n_systems))

    def _bind(self, arrays: tuple[np.ndarray, ...]) -> None:
        self.arrays = arrays
        # The state's own fields (greedy, initial wealth) do not change in a step: the caller's are used.
        next_state, self.outcome = _unpack_step(arrays, None, None)
        (self.wealth, self.stocks, self.alive, _, self.commitments, self.attacks, _, self.year,
         self.home_wealth) = next_state

    def __reduce__(self):
        # Copies and pickles must rebuild the views on the copied arrays: copied one by one, views would
        # become arrays of their own that the kernel never writes (vector-env wrappers deep-copy envs).
        return _step_buffers_of, (self.arrays,)


def _step_buffers_of(arrays: tuple[np.ndarray, ...]) -> StepBuffers:
    buffers = StepBuffers.__new__(StepBuffers)
    buffers._bind(arrays)
    return buffers


def step_and_observe_into(
    params: EnvParams, state: CoreState, actions: np.ndarray, rng: np.random.Generator, out: StepBuffers
) -> tuple[CoreState, StepOutcome, np.ndarray]:
    """``step`` then ``observe`` of the new state in one compiled call, writing the state and outcome into ``out``.

    Same draws in the same order as ``step(...)`` followed by ``observe(...)``
    with the same generator, so the same results.

    The returned state and outcome are views of ``out``: the next call with
    the same ``out`` overwrites them, so step with two buffers in turn (``out``
    must not hold ``state``) and copy what must outlive that. The observation
    is a new array every call (agents may keep it). The state and the actions
    must already be checked, as for ``_step``: this is the fast path of the
    adapters, which step states they built themselves.
    """
    derived = _derived(params)
    stocks = state.stocks
    batch, n, _ = stocks.shape
    if out.stocks is stocks:
        raise ValueError("out holds the state being stepped; step with two StepBuffers in turn")
    draws = rng.random((batch, n, n))
    noise = _observation_noise(params, stocks.shape, rng)
    observation = np.empty((batch, n, derived.observation_length), dtype=np.float32)
    kernels.step_observe_into(
        state.wealth, stocks, state.alive, state.greedy, state.commitments, state.initial_wealth, state.year,
        state.home_wealth, actions, draws, derived.offense_weights, derived.weapon_costs, derived.growth_rates,
        derived.step_parameters,
        noise, derived.weapon_visibility, derived.confusion, *out.arrays, observation,
        derived.observation_offsets,
    )
    new_state = CoreState(out.wealth, out.stocks, out.alive, state.greedy, out.commitments, out.attacks,
                          state.initial_wealth, out.year, out.home_wealth)
    return new_state, out.outcome, observation


def _unpack_step(packed, greedy: np.ndarray, initial_wealth: np.ndarray) -> tuple[CoreState, StepOutcome]:
    """Split the step kernel's packed outputs into the next state and the year's outcome (views, no copies).

    ``greedy`` and ``initial_wealth`` are the stepped state's (a step does not change them).
    """
    out = kernels.unpack_step_outputs(packed)
    # Positional, in field order (keywords cost a microsecond per call at batch one).
    new_state = CoreState(out.wealth, out.stocks, out.alive, greedy, out.commitments, out.attacks, initial_wealth,
                          out.year, out.home_wealth)
    outcome = StepOutcome(out.rewards, out.welfare, out.burden, out.spending, out.consumption, out.attacks,
                          out.victories, out.probability, out.joins, out.reneges, out.eliminated, out.truncated)
    return new_state, outcome


# ---------------------------------------------------------------------------
# Observation and global state


def observation_length(params: EnvParams) -> int:
    """Length of one state's observation vector (layout in ``sd_env.layout.ObservationLayout``)."""
    return ObservationLayout(params.n_states, params.n_systems).length


def apparent_stocks(params: EnvParams, stocks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """How every observer sees every state's stocks: ``[b, observer, observed, system]``.

    Concealment (``weapon_visibility``) hides part of each stock, the
    confusion matrix blurs types towards their average (distinguishability),
    and independent mean-one log-normal noise of scale ``observation_noise``
    distorts magnitudes. Shape (B, N, N, K).

    ``stocks`` is an array of shape (B, N, K) (the ``stocks`` of a :class:`CoreState`); other real dtypes
    and layouts are converted to the contiguous float64 array the compiled kernel reads.
    """
    derived = _derived(params)
    stocks = np.ascontiguousarray(stocks, dtype=np.float64)
    if stocks.ndim != 3 or stocks.shape[1:] != (params.n_states, params.n_systems):
        raise ValueError(f"stocks has shape {stocks.shape}, parameters need (B, {params.n_states}, "
                         f"{params.n_systems}) (n_states={params.n_states}, n_systems={params.n_systems})")
    return _kernels(stocks.shape[0]).apparent(stocks, _observation_noise(params, stocks.shape, rng),
                                              derived.weapon_visibility, derived.confusion)


def _observation_noise(params: EnvParams, shape: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    """Mean-one log-normal noise, shape (B, N, N, K); no draws (an empty array) when ``observation_noise`` is 0."""
    sigma = params.observation_noise
    if sigma == 0.0:  # perfect intelligence
        return _derived(params).no_noise
    batch, n, k = shape
    # exp(sigma * z - sigma^2 / 2): mean one, so noise distorts without biasing.
    return rng.lognormal(mean=-0.5 * sigma * sigma, sigma=sigma, size=(batch, n, n, k))


def observe(params: EnvParams, state: CoreState, rng: np.random.Generator) -> np.ndarray:
    """Every state's observation, float32 of shape (B, N, observation_length).

    Own wealth, exact stocks, type, the fraction of the episode elapsed and own home wealth;
    then per rival: alive, wealth, apparent stocks (:func:`apparent_stocks`),
    last year's attacks both ways and commitments both ways. Zeros for the eliminated.
    ``state`` must fit ``params`` (:func:`check_state`).
    """
    return _observe(params, check_state(params, state), rng)


def _observe(params: EnvParams, state: CoreState, rng: np.random.Generator) -> np.ndarray:
    """:func:`observe` of a state already checked (the fast path of adapters that built the state themselves)."""
    derived = _derived(params)
    return _kernels(state.batch_size).observe(state.wealth, state.stocks, state.alive, state.greedy, state.commitments,
                                  state.attacks, state.year, _observation_noise(params, state.stocks.shape, rng),
                                  derived.weapon_visibility, derived.confusion, params.max_cycles, state.home_wealth,
                                  derived.observation_offsets)


def global_state_length(params: EnvParams) -> int:
    """Length of the global state vector for centralised critics."""
    n, k = params.n_states, params.n_systems
    return n * (k + 6) + n * n + 1


def global_state(params: EnvParams, state: CoreState) -> np.ndarray:
    """True, noise-free state of every environment, float32 of shape (B, global_state_length).

    Per state: alive, wealth, true stocks (K), greedy, offence, defence, home wealth; then
    the commitment matrix (row i, column j: i defends j) and the fraction of
    the episode elapsed. ``state`` must fit ``params`` (:func:`check_state`).
    """
    state = check_state(params, state)
    batch = state.batch_size
    per_state = np.concatenate(
        [
            state.alive[:, :, None],
            state.wealth[:, :, None],
            state.stocks,
            state.greedy[:, :, None],
            offense(params, state.stocks)[:, :, None],
            total_defense(params, state.stocks, state.wealth)[:, :, None],
            state.home_wealth[:, :, None],
        ],
        axis=2,
    ).reshape(batch, -1)
    return np.concatenate(
        [per_state, state.commitments.reshape(batch, -1), (state.year / params.max_cycles)[:, None]],
        axis=1,
    ).astype(np.float32)

