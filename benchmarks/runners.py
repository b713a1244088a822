"""One runner per API measured; each times only the environment's own calls (``benchmarks.harness``).

* ``ParallelRunner``, ``AECRunner``: any PettingZoo environment (sd-env's, rps_v2, mpe2's);
* ``VecEnvRunner``: any SB3 ``VecEnv``, built by ``make_sd_vec_env`` (sd-env's own) or
  ``make_supersuit_vec_env`` (the SuperSuit + SB3 path over sd-env's parallel environment);
* ``CoreRunner``: the raw batched core (``core.step`` + ``core.reset_where`` + ``core.observe``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.harness import Run, Runner, action_bank, bank_length, dict_action_bank


class DictRunner(Runner):
    """A PettingZoo environment (parallel or AEC), reset with ``seed``, with 64 pre-drawn actions per agent."""

    def __init__(self, make: Callable[[], Any], seed: int) -> None:
        self.env = make()
        self.env.reset(seed=seed)
        self.bank = dict_action_bank(self.env, 64, seed + 1)
        self.t = 0


class ParallelRunner(DictRunner):
    """A PettingZoo ``ParallelEnv``: ``step(actions of the live agents)``, ``reset()`` when no agent is left."""

    def run(self, n: int) -> Run:
        env, bank, clock = self.env, self.bank, time.perf_counter
        seconds, agent_steps = 0.0, 0
        for _ in range(n):
            slot = self.t % 64
            self.t += 1
            actions = {agent: bank[agent][slot] for agent in env.agents}
            start = clock()
            env.step(actions)
            if not env.agents:
                env.reset()
            seconds += clock() - start
            agent_steps += len(actions)
        return Run(seconds, agent_steps, n)


class AECRunner(DictRunner):
    """A PettingZoo ``AECEnv``: ``last()`` then ``step(action or None)``; ``n`` counts turns."""

    def run(self, n: int) -> Run:
        env, bank, clock = self.env, self.bank, time.perf_counter
        seconds, agent_steps = 0.0, 0
        for _ in range(n):
            agent = env.agent_selection
            start = clock()
            _, _, termination, truncation, _ = env.last()
            seconds += clock() - start
            if termination or truncation:
                action = None
            else:
                action = bank[agent][self.t % 64]
                agent_steps += 1
            self.t += 1
            start = clock()
            env.step(action)
            if not env.agents:
                env.reset()
            seconds += clock() - start
        return Run(seconds, agent_steps, None)


class CoreRunner(Runner):
    """The raw batched core: ``step``, ``reset_where`` (truncated or nobody alive), ``observe``."""

    def __init__(self, scenario: str, batch: int, seed: int) -> None:
        from sd_env import core
        from sd_env.scenarios import make_params

        self.core, self.params, self.batch = core, make_params(scenario), batch
        self.rng = np.random.default_rng(seed)
        nvec = core.action_upper_bounds(self.params)
        count = bank_length(batch * self.params.n_states, len(nvec))
        bank = action_bank(nvec, batch * self.params.n_states, count, seed + 1)
        self.bank = bank.reshape(count, batch, self.params.n_states, len(nvec))
        self.state = core.reset(self.params, batch, self.rng)
        self.observation = core.observe(self.params, self.state, self.rng)
        self.t = 0

    def run(self, n: int) -> Run:
        core, params, rng, clock = self.core, self.params, self.rng, time.perf_counter
        state = self.state
        seconds, agent_steps = 0.0, 0
        for _ in range(n):
            actions = self.bank[self.t % len(self.bank)]
            self.t += 1
            agent_steps += int(np.count_nonzero(state.alive))
            start = clock()
            state, outcome = core.step(params, state, actions, rng)
            done = outcome.truncated | ~state.alive.any(axis=1)
            state = core.reset_where(params, state, done, rng)
            self.observation = core.observe(params, state, rng)
            seconds += clock() - start
        self.state = state
        return Run(seconds, agent_steps, n * self.batch)


class VecEnvRunner(Runner):
    """An SB3 ``VecEnv`` stepped with a (rows, A) action array; auto-reset is the VecEnv's own."""

    def __init__(self, vec_env, rows_per_env: int, acting: Callable[[], int], seed: int) -> None:
        self.env, self.acting = vec_env, acting
        self.num_envs = vec_env.num_envs // rows_per_env
        nvec = vec_env.action_space.nvec
        self.bank = action_bank(nvec, vec_env.num_envs, bank_length(vec_env.num_envs, len(nvec)), seed + 1)
        vec_env.reset()
        self.t = 0

    def run(self, n: int) -> Run:
        env, clock = self.env, time.perf_counter
        seconds, agent_steps = 0.0, 0
        for _ in range(n):
            actions = self.bank[self.t % len(self.bank)]
            self.t += 1
            agent_steps += self.acting()
            start = clock()
            env.step(actions)
            seconds += clock() - start
        return Run(seconds, agent_steps, n * self.num_envs)


#: What a VecEnv maker returns: the VecEnv, its rows per environment, and a count of the agents acting now.
VecEnvParts = tuple[Any, int, Callable[[], int]]


def make_sd_vec_env(scenario: str, num_envs: int, seed: int) -> VecEnvParts:
    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    env = SecurityDilemmaVecEnv(num_envs=num_envs, scenario=scenario, seed=seed)

    def acting() -> int:
        return int(np.count_nonzero(env.core_state.alive[:, env.learner_seats]))

    return env, env.n_learners, acting


def make_supersuit_vec_env(scenario: str, num_envs: int, seed: int) -> VecEnvParts:
    import supersuit

    from sd_env import security_dilemma_v0

    parallel = security_dilemma_v0.parallel_env(scenario=scenario)
    # black_death_v3 is required: sd-env removes eliminated states, which MarkovVectorEnv rejects otherwise.
    vec = supersuit.pettingzoo_env_to_vec_env_v1(supersuit.black_death_v3(parallel))
    vec = supersuit.concat_vec_envs_v1(vec, num_envs, num_cpus=0, base_class="stable_baselines3")
    vec.venv.reset(seed=seed)  # ConcatVecEnv seeds copy i with seed + i (SB3VecEnvWrapper.seed is unsupported)
    markov_envs = vec.venv.vec_envs

    def acting() -> int:
        return sum(len(markov.par_env.unwrapped.agents) for markov in markov_envs)

    return vec, len(parallel.possible_agents), acting
