"""PettingZoo-style module for the security-dilemma environment: ``env``, ``raw_env``, ``parallel_env``.

    from sd_env import security_dilemma_v0
    env = security_dilemma_v0.parallel_env(scenario="jervis-1")
"""

from __future__ import annotations

from typing import Any

from pettingzoo.utils import wrappers
from pettingzoo.utils.conversions import parallel_to_aec_wrapper

from sd_env.parallel import SecurityDilemmaEnv


def parallel_env(**kwargs: Any) -> SecurityDilemmaEnv:
    """The parallel environment; keyword arguments as in :class:`SecurityDilemmaEnv`."""
    return SecurityDilemmaEnv(**kwargs)


def raw_env(**kwargs: Any) -> parallel_to_aec_wrapper:
    """The AEC environment without wrappers (PettingZoo's conversion of the parallel one)."""
    return parallel_to_aec_wrapper(SecurityDilemmaEnv(**kwargs))


def env(**kwargs: Any) -> wrappers.OrderEnforcingWrapper:
    """The AEC environment with PettingZoo's order-enforcing wrapper."""
    return wrappers.OrderEnforcingWrapper(raw_env(**kwargs))
