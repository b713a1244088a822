"""A stable-baselines3 ``VecEnv`` over the batched core: many games, one shared policy.

``SecurityDilemmaVecEnv`` runs ``num_envs`` copies of the game in one batched
:class:`sd_env.core.CoreState` and shows every (environment, learning state)
pair to stable-baselines3 as one row, so a single-agent algorithm such as PPO
trains one policy shared by every seat (parameter sharing). Observations and
actions are ego-centric, so the same network can play any seat. It is a thin
adapter: every piece of the dynamics is a call to ``sd_env.core``.

Example::

    from stable_baselines3 import PPO
    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    env = SecurityDilemmaVecEnv(num_envs=64, scenario="jervis-1", seed=0)
    model = PPO("MlpPolicy", env, seed=0, device="cpu").learn(100_000)
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from sd_env import core
from sd_env.measures import step_measures
from sd_env.params import EnvParams
from sd_env.render import render_frame, render_image
from sd_env.scenarios import make_params
from sd_env.spaces import action_space, observation_space

__all__ = ["SecurityDilemmaVecEnv"]


def _take(state: core.CoreState, mask: np.ndarray) -> core.CoreState:
    """The environments of ``state`` selected by the boolean mask ``mask`` (shape (B,)), as a smaller batch."""
    return core.CoreState(**{name: getattr(state, name)[mask] for name in core.CoreState._fields})


class SecurityDilemmaVecEnv(VecEnv):
    """``num_envs`` security-dilemma games as one stable-baselines3 ``VecEnv`` with parameter sharing.

    **Rows.** Each (environment b, learning state i) pair is one row, ordered
    environment-major: with every seat learning, row ``b * N + i`` is
    ``state_i`` of environment ``b``, and SB3 sees ``self.num_envs ==
    num_envs * N`` rows. ``self.num_games`` is the number of environments.
    Observation and action spaces are those of one state in the PettingZoo
    environment (``sd_env.spaces``).

    **Opponents.** ``opponents`` maps seat indices to fixed policies (objects
    with ``act(observations (M, obs_len)) -> actions (M, A)``, the
    :class:`sd_env.policy.Policy` interface). Those seats are played by the
    policy, in every environment, and are not rows: rows are then
    ``num_envs * len(learner_seats)``, row ``b * L + j`` being seat
    ``learner_seats[j]`` of environment b. One policy object given for
    several seats is called once per step for all of them. On every seeded
    reset, opponents that are :class:`sd_env.policy.Policy` instances are
    reseeded (``policy.reset(seed=...)``) from the environment's seed, so
    training against random opponents is reproducible too.

    **Episode end and auto-reset.** An environment's episode ends when it is
    truncated at ``max_cycles``, or earlier when none of its learning states
    is alive any more (nothing is left to learn from it; without opponents
    this means every state was eliminated). Then every row of that
    environment reports ``done=True``; ``infos[row]["terminal_observation"]``
    holds the row's final observation, ``infos[row]["TimeLimit.truncated"]``
    is True for rows that were not eliminated in that very step (so PPO
    bootstraps from the value of the terminal observation), and the
    environment is reset with ``sd_env.core.reset_where``: the observation
    returned for those rows is the first one of the new episode, and
    ``self.reset_infos[row]`` is ``{"greedy": bool}`` of the new episode.

    **Eliminated states ("black death", as in SuperSuit).** In the step a
    state is eliminated its row reports ``done=True`` with
    ``terminal_observation`` and ``TimeLimit.truncated=False`` (a real
    termination). From then on, until its environment resets, the row emits
    all-zero observations, reward 0 and ``done=False``, and the actions given
    for it are ignored by the core (they must still lie in the action space).
    When its environment's episode ends, the dead row reports ``done=True``
    once more, with ``TimeLimit.truncated=True`` and an all-zero terminal
    observation, so that it restarts cleanly with everyone else.

    **Measures.** After every step, ``last_measures`` holds per-row arrays
    (shape (rows,)) of every per-step measure of ``sd_env.measures``
    (``military_burden``, ``welfare``, ``attacks`` the row's state launched
    this step, ``victories``, ``attacked_by``...). They are arrays,
    not entries of every row's info dict, because building and reading
    thousands of small dicts a step costs more than the step itself.

    **Infos.** A row's info is empty unless its episode ended. When a
    row's own episode ends (elimination, or the end of its environment's
    episode while alive) its info also has ``"episode": {"r": return, "l":
    length, "t": seconds since creation}`` as SB3's ``Monitor`` would write
    it, so ``model.ep_info_buffer`` and the ``rollout/ep_rew_mean`` log work
    without a Monitor. A dead row's second ``done`` carries no ``episode``.

    **Seeding.** ``seed(s)`` (which SB3 calls for ``PPO(..., seed=s)``) makes
    the next ``reset()`` start the core's ``numpy.random.Generator`` from
    ``s``; every random draw of the environment (initial wealth and types,
    war outcomes, observation noise, auto-resets) comes from that one
    generator, so runs are reproducible. The constructor's ``seed`` does the
    same for the first reset. With ``num_envs=1`` and no opponents the draws
    are those of ``SecurityDilemmaEnv.reset(seed=s)`` followed by the same steps.

    **Actions** are an integer array (rows, A); one outside the space raises
    ``ValueError`` naming the row, its environment and ``state_i``.

    **VecEnv methods.** All rows share one simulator, whose attributes are
    this object's: ``get_attr`` returns the attribute once per requested row,
    ``set_attr`` sets it once (only for all rows; setting ``params`` to
    parameters with the same spaces takes effect from the next step),
    ``env_method`` calls the method once and repeats its result per row,
    ``env_is_wrapped`` is False for every row, and ``render()`` returns the
    text table of environment 0 (``"rgb_array"``: its image; ``"human"``: prints it).

    Args:
        num_envs: number of environments (games) B run in one batch.
        scenario: a named scenario (``sd_env.scenarios.SCENARIOS``).
        params: complete parameters; if given, ``scenario`` and ``parameters`` must not be.
        seed: seed of the first reset (see Seeding).
        opponents: optional mapping seat index -> fixed policy (see Opponents).
        **parameters: overrides of the scenario's parameters (``sd_env.params.EnvParams`` fields).
    """

    #: SB3's VecEnv reads ``render_mode`` while initialising; rendering is on demand via ``render(mode)``.
    render_mode: str | None = None

    def __init__(
        self,
        num_envs: int = 8,
        scenario: str = "bilateral",
        params: EnvParams | None = None,
        seed: int | None = None,
        opponents: Mapping[int, Any] | None = None,
        **parameters: Any,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        if params is None:
            params = make_params(scenario, **parameters)
        elif parameters:
            raise ValueError(
                f"give either params or keyword parameters, not both (got params and {sorted(parameters)})"
            )
        elif not isinstance(params, EnvParams):
            raise ValueError(f"params must be an EnvParams, got {type(params).__name__}")
        self.scenario = scenario
        self._params = params
        self.num_games = int(num_envs)
        n_states = params.n_states

        opponents = dict(opponents or {})
        for seat, policy in opponents.items():
            if isinstance(seat, bool) or not isinstance(seat, (int, np.integer)) or not 0 <= seat < n_states:
                raise ValueError(f"opponent seat {seat!r} is not a state index in [0, {n_states - 1}]")
            if not callable(getattr(policy, "act", None)):
                raise ValueError(f"opponent for seat {seat} has no act(observations) method: {policy!r}")
        self.opponents: dict[int, Any] = {int(seat): opponents[seat] for seat in sorted(opponents, key=int)}
        self.learner_seats = np.array([i for i in range(n_states) if i not in self.opponents], dtype=np.int64)
        if self.learner_seats.size == 0:
            raise ValueError(f"every one of the {n_states} seats is an opponent; at least one must learn")
        self.n_learners = int(self.learner_seats.size)
        # Indexing the seat axis with a slice gives views, not copies, in the common all-learn case.
        self._seat_index = slice(None) if not self.opponents else self.learner_seats
        # Seats sharing one policy object are played by one call to act().
        groups: dict[int, tuple[Any, list[int]]] = {}
        for seat, policy in self.opponents.items():
            groups.setdefault(id(policy), (policy, []))[1].append(seat)
        self._opponent_groups = [(policy, np.array(seats)) for policy, seats in groups.values()]

        self._rng = np.random.default_rng(seed)
        if seed is not None:
            self._reseed_opponents(seed)
        self._state: core.CoreState | None = None
        self._observations: np.ndarray | None = None  # (B, N, obs_len): last observation of every seat
        self._actions: np.ndarray | None = None
        self._full_actions = np.zeros((self.num_games, n_states, params.action_length), dtype=np.int64)
        self._episode_return = np.zeros((self.num_games, self.n_learners))
        self._episode_length = np.zeros((self.num_games, self.n_learners), dtype=np.int64)
        self._start_time = time.time()
        self.last_measures: dict[str, np.ndarray] = {}
        self.closed = False
        super().__init__(self.num_games * self.n_learners, observation_space(params), action_space(params))

    # --- parameters and state ------------------------------------------------------

    @property
    def params(self) -> EnvParams:
        """The model parameters; assignable to parameters with the same spaces (effective from the next step)."""
        return self._params

    @params.setter
    def params(self, value: EnvParams) -> None:
        if not isinstance(value, EnvParams):
            raise ValueError(f"params must be an EnvParams, got {type(value).__name__}")
        if observation_space(value) != self.observation_space or action_space(value) != self.action_space:
            raise ValueError(
                "new params must keep the observation and action spaces "
                f"({self.observation_space}, {self.action_space}); create a new SecurityDilemmaVecEnv instead"
            )
        self._params = value

    @property
    def n_states(self) -> int:
        return self._params.n_states

    @property
    def core_state(self) -> core.CoreState:
        """The batched core state of all ``num_games`` environments (read-only, for measures and tests)."""
        if self._state is None:
            raise RuntimeError("call reset() before reading the state")
        return self._state

    def row_of(self, environment: int, seat: int) -> int:
        """The row index of learning seat ``seat`` of environment ``environment``."""
        position = np.flatnonzero(self.learner_seats == seat)
        if position.size == 0:
            raise ValueError(f"state_{seat} is played by an opponent, not a row; learner seats: {self.learner_seats}")
        return int(environment) * self.n_learners + int(position[0])

    def _reseed_opponents(self, seed: int) -> None:
        # Imported here, to keep this module importable on its own.
        from sd_env.policy import Policy

        for k, (policy, _) in enumerate(self._opponent_groups):
            if isinstance(policy, Policy):
                policy.reset(seed=int(np.random.SeedSequence([int(seed), k]).generate_state(1)[0]))

    def _rows(self, per_seat: np.ndarray) -> np.ndarray:
        """(B, N, ...) -> (rows, ...), learner seats only, environment-major (always a new array)."""
        return per_seat[:, self.learner_seats].reshape(self.num_envs, *per_seat.shape[2:])

    def _greedy_rows(self, state: core.CoreState) -> list[bool]:
        return self._rows(state.greedy).tolist()

    # --- VecEnv API ------------------------------------------------------------------

    def reset(self) -> VecEnvObs:
        """Start a new episode in every environment; uses the seed set by ``seed()`` if any."""
        seed = self._seeds[0]
        if seed is not None:
            self._rng = np.random.default_rng(seed)
            self._reseed_opponents(seed)
        self._state = core.reset(self._params, self.num_games, self._rng)
        self._observations = core.observe(self._params, self._state, self._rng)
        self._episode_return[:] = 0.0
        self._episode_length[:] = 0
        self.reset_infos = [{"greedy": greedy} for greedy in self._greedy_rows(self._state)]
        self._actions = None
        self._reset_seeds()
        self._reset_options()
        return self._rows(self._observations)

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Seed the next ``reset()``: the core's generator starts from ``seed`` (SB3 semantics).

        Returns one seed per row, ``seed + row`` as in SB3; the core uses the first, ``seed``.
        """
        return super().seed(seed)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = self._check_actions(actions)

    def _check_actions(self, actions: np.ndarray) -> np.ndarray:
        """Actions as int64 (B, L, A), or ``ValueError`` naming the first offending row, state and the space."""
        actions = np.asarray(actions)
        rows, length = self.num_envs, self._params.action_length
        if actions.shape != (rows, length):
            raise ValueError(
                f"actions must have shape ({rows}, {length}): one row per (environment, learning state), "
                f"each in {self.action_space}; got shape {actions.shape}"
            )
        if not np.issubdtype(actions.dtype, np.integer):
            raise ValueError(f"actions must be integers in {self.action_space}, got dtype {actions.dtype}")
        where = core.first_out_of_bounds(self._params, actions)
        if where is not None:
            row, component = where
            environment, position = divmod(row, self.n_learners)
            seat = int(self.learner_seats[position])
            raise ValueError(
                f"action {actions[row].tolist()} of row {row} (environment {environment}, state_{seat}) "
                f"is outside the action space {self.action_space}: component {component} is "
                f"{actions[row, component]}, must be in [0, {self.action_space.nvec[component] - 1}]"
            )
        return actions.astype(np.int64, copy=False).reshape(self.num_games, self.n_learners, length)

    def step_wait(self) -> VecEnvStepReturn:
        if self._state is None or self._observations is None:
            raise RuntimeError("call reset() before step()")
        if self._actions is None:
            raise RuntimeError("call step_async(actions) before step_wait()")
        params, state, rng, seats = self._params, self._state, self._rng, self._seat_index
        full = self._full_actions
        full[:, seats] = self._actions
        self._actions = None
        for policy, policy_seats in self._opponent_groups:
            observed = self._observations[:, policy_seats].reshape(-1, self._observations.shape[2])
            full[:, policy_seats] = np.asarray(policy.act(observed)).reshape(
                self.num_games, policy_seats.size, params.action_length
            )
        try:
            checked = core.check_actions(params, full, self.num_games)
        except ValueError as error:
            raise ValueError(f"an opponent policy returned an invalid action: {error}") from error
        # The core's fast paths: this adapter built the state itself (core.reset, core.reset_where), with
        # parameters whose spaces, and so whose array shapes, never change (see the params setter).
        state, outcome = core._step(params, state, checked, rng)
        observations = core._observe(params, state, rng)

        was_alive = self._state.alive[:, seats]
        alive = state.alive[:, seats]
        eliminated = outcome.eliminated[:, seats]
        rewards = outcome.rewards[:, seats]
        ended = outcome.truncated | ~alive.any(axis=1)  # (B,): environments whose episode ends now
        dones = eliminated | ended[:, None]
        episode_over = eliminated | (ended[:, None] & alive)  # a row's own episode ends (reported once)
        self._episode_return += rewards
        self._episode_length += was_alive

        self.last_measures = {name: values[:, seats].ravel() for name, values in step_measures(outcome).items()}
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        row_observations = self._rows(observations)  # a new array; rows of reset environments replaced below
        done_rows = np.flatnonzero(dones)
        if done_rows.size:
            terminal = row_observations[done_rows]
            truncated = (~eliminated).ravel()[done_rows].tolist()
            report = episode_over.ravel()[done_rows].tolist()
            returns = self._episode_return.ravel()[done_rows].tolist()
            lengths = self._episode_length.ravel()[done_rows].tolist()
            elapsed = round(time.time() - self._start_time, 6)
            for k, row in enumerate(done_rows.tolist()):
                info = infos[row]
                info["terminal_observation"] = terminal[k]
                info["TimeLimit.truncated"] = truncated[k]
                if report[k]:
                    info["episode"] = {"r": returns[k], "l": lengths[k], "t": elapsed}

        if ended.any():
            state = core.reset_where(params, state, ended, rng)
            first = core._observe(params, _take(state, ended), rng)
            observations[ended] = first
            row_observations.reshape(self.num_games, self.n_learners, -1)[ended] = first[:, seats]
            self._episode_return[ended] = 0.0
            self._episode_length[ended] = 0
            greedy = self._rows(state.greedy)
            for row in np.flatnonzero(np.repeat(ended, self.n_learners)).tolist():
                self.reset_infos[row] = {"greedy": bool(greedy[row])}

        self._state = state
        self._observations = observations
        return row_observations, rewards.ravel().astype(np.float32), dones.ravel(), infos

    def close(self) -> None:
        self._state = None
        self._observations = None
        self.closed = True

    # --- attributes, methods, rendering ----------------------------------------------

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The attribute of the shared simulator, once per requested row."""
        value = getattr(self, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute of the shared simulator; rows cannot differ, so only all rows at once."""
        requested = set(self._get_indices(indices))
        if requested != set(range(self.num_envs)):
            raise ValueError(
                f"all {self.num_envs} rows share one simulator: set_attr({attr_name!r}) applies to every row, "
                f"not to a subset ({len(requested)} rows requested)"
            )
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        """Call a method of the shared simulator once; its result is repeated for each requested row."""
        result = getattr(self, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """No row is a wrapped gymnasium environment."""
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        """One RGB image per row: the image of the row's environment."""
        images = [render_image(self._params, self.core_state, b) for b in range(self.num_games)]
        return [images[row // self.n_learners] for row in range(self.num_envs)]

    def render(self, mode: str | None = None) -> Any:
        """Environment 0: text table (``None``/``"ansi"``), printed (``"human"``) or an RGB image (``"rgb_array"``)."""
        return render_frame(self._params, self.core_state, mode, 0)
