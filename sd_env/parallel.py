"""The PettingZoo parallel environment: a thin adapter over ``sd_env.core`` with batch size one."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from sd_env import core
from sd_env.infos import agent_infos
from sd_env.layout import action_table, observation_table
from sd_env.params import EnvParams, parameter_table_text
from sd_env.render import render_frame
from sd_env.scenarios import make_params
from sd_env.spaces import action_space, observation_space, state_space


class SecurityDilemmaEnv(ParallelEnv):
    """N states arm under uncertainty: the security dilemma (Herz 1950; Jervis 1978).

    ## Description

    Each year (one step) every living state chooses how much of its wealth to
    spend on arms (guns versus butter), which weapon system to buy, whether to
    attack a rival and, with alliances on, which rivals it is committed to
    defend. Weapon systems have true offensive weights; offence and defence
    are weighted sums of stocks. Wars are decided by a contest success
    function in which the attacker's offence is multiplied by the
    offence-defence balance. Rivals' stocks are seen through magnitude noise
    (``observation_noise``) and type blur (``distinguishability``); each
    state's type (security seeker or greedy) is private. The equations are in
    ``docs/model.md``.

    ## Agents

    ``state_0 ... state_{N-1}``. Observations and actions are ego-centric:
    for state i, "rival r" (r = 1 .. N-1) is state ``(i + r) % N``.

    ## Action Space

    ``MultiDiscrete`` with ``3 + (N - 1 if alliances else 0)`` entries (declared in ``sd_env.layout``)::

__ACTION_TABLE__

    An action outside this space raises ``ValueError`` naming the agent and the space; so does one
    that is not an array of integers (bool, float or string actions are refused, not rounded).

    ## Observation Space

    ``Box(float32)`` (declared in ``sd_env.layout``)::

__OBSERVATION_TABLE__

    ``sd_env.layout.ObservationLayout`` gives these indices by name.

    ## Infos

    The same keys at reset and at every step (``sd_env.infos.INFO_KEYS``):
    ``greedy`` (own private type), ``military_burden``, ``welfare``,
    ``attacks``, ``victories``, ``attacked_by`` (this year's; zero at reset).

    ## Rewards

    Each year: ``log(1 + consumption)`` (welfare from butter) for a greedy
    state, plus ``greed_bonus`` per successful attack. A security seeker
    values its home economy (own home wealth in the observation: wealth that
    grows and suffers war like all wealth but never gains spoils) and wealth
    taken by conquest only at ``seeker_conquest_value`` (0 by default). Both minus ``renege_cost`` per commitment reneged on,
    minus ``elimination_penalty`` in the year a state is eliminated.
    Eliminated states earn nothing after. ``docs/model.md`` has the equations.

    ## Starting State

    Wealth ``initial_wealth`` times a uniform draw in ``[1 - j, 1 + j]``
    (``j = initial_wealth_jitter``); arms ``initial_arms`` times wealth spread
    evenly over systems; each state greedy with probability ``greedy_prior``;
    members of each of ``alliance_blocs`` committed to one another.

    ## Episode End

    1. Termination: a state whose wealth falls below ``elimination_threshold``
       times its initial wealth is eliminated (terminated, and removed from
       ``agents``); what is left of it goes to the states that beat it that year.
    2. Truncation: every remaining state after ``max_cycles`` years.

    ## Arguments

    ``SecurityDilemmaEnv(scenario="bilateral", render_mode=None, **parameters)``:
    ``scenario`` names a preset (``sd_env.scenarios.SCENARIOS``); every field of
    :class:`sd_env.params.EnvParams` can be given as a keyword and overrides the
    scenario. All of them (name, default, allowed values, meaning; generated
    from the declarations in ``sd_env.params.PARAMETERS``, as ``sd-env params``
    prints them)::

__PARAMETER_TABLE__

    ## Version History

    * v0: first release.
    * v0, sd-env 0.2.0: security seekers value their status quo, not conquest
      (``seeker_conquest_value``); rewards of security seekers who conquer
      differ from 0.1.0, dynamics and spaces are unchanged.
    """

    metadata = {
        "name": "security_dilemma_v0",
        "render_modes": ["human", "ansi", "rgb_array"],
        "is_parallelizable": True,
        "render_fps": 2,
    }

    def __init__(self, scenario: str = "bilateral", render_mode: str | None = None, **parameters: Any) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}"
            )
        self.scenario = scenario
        self.params: EnvParams = make_params(scenario, **parameters)
        self.render_mode = render_mode
        self.possible_agents = [f"state_{i}" for i in range(self.params.n_states)]
        self.agents: list[str] = []
        self._agent_index = {agent: i for i, agent in enumerate(self.possible_agents)}
        single_action_space = action_space(self.params)
        single_observation_space = observation_space(self.params)
        self.action_spaces = {agent: single_action_space for agent in self.possible_agents}
        self.observation_spaces = {agent: single_observation_space for agent in self.possible_agents}
        self.state_space = state_space(self.params)
        # A read-only int64 row, so that dead states' rows take the same cheap dtype test as the agents' arrays.
        self._zero_action = np.zeros(self.params.action_length, dtype=np.int64)
        self._zero_action.flags.writeable = False
        self._batch_shape = (1, self.params.n_states, self.params.action_length)
        self.np_random, self.np_random_seed = seeding.np_random(None)
        self._state: core.CoreState | None = None
        # Two sets of output arrays, written in turn: each step reads the state one holds and writes the
        # other, so a step allocates nothing but the observations it hands out.
        self._buffers = (core.StepBuffers(self.params, 1), core.StepBuffers(self.params, 1))
        self._next_buffer = 0

    # --- spaces (cached: the same object every call) -----------------------------

    def observation_space(self, agent: str) -> gymnasium.spaces.Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.spaces.MultiDiscrete:
        return self.action_spaces[agent]

    @property
    def max_cycles(self) -> int:
        """Years per episode; assigning it changes the parameter (PettingZoo's test harness does)."""
        return self.params.max_cycles

    @max_cycles.setter
    def max_cycles(self, value: int) -> None:
        self.params = self.params.replace(max_cycles=value)

    @property
    def core_state(self) -> core.CoreState:
        """A copy of the underlying batch-of-one core state (for measures and tests; keeps after later steps)."""
        if self._state is None:
            raise RuntimeError("call reset() before reading the state")
        # The env rewrites its state arrays in place every other step, so hand out a snapshot.
        return core.CoreState(*(array.copy() for array in self._state))

    # --- PettingZoo API -------------------------------------------------------------

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        if seed is not None:
            self.np_random, self.np_random_seed = seeding.np_random(seed)
        self._state = core.reset(self.params, 1, self.np_random)
        self.agents = self.possible_agents[:]
        observations = core.observe(self.params, self._state, self.np_random)[0]
        per_state = agent_infos(self._state, None)
        infos = {agent: per_state[i] for i, agent in enumerate(self.agents)}
        return {agent: observations[self._agent_index[agent]] for agent in self.agents}, infos

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        batch_actions = self._to_batch(actions)
        acting = self.agents
        # Actions were checked against the spaces above, so the core's own check is skipped.
        out = self._buffers[self._next_buffer]
        self._next_buffer ^= 1
        self._state, outcome, observations = core.step_and_observe_into(
            self.params, self._state, batch_actions, self.np_random, out
        )
        observations = observations[0]
        truncated = bool(outcome.truncated[0])
        # One tolist per array gives Python floats and bools for every state at once.
        rewards_of, eliminated_of = outcome.rewards[0].tolist(), outcome.eliminated[0].tolist()
        per_state = agent_infos(self._state, outcome)
        result_obs, rewards, terminations, truncations, infos = {}, {}, {}, {}, {}
        survivors = []
        for agent in acting:
            i = self._agent_index[agent]
            result_obs[agent] = observations[i]
            rewards[agent] = rewards_of[i]
            terminations[agent] = eliminated = eliminated_of[i]
            truncations[agent] = truncated and not eliminated
            infos[agent] = per_state[i]
            if not (eliminated or truncated):
                survivors.append(agent)
        self.agents = survivors
        if self.render_mode == "human":
            self.render()
        return result_obs, rewards, terminations, truncations, infos

    def check_action(self, agent: str, action: Any) -> np.ndarray:
        """``action`` of ``agent`` as an int64 array of shape (A,), or ``ValueError`` naming the agent and its space.

        The one test of one agent's action (``sd_env.core.checked_action``): integers of any width (not bool,
        float, str, object or complex, even where their values would round into the space), the space's
        shape, every component inside its range. The AEC environment checks each action with this at the
        step it is given; :meth:`step` gives the same message for the first offending agent.
        """
        space = self.action_spaces.get(agent)
        if space is None:
            raise ValueError(f"{agent!r} is not an agent of this environment; agents: {self.possible_agents}")
        value = core.checked_action(self.params, action)
        if value is None:
            raise ValueError(f"action {action!r} of {agent} is outside its action space {space}")
        return value

    def _to_batch(self, actions: dict[str, Any]) -> np.ndarray:
        """Check the action dict against the spaces and stack it as int64 (1, N, A); dead states get zeros."""
        agents = self.agents
        if len(actions) != len(agents) or actions.keys() != set(agents):
            unknown = [agent for agent in actions if agent not in agents]
            if unknown:
                raise ValueError(f"actions given for agents that are not active: {unknown}; active agents: {agents}")
            missing = [agent for agent in agents if agent not in actions]
            raise ValueError(f"no action given for active agent(s) {missing}")
        # Eliminated states' rows are zeros (the core ignores them); their agents are not in ``actions``.
        zeros = self._zero_action
        rows = [actions.get(agent, zeros) for agent in self.possible_agents]
        batch = None
        try:
            for row in rows:  # each agent's own dtype: np.array would stack a bool row with integer rows to int64
                if (row.dtype if type(row) is np.ndarray else np.asarray(row).dtype).kind not in "iu":
                    break
            else:
                batch = np.array([rows])
        except ValueError:  # ragged: some action has the wrong length
            pass
        if (batch is None or batch.shape != self._batch_shape or batch.dtype.kind not in "iu"
                or core.first_out_of_bounds(self.params, batch) is not None):
            # The slow path, for errors (and mixed integer widths that stack to float): agent by agent, so
            # the first offending agent is named, with the message ``check_action`` gives.
            batch = np.array([[self.check_action(agent, actions[agent]) if agent in actions else zeros
                               for agent in self.possible_agents]])
        if batch.dtype != np.int64:
            batch = batch.astype(np.int64)
        return batch

    def state(self) -> np.ndarray:
        """The global state for centralised critics (true stocks, wealth, types; ``sd_env.core.global_state``)."""
        return core.global_state(self.params, self.core_state)[0]

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode; pass render_mode='ansi' or 'rgb_array'.")
            return None
        if self._state is None:
            raise RuntimeError("call reset() before render()")
        return render_frame(self.params, self._state, self.render_mode)

    def close(self) -> None:
        pass


def _indented(text: str) -> str:
    return "\n".join("        " + line if line else "" for line in text.splitlines())


# The tables are generated from the declarations (layouts, parameters), so they cannot drift from the code.
SecurityDilemmaEnv.__doc__ = (
    SecurityDilemmaEnv.__doc__.replace("__PARAMETER_TABLE__", _indented(parameter_table_text()))
    .replace("__ACTION_TABLE__", _indented(action_table()))
    .replace("__OBSERVATION_TABLE__", _indented(observation_table()))
)
