"""PettingZoo-style module for the security-dilemma environment: ``env``, ``raw_env``, ``parallel_env``.

    from sd_env import security_dilemma_v0
    env = security_dilemma_v0.parallel_env(scenario="jervis-1")
"""

from __future__ import annotations

from typing import Any

from pettingzoo.utils import wrappers
from pettingzoo.utils.conversions import parallel_to_aec_wrapper

from sd_env import core
from sd_env.parallel import SecurityDilemmaEnv


class SecurityDilemmaAECEnv(parallel_to_aec_wrapper):
    """PettingZoo's AEC conversion of :class:`SecurityDilemmaEnv`, checking each action at the step it is given.

    The plain conversion stores every agent's action and hands them all to the parallel environment at
    the last agent's step: a bad action of an earlier agent would be reported there, under another
    agent's turn, and stay stored, so every later step would fail until ``reset()``. Here a bad action
    raises ``ValueError`` at its own step (the parallel environment's message, naming the agent and its
    action space), nothing is stored, and the same agent may step again with a valid action.
    """

    env: SecurityDilemmaEnv

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        # A dead agent's step (action None) is the wrapper's business: it has no action space to check.
        if not (self.terminations[agent] or self.truncations[agent]):
            # The core's test directly (every agent's every step passes here); the parallel environment's
            # check_action, which runs the same test, only to raise with its message.
            if core.checked_action(self.env.params, action) is None:
                self.env.check_action(agent, action)
        super().step(action)


def parallel_env(**kwargs: Any) -> SecurityDilemmaEnv:
    """The parallel environment; keyword arguments as in :class:`SecurityDilemmaEnv`."""
    return SecurityDilemmaEnv(**kwargs)


def raw_env(**kwargs: Any) -> SecurityDilemmaAECEnv:
    """The AEC environment without wrappers (PettingZoo's conversion of the parallel one, checking each action)."""
    return SecurityDilemmaAECEnv(SecurityDilemmaEnv(**kwargs))


def env(**kwargs: Any) -> wrappers.OrderEnforcingWrapper:
    """The AEC environment with PettingZoo's order-enforcing wrapper."""
    return wrappers.OrderEnforcingWrapper(raw_env(**kwargs))
