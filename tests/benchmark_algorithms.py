"""Algorithms for the benchmark-protocol tests (``sd-env benchmark --algo tests.benchmark_algorithms:NAME``).

Each is ``train(env_factory, budget, seed) -> policy``; most break one rule of the protocol.
"""

from __future__ import annotations

import numpy as np

from sd_env.experiments.studies.benchmark import BudgetExceeded


class Restrained:
    """Spends nothing on arms and never attacks (a valid policy, without training)."""

    def __init__(self, action_length: int, shape=None, dtype=np.int64, fill: int = 0) -> None:
        self.action_length, self.shape, self.dtype, self.fill = action_length, shape, dtype, fill

    def act(self, observations: np.ndarray) -> np.ndarray:
        shape = self.shape or (observations.shape[0], self.action_length)
        return np.full(shape, self.fill, dtype=self.dtype)


def _action_length(env_factory) -> int:
    env = env_factory()
    return int(env.action_space(env.possible_agents[0]).shape[0])


def play(env_factory, steps: int, seed: int) -> None:
    """Take ``steps`` parallel steps with random actions, in one environment."""
    env = env_factory()
    env.reset(seed=seed)
    for _ in range(steps):
        if not env.agents:
            env.reset()
        env.step({agent: env.action_space(agent).sample() for agent in env.agents})


def valid(env_factory, budget, seed):
    play(env_factory, min(budget, 50), seed)
    return Restrained(_action_length(env_factory))


def raises(env_factory, budget, seed):
    return 1 / 0


def returns_none(env_factory, budget, seed):
    return None


def wrong_shape(env_factory, budget, seed):
    return Restrained(_action_length(env_factory), shape=(3,))


def float_actions(env_factory, budget, seed):
    return Restrained(_action_length(env_factory), dtype=np.float64)


def outside_space(env_factory, budget, seed):
    return Restrained(_action_length(env_factory), fill=99)


class _Raising:
    def act(self, observations):
        raise RuntimeError("no network loaded")


def act_raises(env_factory, budget, seed):
    return _Raising()


def over_budget(env_factory, budget, seed):
    play(env_factory, budget + 1, seed)
    return Restrained(_action_length(env_factory))


def over_budget_caught(env_factory, budget, seed):
    """Swallows the budget error and returns a policy anyway: still over budget."""
    try:
        play(env_factory, budget + 1, seed)
    except BudgetExceeded:
        pass
    return Restrained(_action_length(env_factory))


def many_envs(env_factory, budget, seed):
    """Spreads its steps over several environments: they all count."""
    for index in range(4):
        play(env_factory, budget // 4, seed + index)
    play(env_factory, 1, seed)  # one more than the budget
    return Restrained(_action_length(env_factory))


not_callable = 3
